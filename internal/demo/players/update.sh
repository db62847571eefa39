#!/usr/bin/env bash
# Refreshes the demo page's players from npm at the pinned versions below
# (run by `make players`; the copies committed here are what the binary
# embeds and serves). Needs npm and network access to the npm registry.
#
#   hls.min.js        hls.js, dist/hls.min.js             Apache-2.0, LICENSE.hls.js
#   dash.all.min.js   dashjs, dist/modern/umd/dash.all.min.js  BSD-3-Clause, LICENSE.dashjs.md
set -euo pipefail
HLS_VERSION=1.7.4
DASH_VERSION=5.2.1
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "hls.js@$HLS_VERSION" "dashjs@$DASH_VERSION" >/dev/null)
mkdir "$tmp/hls" "$tmp/dash"
tar -xzf "$tmp/hls.js-$HLS_VERSION.tgz" -C "$tmp/hls"
tar -xzf "$tmp/dashjs-$DASH_VERSION.tgz" -C "$tmp/dash"
cp "$tmp/hls/package/dist/hls.min.js" hls.min.js
cp "$tmp/hls/package/LICENSE" LICENSE.hls.js
cp "$tmp/dash/package/dist/modern/umd/dash.all.min.js" dash.all.min.js
cp "$tmp/dash/package/LICENSE.md" LICENSE.dashjs.md
printf 'hls.js %s\ndashjs %s\n' "$HLS_VERSION" "$DASH_VERSION" > VERSIONS
ls -l hls.min.js dash.all.min.js
