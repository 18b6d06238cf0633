//go:build !nogui && !release

package main

// releaseBuild says the binary was built for release (fyne package -release sets the tag).
const releaseBuild = false
