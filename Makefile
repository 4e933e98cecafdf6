# edgegw — build, test, run, bench, cross.
# `make test` is the whole suite CI runs (see .ci/run).

GO        ?= go
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOFLAGS_B := -trimpath -ldflags '$(LDFLAGS)'
CONFIG    ?= examples/demo.yaml

export CGO_ENABLED = 0

.PHONY: all build run test test-go fuzz bench fleetbench cross check-cross test-arm smoke-arm test-systemd test-buildroot vendor clean crashtest

all: build

## build: the host binary bin/gateway (static, CGO_ENABLED=0)
build:
	$(GO) build $(GOFLAGS_B) -o bin/gateway ./cmd/gateway

## run: the gateway on the built-in demo config (simulated sensors, local broker on 127.0.0.1:1883)
run: build
	./bin/gateway run -config $(CONFIG)

## test: vet, the race-enabled test suite, and a bounded fuzz pass of the codec; ends with one line
## "N passed, N failed, N skipped" (the Go tests of the race run)
test: test-go fuzz test-systemd check-cross test-arm smoke-arm test-buildroot
	@./cross/testsummary.sh summary bin/test-go.log

# After the race run, the broker's tests that -race would distort, in a normal build: memory (RSS per idle
# connection ≤ 12 KiB; deep SUBSCRIBEs; large partial packets; messages stored once for 1,000 persistent
# sessions) and logins under a bcrypt attack.
test-go:
	$(GO) vet ./...
	./cross/testsummary_test.sh
	CGO_ENABLED=1 ./cross/testsummary.sh run bin/test-go.log $(GO) test -race -count=1 -timeout 20m -v ./...
	$(GO) test -count=1 -run '^(TestBroker_idleMemory|TestBroker_topicLimits_memory|TestBroker_largePartialPackets_memory|TestBroker_auth_underAttack|TestBroker_held_memory)$$' ./mqttcore/broker

## crashtest: CYCLES power cuts of the real gateway on the power-cut simulator (offline/crashfs: root, /dev/fuse);
## `make test` runs 50 of them (TestPowerCut's default) and the simulator's control run
CYCLES ?= 1000
crashtest:
	EDGEGW_CRASH_CYCLES=$(CYCLES) $(GO) test -count=1 -timeout 0 -v -run '^TestPowerCut' ./cmd/gateway

# Each fuzz target runs for a number of executions (go test -fuzz takes one target at a time): the MQTT
# codec, the queue's record decoder and the config parser — everything that reads untrusted bytes. A count,
# not a duration: with -fuzztime <duration>, Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" at the deadline on a loaded machine (golang/go#75804, fixed in Go 1.27), with
# no crasher found. Counts are ~6-15 s each here; FUZZTIME=30s (or 1000000x) overrides them for every target.
FUZZPKGS ?= ./mqttcore/packet=300000x ./offline=300000x ./config=40000x
FUZZTIME ?=
fuzz:
	@for pn in $(FUZZPKGS); do \
		p=$${pn%%=*}; n=$${pn#*=}; [ "$$n" != "$$pn" ] || n=100000x; [ -z "$(FUZZTIME)" ] || n=$(FUZZTIME); \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "fuzz $$p $$t for $$n"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $$n $$p || exit 1; \
		done; \
	done

## bench: our broker and Mosquitto side by side, one table of ratios; then flash wear (bytes, fsyncs per message)
bench: build
	$(GO) build $(GOFLAGS_B) -o bin/mqttbench ./cmd/mqttbench
	./bin/mqttbench compare -durable -drain
	./bin/mqttbench wear

## fleetbench: FLEET gateway processes bridged to one Mosquitto, which stops for each of OUTAGES and restarts
## on the same port: reconnect storm at the upstream, recovery time, loss, upstream CPU/RSS, gateway RSS
FLEET   ?= 200
OUTAGES ?= 60s,500ms
fleetbench: build
	$(GO) build $(GOFLAGS_B) -o bin/mqttbench ./cmd/mqttbench
	./bin/mqttbench fleet -gateways $(FLEET) -outages $(OUTAGES) $(FLEETFLAGS)

## cross: static ARM binaries (armv6 for Pi Zero/1, armv7, arm64)
cross:
	GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gateway-linux-armv6 ./cmd/gateway
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gateway-linux-armv7 ./cmd/gateway
	GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_B) -o bin/gateway-linux-arm64 ./cmd/gateway

# The stripped armv6 binary's size budget and static linkage (sizes are printed).
check-cross: cross
	./cross/check-static.sh

## test-arm: the packages' tests as armv6 and arm64 binaries under qemu-user
test-arm:
	./cross/test-arm.sh

## smoke-arm: the armv6 binary runs the demo under qemu; a host client gets a reading; READY=1 is sent
smoke-arm: cross
	./cross/smoke-arm.sh bin/gateway-linux-armv6 "qemu-arm-static -cpu arm1176"
	./cross/smoke-arm.sh bin/gateway-linux-arm64 qemu-aarch64-static

## test-systemd: systemd-analyze verify on the unit in a staged root
test-systemd:
	./systemd/verify.sh

## test-buildroot: a vendored copy builds offline with Buildroot's exact go build line
test-buildroot:
	./cross/buildroot-offline.sh

## vendor: vendor/ for Buildroot's local-source package (Buildroot builds with -mod=vendor, GOPROXY=off)
vendor:
	$(GO) mod vendor

clean:
	rm -rf bin
