package assets

import (
	"os"
	"testing"
)

// The guide built into the binary is the one in docs/.
func TestTheBuiltInGuideIsDocsGuide(t *testing.T) {
	want, err := os.ReadFile("../docs/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	if GuideMD != string(want) {
		t.Fatal("assets/guide.md differs from docs/guide.md: run go generate ./assets")
	}
}
