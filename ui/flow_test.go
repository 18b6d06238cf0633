package ui

import (
	"fmt"
	"testing"

	"mfelab/session"
)

func TestEveryArrowKindHasItsOwnLookBesidesColour(t *testing.T) {
	seen := map[string]session.ArrowKind{}
	for k := range session.ArrowKinds {
		st := arrowStyles[k]
		if st.colour.A == 0 {
			t.Fatalf("%s has no style", k)
		}
		// the label's mark, line pattern and head tell kinds apart without colour
		look := fmt.Sprintf("%s|%v|%d", k.Mark(), st.pattern, st.head)
		if other, dup := seen[look]; dup {
			t.Errorf("%s and %s look alike but for colour", k, other)
		}
		seen[look] = k
	}
}
