#!/usr/bin/env bash
# Run deploy/compose/compose.yaml for real, with podman-compose (this CI
# has no Docker engine), on free loopback ports, and walk the demo: the
# app answers through the gateway, demo/demo signs in, a media request is
# redirected to a signed edge URL, the edge serves it and refuses it
# unsigned. Needs the image deploy/image/build.sh makes (IMAGE).
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
echo "compose: ok (demo on 127.0.0.1:$PORT, edge on 127.0.0.1:$EDGE_PORT, $(wc -c <"$work/video") bytes of video through a signed URL)"
