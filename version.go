package main

import (
	_ "embed"
	"fmt"

	"github.com/BurntSushi/toml"
)

// fyneAppTOML is the app's metadata file, the one place its version is written. The fyne
// tool reads the same file when it packages the app, so the binary, the window and the
// package cannot name different versions.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

// appMetadata is what the lab reads of FyneApp.toml.
type appMetadata struct {
	Details struct {
		Name    string
		ID      string
		Version string
		Build   int
	}
	Migrations map[string]bool
}

// readMetadata parses the embedded FyneApp.toml.
func readMetadata() (appMetadata, error) {
	var m appMetadata
	if _, err := toml.Decode(string(fyneAppTOML), &m); err != nil {
		return m, fmt.Errorf("FyneApp.toml: %w", err)
	}
	if m.Details.Version == "" {
		return m, fmt.Errorf("FyneApp.toml: [Details] has no Version")
	}
	return m, nil
}

// appVersion is the release named in FyneApp.toml, or "unknown" if the file built into the
// binary cannot be read (a test catches that before it ships).
func appVersion() string {
	m, err := readMetadata()
	if err != nil {
		return "unknown"
	}
	return m.Details.Version
}
