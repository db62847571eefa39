#!/usr/bin/env bash
# Run deploy/compose/compose.yaml for real, with podman-compose (this CI
# has no Docker engine), on free loopback ports, and walk the demo: the
# app answers through the gateway, demo/demo signs in, a media request is
# redirected to a signed edge URL, the edge serves it and refuses it
# unsigned; HLS and DASH manifests come back rewritten (the gateway
# fetches them from the edge inside the container) and a segment of each
# plays from its signed URL. Needs the image deploy/image/build.sh makes
# (IMAGE).
set -euo pipefail
cd "$(dirname "$0")/../.."
export IMAGE=${IMAGE:-localhost/signgate:ci}
work=$(mktemp -d)
project=signgate-demo-ci-$$
fail() { echo "compose: FAIL: $*" >&2; exit 1; }

# crun cannot start containers in some nested environments (this CI's
# among them); runc can, given explicit limits. podman-compose runs podman,
# which reads this file.
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export PORT EDGE_PORT
PORT=$(freeport)
EDGE_PORT=$(freeport)
compose() { podman-compose -p "$project" -f deploy/compose/compose.yaml "$@"; }
cleanup() {
  compose down -t 5 >/dev/null 2>&1 || true
  # podman-compose 1.0 leaves the project's network behind.
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

podman image exists "$IMAGE" || fail "no image $IMAGE: run deploy/image/build.sh first"
timeout 120 podman-compose -p "$project" -f deploy/compose/compose.yaml up -d --no-build >"$work/up.log" 2>&1 ||
  { cat "$work/up.log"; fail "podman-compose up"; }

gw="http://127.0.0.1:$PORT"
for i in $(seq 1 100); do
  curl -fs -o /dev/null --max-time 2 "$gw/login" && break
  [ "$i" = 100 ] && { compose logs >&2 || true; fail "the demo did not answer on $gw"; }
  sleep 0.2
done
jar="$work/cookies"
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -d 'user=demo&password=demo' "$gw/login")
[ "$code" = 303 ] || fail "login: HTTP $code"
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" "$gw/media/progressive.webm")
case "$loc" in "http://localhost:$EDGE_PORT/media/progressive.webm?auth="*) ;; *) fail "media redirect to \"$loc\"" ;; esac
code=$(curl -s -o "$work/video" -w '%{http_code}' "${loc/localhost/127.0.0.1}")
[ "$code" = 200 ] && [ -s "$work/video" ] || fail "the edge answered $code to the signed URL"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EDGE_PORT/media/progressive.webm")
[ "$code" = 401 ] || fail "the edge answered $code to an unsigned request"
code=$(curl -s -o /dev/null -w '%{http_code}' "$gw/media/progressive.webm")
[ "$code" = 401 ] || fail "an anonymous media request got $code, want 401"

# Manifest mode: the gateway fetches the manifest from the edge's URL
# itself, inside the container, and rewrites it.
edge="http://localhost:$EDGE_PORT"
manifest() { # path, output file: GET through the gateway, want 200
  local code
  code=$(curl -s -o "$2" -w '%{http_code}' -b "$jar" "$gw$1")
  [ "$code" = 200 ] || fail "manifest $1: HTTP $code: $(head -c 300 "$2")"
}
segment() { # signed edge URL, what it is: GET it, want 200 and bytes
  local code
  case "$1" in "$edge/"*"auth="*) ;; *) fail "$2: not a signed edge URL: \"$1\"" ;; esac
  code=$(curl -s -o "$work/segment" -w '%{http_code}' "${1/localhost/127.0.0.1}")
  [ "$code" = 200 ] && [ -s "$work/segment" ] || fail "$2: the edge answered $code"
}
manifest /media/hls/master.m3u8 "$work/master.m3u8"
variant=$(grep -v '^#' "$work/master.m3u8" | head -1)
case "$variant" in /media/hls/*.m3u8) ;; *) fail "HLS variant \"$variant\" is not a gateway path" ;; esac
manifest "$variant" "$work/variant.m3u8"
segment "$(grep -v '^#' "$work/variant.m3u8" | head -1)" "HLS segment"
manifest /media/dash/manifest.mpd "$work/manifest.mpd"
init=$(grep -o 'initialization="[^"]*"' "$work/manifest.mpd" | head -1 | sed 's/^initialization="//; s/"$//; s/&amp;/\&/g; s/\$RepresentationID\$/0/')
segment "$init" "DASH initialization segment"

echo "compose: ok (demo on 127.0.0.1:$PORT, edge on 127.0.0.1:$EDGE_PORT, $(wc -c <"$work/video") bytes of video through a signed URL, HLS and DASH manifests rewritten and a segment of each fetched)"
