# MFE Lab. `make run` starts the app, `make test` checks everything.
GO          ?= go
BIN         := bin/mfelab
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build deps display-deps test fmt-check vet unit bench lint e2e clean

run: build
	./$(BIN)

build: deps
	$(GO) build -o $(BIN) .

# Installs the system packages the cgo GUI build needs, or says which to install.
deps:
	@.ci/deps

test: deps fmt-check vet unit

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bus/... ./history/... ./session/... ./ui/...
	cd bench && $(GO) test -run '^$$' -bench . -benchmem .

# Builds the real binary, runs a scenario in it under a virtual display, checks its screenshot.
e2e: display-deps build
	.ci/e2e $(BIN)

display-deps:
	@.ci/deps --display

lint: deps
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
