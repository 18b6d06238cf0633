package assets

import _ "embed"

// GuideMD is the user guide, docs/guide.md, built in so the window can show it offline and
// from an installed package. It is a copy: after editing docs/guide.md, run
// go generate ./assets (a test fails while the two differ).
//
//go:generate cp ../docs/guide.md guide.md
//go:embed guide.md
var GuideMD string
