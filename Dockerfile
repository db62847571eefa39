# signgate: one static binary on a distroless, non-root base image.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t signgate .
#   docker run --rm signgate version
#
# The image runs as uid 65532 (nonroot) with a read-only root filesystem:
# it writes nothing outside the volumes it is given (the edge's SQLite
# database, SIGNGATE_EDGE_DB). See docs/deploy.md.
#
# BUILDER and RUNTIME name the base images. CI, which cannot pull from a
# registry, passes local stand-ins built from the host's Go toolchain and
# Debian's CA certificates and tzdata (deploy/image/build.sh); every step
# below is exec-form, so neither image needs a shell.

ARG BUILDER=docker.io/library/golang:1.26-bookworm
ARG RUNTIME=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILDER} AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]
RUN ["go", "mod", "verify"]
COPY . .
ARG VERSION=dev
# ENV, unlike an exec-form RUN, expands ${VERSION}; the go command reads
# quoted values in GOFLAGS. -trimpath drops the build paths; -s -w the
# symbol table and DWARF.
ENV CGO_ENABLED=0 \
    GOFLAGS="-trimpath -buildvcs=false '-ldflags=-s -w -X main.version=${VERSION}'"
RUN ["go", "build", "-o", "/out/signgate", "./cmd/signgate"]
# Fail the build, not the deployment, if the binary is not what we meant.
RUN ["/out/signgate", "version"]

FROM ${RUNTIME}
ARG VERSION=dev
LABEL org.opencontainers.image.title="signgate" \
      org.opencontainers.image.description="Signing gateway and verifying edge for Qencode-compatible signed URLs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/signgate/signgate"
COPY --from=build /out/signgate /usr/local/bin/signgate
# nonroot in distroless; numeric, so that Kubernetes' runAsNonRoot can
# check it without reading /etc/passwd.
USER 65532:65532
# gateway, edge media, edge API, gateway metrics
EXPOSE 8080 8081 8082 9090
ENTRYPOINT ["/usr/local/bin/signgate"]
CMD ["help"]
