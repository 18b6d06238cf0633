package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"mfelab/ui"
)

// The version is written once, in FyneApp.toml, which the fyne tool packages from:
// mfelab -version prints exactly that.
func TestVersionPrintsTheOneInFyneAppTOML(t *testing.T) {
	var file struct {
		Details struct{ Version string }
	}
	if _, err := toml.DecodeFile("FyneApp.toml", &file); err != nil {
		t.Fatal(err)
	}
	if file.Details.Version == "" {
		t.Fatal("FyneApp.toml names no [Details] Version")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-version"}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("mfelab -version: exit %d\n%s", code, errb.String())
	}
	if want := "mfelab " + file.Details.Version + "\n"; out.String() != want {
		t.Fatalf("mfelab -version printed %q, FyneApp.toml says %q", out.String(), want)
	}
}

// The window and About get the version from the same place as -version, and the app ID
// there is the one the window asks Fyne for.
func TestTheEmbeddedMetadataIsComplete(t *testing.T) {
	m, err := readMetadata()
	if err != nil {
		t.Fatal(err)
	}
	if m.Details.Name != "MFE Lab" || m.Details.ID != ui.AppID || m.Details.Build < 1 {
		t.Fatalf("FyneApp.toml [Details]: %+v", m.Details)
	}
	if !m.Migrations["fyneDo"] {
		t.Fatal("FyneApp.toml lost [Migrations] fyneDo = true")
	}
}
