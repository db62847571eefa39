#!/usr/bin/env bash
# Build the signgate image from the Dockerfile without pulling anything,
# then run it as Kubernetes will (read-only root filesystem, uid 65532, no
# capabilities, no new privileges) and check that it works.
#
#   deploy/image/build.sh            # build localhost/signgate:ci and test it
#   IMAGE=signgate:dev deploy/image/build.sh
#
# The Dockerfile's base images (golang, gcr.io/distroless/static) cannot be
# pulled where CI runs: only package registries are reachable. So this
# script passes local stand-ins as the BUILDER and RUNTIME build arguments:
#
#   builder  the host's Go toolchain (GOROOT) and exactly the modules go.sum
#            names, copied out of the host's module cache; GOPROXY=off, so
#            the build is offline, and --network=none makes sure of it.
#   runtime  what distroless/static-debian12:nonroot holds, from this Debian
#            host: /etc/passwd and /etc/group with nonroot (65532), CA
#            certificates, tzdata, /tmp, /home/nonroot. No shell, no libc.
#
# Everything else is the Dockerfile as users build it. Needs podman (or set
# PODMAN), curl, tar and go; runs as root or rootless.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-localhost/signgate:ci}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
PODMAN=${PODMAN:-podman}
# crun cannot set up cgroups and rlimits in some nested containers (this
# CI's among them); runc can, given explicit limits.
RUN_FLAGS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
GLOBAL_FLAGS=()
if command -v runc >/dev/null; then GLOBAL_FLAGS=(--runtime runc); fi
pm() { "$PODMAN" "${GLOBAL_FLAGS[@]}" "$@"; }

work=$(mktemp -d)
containers=()
cleanup() {
  for c in "${containers[@]}"; do pm rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "== image: $*"; }
fail() { echo "image: FAIL: $*" >&2; exit 1; }

goversion=$(go env GOVERSION)
builder=localhost/signgate-ci/builder:$goversion
runtime=localhost/signgate-ci/static-nonroot:debian$(. /etc/os-release && echo "${VERSION_ID:-x}")

step "builder stand-in $builder (host $goversion, modules from go.sum)"
go mod download
hostcache=$(go env GOMODCACHE)
mkdir -p "$work/mod"
GOMODCACHE="$work/mod" GOPROXY="file://$hostcache/cache/download" GOSUMDB=off GOFLAGS=-mod=mod \
  go mod download
chmod -R u+w "$work/mod"
mkdir -p "$work/builder/tmp" "$work/builder/go"
chmod 1777 "$work/builder/tmp"
tar -C "$(go env GOROOT)/.." -cf "$work/builder.tar" \
  --anchored --exclude=go/test --exclude=go/api --no-anchored \
  --transform='s,^go\(/\|$\),usr/local/go\1,' "$(basename "$(go env GOROOT)")"
tar -C "$work/builder" -rf "$work/builder.tar" tmp go
tar -C "$work" -rf "$work/builder.tar" --transform='s,^mod\(/\|$\),go/pkg/mod\1,' mod
pm import \
  --change 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV GOPATH=/go' --change 'ENV GOPROXY=off' --change 'ENV GOTOOLCHAIN=local' \
  --change 'ENV GOCACHE=/tmp/go-build' --change 'ENV HOME=/tmp' \
  "$work/builder.tar" "$builder" >/dev/null 2>&1
rm -f "$work/builder.tar"

step "runtime stand-in $runtime (distroless/static:nonroot's files)"
r="$work/runtime"
mkdir -p "$r/etc/ssl/certs" "$r/usr/share" "$r/tmp" "$r/home/nonroot" "$r/root"
chmod 1777 "$r/tmp"
chmod 700 "$r/root" "$r/home/nonroot"
cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$r/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
GROUP
echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
cp -a /usr/share/zoneinfo "$r/usr/share/"
tar -C "$r" --owner=0 --group=0 --exclude=./home/nonroot -cf "$work/runtime.tar" .
tar -C "$r" --owner=65532 --group=65532 -rf "$work/runtime.tar" ./home/nonroot
pm import \
  --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  "$work/runtime.tar" "$runtime" >/dev/null 2>&1

step "build $IMAGE (VERSION=$VERSION) from the Dockerfile, offline"
start=$(date +%s)
timeout 900 "$PODMAN" "${GLOBAL_FLAGS[@]}" build "${RUN_FLAGS[@]}" --pull=never --network=none \
  --build-arg BUILDER="$builder" --build-arg RUNTIME="$runtime" --build-arg VERSION="$VERSION" \
  -t "$IMAGE" -f Dockerfile . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "podman build"; }
echo "built in $(( $(date +%s) - start ))s; $(pm image inspect "$IMAGE" --format '{{.Size}}') bytes"

# run NAME ARGS...: a detached container run as in deploy/kubernetes.
run() {
  local name=$1; shift
  containers+=("$name")
  pm run -d --name "$name" "${RUN_FLAGS[@]}" --network host \
    --read-only --read-only-tmpfs=false --user 65532:65532 \
    --cap-drop all --security-opt no-new-privileges "$@" >/dev/null
}
# addr NAME LISTENER: the address a listener bound, from the JSON log.
addr() {
  local i
  for i in $(seq 1 100); do
    local a
    a=$(pm logs "$1" 2>&1 | jq -r --arg l "$2" 'select(.msg=="listening" and .listener==$l) | .addr' 2>/dev/null | head -1)
    if [ -n "$a" ]; then echo "$a"; return; fi
    if [ "$(pm inspect -f '{{.State.Running}}' "$1")" != true ]; then break; fi
    sleep 0.1
  done
  pm logs "$1" >&2 || true
  fail "$1: no $2 listener"
}
# expect STATUS URL [curl args...]
expect() {
  local want=$1 url=$2; shift 2
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "$@" "$url") || true
  [ "$got" = "$want" ] || { cat "$work/body" >&2; fail "$url: HTTP $got, want $want"; }
}

step "image metadata: user, entrypoint, no shell"
user=$(pm image inspect "$IMAGE" --format '{{.Config.User}}')
[ "$user" = "65532:65532" ] || fail "image user is $user"
if pm run --rm "${RUN_FLAGS[@]}" --network none --entrypoint /bin/sh "$IMAGE" -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi

step "signgate version (read-only root, non-root)"
out=$(pm run --rm "${RUN_FLAGS[@]}" --network none --read-only --read-only-tmpfs=false \
  --cap-drop all --security-opt no-new-privileges "$IMAGE" version)
[ "$out" = "signgate $VERSION" ] || fail "version printed \"$out\", want \"signgate $VERSION\""
echo "$out"

step "gateway: key from a read-only Secret-style mount, /healthz, /readyz, a signed redirect, /metrics"
mkdir -p "$work/gen1" "$work/gen2" "$work/keys" "$work/data" "$work/media/v"
chmod 777 "$work/gen1" "$work/gen2"
# keygen DIR: a new key in DIR/media.pem, made by the image; prints its kid.
keygen() {
  pm run --rm "${RUN_FLAGS[@]}" --network none --read-only --read-only-tmpfs=false \
    --cap-drop all -v "$1:/out" "$IMAGE" keygen --out /out/media.pem | sed -n 's/^kid: *//p'
}
kid=$(keygen "$work/gen1")
[ -n "$kid" ] || fail "keygen printed no kid"
# The layout the kubelet gives a Secret volume: files are symlinks through
# ..data, which an update swaps atomically to a new timestamped directory.
mkdir "$work/keys/..2000_01_01_00_00_00.1"
cp "$work/gen1/media.pem" "$work/keys/..2000_01_01_00_00_00.1/"
printf '%s\n' "$kid" >"$work/keys/..2000_01_01_00_00_00.1/media.kid"
ln -s ..2000_01_01_00_00_00.1 "$work/keys/..data"
ln -s ..data/media.pem "$work/keys/media.pem"
ln -s ..data/media.kid "$work/keys/media.kid"
chmod -R a+rX "$work/keys"
gw=signgate-ci-gateway-$$
run "$gw" -v "$work/keys:/etc/signgate/keys:ro" \
  -e SIGNGATE_LISTEN=127.0.0.1:0 -e SIGNGATE_METRICS_LISTEN=127.0.0.1:0 \
  -e SIGNGATE_AUTH=header -e SIGNGATE_TRUSTED_PROXIES=127.0.0.1 \
  -e SIGNGATE_ROUTES_0_PREFIX=/media -e SIGNGATE_ROUTES_0_BUCKET=demo -e SIGNGATE_ROUTES_0_REGION=us-west \
  -e SIGNGATE_ROUTES_0_KEY_FILE=/etc/signgate/keys/media.pem -e SIGNGATE_ROUTES_0_KEY_ID_FILE=/etc/signgate/keys/media.kid \
  "$IMAGE" gateway
g=$(addr "$gw" gateway)
m=$(addr "$gw" metrics)
[ "$(pm inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}' "$gw")" = "true 65532:65532" ] ||
  fail "the gateway container is not read-only and non-root"
expect 200 "http://$g/healthz"
expect 200 "http://$g/readyz"
expect 302 "http://$g/media/v/clip.mp4" -H 'X-Forwarded-User: ci'
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -H 'X-Forwarded-User: ci' "http://$g/media/v/clip.mp4")
case "$loc" in https://demo.media-storage.us-west.qencode.com/media/v/clip.mp4\?auth=ey*) ;; *) fail "Location $loc" ;; esac
expect 401 "http://$g/media/v/clip.mp4"
expect 200 "http://$m/metrics"
grep -q '^signgate_' "$work/body" || fail "/metrics has no signgate_ series"

step "gateway: the Secret is updated as the kubelet does it; the new key and kid sign, no restart"
kid2=$(keygen "$work/gen2")
mkdir "$work/keys/..2000_01_01_00_01_00.2"
cp "$work/gen2/media.pem" "$work/keys/..2000_01_01_00_01_00.2/"
printf '%s\n' "$kid2" >"$work/keys/..2000_01_01_00_01_00.2/media.kid"
chmod -R a+rX "$work/keys"
ln -s ..2000_01_01_00_01_00.2 "$work/keys/..data_tmp"
mv -T "$work/keys/..data_tmp" "$work/keys/..data"
rm -rf "$work/keys/..2000_01_01_00_00_00.1"
for i in $(seq 1 100); do
  now=$(curl -s -o /dev/null -w '%{redirect_url}' -H 'X-Forwarded-User: ci' "http://$g/media/v/clip.mp4")
  [ "$now" != "$loc" ] && break
  [ "$i" = 100 ] && fail "the gateway still signs with the old key 10 s after the Secret changed"
  sleep 0.1
done
# The new key signs as soon as it is swapped in; the log line that follows
# reaches "podman logs" through conmon a moment later.
for i in $(seq 1 50); do
  pm logs "$gw" 2>&1 | grep -q '"msg":"key reloaded"' && break
  [ "$i" = 50 ] && fail "no \"key reloaded\" in the gateway's log 5 s after the new key signed"
  sleep 0.1
done
hdr=$(printf '%s' "${now#*auth=}" | cut -d. -f1 | tr '_-' '/+')
while [ $(( ${#hdr} % 4 )) != 0 ]; do hdr="$hdr="; done
printf '%s' "$hdr" | base64 -d | grep -q "\"kid\":\"$kid2\"" || fail "the new token does not carry the new kid"
expect 200 "http://$g/readyz"
[ "$(pm inspect -f '{{.RestartCount}}' "$gw")" = 0 ] || fail "the gateway restarted"

step "edge: SQLite on a volume, /healthz, /readyz, a key through the API, a file, /metrics"
printf 'SEGMENT' >"$work/media/v/seg.ts"
chmod -R a+rX "$work/media"
chown 65532:65532 "$work/data" 2>/dev/null || chmod 777 "$work/data"
apikey=ci-api-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ed=signgate-ci-edge-$$
run "$ed" -v "$work/data:/var/lib/signgate" -v "$work/media:/srv/media:ro" \
  -e SIGNGATE_EDGE_LISTEN=127.0.0.1:0 -e SIGNGATE_EDGE_API_LISTEN=127.0.0.1:0 \
  -e SIGNGATE_EDGE_METRICS_LISTEN=127.0.0.1:0 \
  -e SIGNGATE_EDGE_DB=/var/lib/signgate/edge.db -e SIGNGATE_EDGE_SINGLE_BUCKET=true \
  -e SIGNGATE_EDGE_BUCKETS_0_NAME=media -e SIGNGATE_EDGE_BUCKETS_0_ORIGIN=/srv/media \
  -e SIGNGATE_EDGE_API_KEYS="$apikey" \
  "$IMAGE" edge
e=$(addr "$ed" edge)
a=$(addr "$ed" api)
expect 200 "http://$a/healthz"
expect 200 "http://$a/readyz"
expect 200 "http://$e/v/seg.ts"
[ "$(cat "$work/body")" = SEGMENT ] || fail "edge served $(cat "$work/body")"
expect 200 "http://$a/v1/access_token/$apikey" -X POST
tok=$(jq -r .access_token "$work/body")
expect 200 "http://$a/v1/signing-keys" -X POST -H "Authorization: Bearer $tok" -d '{"bucket":"media"}'
[ -s "$work/data/edge.db" ] || fail "no database on the volume"
em=$(addr "$ed" metrics)
expect 200 "http://$em/metrics"
grep -q '^signgate_edge_requests_total{bucket="media",code="200"} 1$' "$work/body" || fail "edge /metrics does not count the file served"
if pm logs "$ed" 2>&1 | grep -q -e "$apikey" -e "$tok" -e 'PRIVATE KEY'; then fail "a secret reached the edge's log"; fi

step "SIGTERM drains and exits 0"
for c in "$gw" "$ed"; do
  pm stop -t 30 "$c" >/dev/null
  code=$(pm inspect -f '{{.State.ExitCode}}' "$c")
  [ "$code" = 0 ] || { pm logs "$c" | tail -5; fail "$c exited $code"; }
  pm logs "$c" 2>&1 | grep -q '"msg":"stopped"' || fail "$c did not drain"
done
echo "image: ok ($IMAGE, signgate $VERSION)"
