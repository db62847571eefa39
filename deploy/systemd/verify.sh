#!/usr/bin/env bash
# Check the systemd units offline: "systemd-analyze verify" must print
# nothing (it exits 0 on unknown keys, so its output is what counts), and
# "systemd-analyze security" must rate each unit's exposure at most 2.0
# ("OK"; 10 is an unhardened service). The units' environment files are
# checked by deploy/validate.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify wants ExecStart's binary to exist: point the units at a fresh build.
CGO_ENABLED=0 go build -o "$work/signgate" ./cmd/signgate
for unit in deploy/systemd/*.service; do
  sed "s|/usr/local/bin/signgate|$work/signgate|g" "$unit" >"$work/$(basename "$unit")"
done
out=$(cd "$work" && systemd-analyze verify ./*.service 2>&1) || true
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "systemd: FAIL: systemd-analyze verify complained" >&2
  exit 1
fi
for unit in "$work"/*.service; do
  (cd "$work" && systemd-analyze security --offline=true --threshold=20 "$unit" | tail -1) ||
    { echo "systemd: FAIL: $(basename "$unit") is exposed above 2.0" >&2; exit 1; }
done
echo "systemd: ok"
