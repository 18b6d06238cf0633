# MFE Lab. `make run` starts the app, `make test` checks everything.
GO          ?= go
BIN         := bin/mfelab
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FYNE        := fyne.io/tools/cmd/fyne@v1.7.4
# Name, app ID and version come from FyneApp.toml, the only place they are written.
toml         = $(shell sed -n 's/^$(1) *= *"\(.*\)"/\1/p' FyneApp.toml)
APPNAME     := $(call toml,Name)
APPID       := $(call toml,ID)
VERSION     := $(call toml,Version)
PACKAGE     := bin/mfelab-$(VERSION)-linux-$(shell $(GO) env GOARCH).tar.xz

.PHONY: run build deps display-deps test fmt-check vet unit bench lint e2e screenshots package install uninstall clean

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

# Takes the guide's pictures again (docs/guide/shots.txt lists them) in the real window.
screenshots: display-deps build
	docs/screenshots.sh $(BIN)

# The desktop package for Linux: the release binary, its desktop entry and icon, as a
# tarball in bin/. The fyne tool adds one to Build in FyneApp.toml after each package;
# the file is put back as written, so packaging leaves the tree clean.
package: deps
	@mkdir -p bin && cp FyneApp.toml bin/FyneApp.toml.orig
	$(GO) run $(FYNE) package -os linux -release; status=$$?; \
	  cp bin/FyneApp.toml.orig FyneApp.toml && rm bin/FyneApp.toml.orig; exit $$status
	mv "$(APPNAME).tar.xz" $(PACKAGE)
	@echo "packaged $(PACKAGE)"

# Installs the package for the current user, without root: the binary in ~/.local/bin,
# the desktop entry in ~/.local/share/applications, the icon in ~/.local/share/icons
# (packaging first if bin/ holds no package of this version).
install:
	@[ -f $(PACKAGE) ] || $(MAKE) package
	rm -rf bin/unpacked && mkdir -p bin/unpacked && tar -xJf $(PACKAGE) -C bin/unpacked
	$(MAKE) -C bin/unpacked/mfelab user-install
	sed -i 's,^Icon=.*,Icon=$(HOME)/.local/share/icons/$(APPID).png,' $(HOME)/.local/share/applications/$(APPID).desktop
	rm -rf bin/unpacked
	@echo "installed $(APPNAME) $(VERSION): $(HOME)/.local/bin/mfelab (put ~/.local/bin on your PATH)"

uninstall:
	rm -f $(HOME)/.local/bin/mfelab $(HOME)/.local/share/applications/$(APPID).desktop $(HOME)/.local/share/icons/$(APPID).png

lint: deps
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
