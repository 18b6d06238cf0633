package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Preference keys. Fyne keeps them per user under the app ID.
const (
	prefWidth     = "window.width"
	prefHeight    = "window.height"
	prefScenario  = "scenario"
	prefSpeed     = "speed"
	prefStorePath = "history.path"
	prefTheme     = "theme"
	prefKeep      = "memory.keep"
)

// Theme choices: the system's, or one forced.
const (
	themeSystem = "system"
	themeLight  = "light"
	themeDark   = "dark"
)

var themeChoices = []string{themeSystem, themeLight, themeDark}

// variantTheme is the default theme held to one variant, for a user who wants light or
// dark whatever the system says.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// applyTheme sets the app's theme to a themeChoices value.
func applyTheme(a fyne.App, choice string) {
	switch choice {
	case themeLight:
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	case themeDark:
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}
