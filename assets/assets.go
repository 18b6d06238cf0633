// Package assets holds the resources embedded in the mfelab binary.
package assets

import _ "embed"

// IconPNG is the application icon: three panels joined by a bus.
//
//go:embed icon.png
var IconPNG []byte
