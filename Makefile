# signgate — common tasks. `make test` is the project's test command: the
# README shows it and .ci/run calls it.

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build test test-short vet fuzz bench screenshot players clean

all: vet test

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o signgate ./cmd/signgate

# Installs what the end-to-end tests need when it is missing (Chromium,
# ffmpeg, PostgreSQL; needs root and apt-get), starts PostgreSQL, then runs
# every test.
test:
	./.ci/test

# Unit tests only; end-to-end tests skip and name the program they miss.
test-short:
	$(GO) test -short ./...

vet:
	gofmt -l . | (! grep .) || (echo "gofmt: files above are not formatted" && false)
	$(GO) vet ./...

# A short bounded pass of every fuzz target: FUZZTIME executions each
# (a count, see .ci/fuzz for why not a duration).
FUZZTIME ?= 20000x
fuzz:
	./.ci/fuzz $(FUZZTIME)

# Refreshes docs/demo.png and the portal's docs/console-*.png from the browser tests (need chromium).
screenshot:
	SIGNGATE_UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run TestBrowserPlaysVideo ./internal/demo
	SIGNGATE_UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run TestBrowserSeedFlow ./edge/console

# Refreshes the demo page's players (hls.js, dash.js) from npm at the
# versions pinned in internal/demo/players/update.sh; commit the result.
players:
	./internal/demo/players/update.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -f signgate
