package session

import (
	"testing"
)

// lcsLen is the length of a longest common subsequence by the textbook table, the
// reference the aligner is held to.
func lcsLen(a, b []byte) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkAlignment fails unless pairs is a common subsequence of a and b as long as the
// longest one.
func checkAlignment(t *testing.T, a, b []byte, pairs [][2]int) {
	t.Helper()
	last := [2]int{-1, -1}
	for _, p := range pairs {
		if p[0] <= last[0] || p[1] <= last[1] || p[0] >= len(a) || p[1] >= len(b) {
			t.Fatalf("align(%q, %q): pairs %v are not increasing within bounds", a, b, pairs)
		}
		if a[p[0]] != b[p[1]] {
			t.Fatalf("align(%q, %q): pair %v matches %q with %q", a, b, p, a[p[0]], b[p[1]])
		}
		last = p
	}
	if want := lcsLen(a, b); len(pairs) != want {
		t.Fatalf("align(%q, %q) matched %d, the longest common subsequence has %d: %v", a, b, len(pairs), want, pairs)
	}
}

func alignBytes(a, b []byte) [][2]int {
	return align(len(a), len(b), func(i, j int) bool { return a[i] == b[j] })
}

func TestAlignFindsALongestCommonSubsequence(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"two empty flows have nothing to align", "", ""},
		{"an empty flow aligns with nothing", "", "abc"},
		{"equal flows align element for element", "abcdef", "abcdef"},
		{"one inserted delivery leaves the rest aligned", "abcdef", "abcXdef"},
		{"one removed delivery leaves the rest aligned", "abcXdef", "abcdef"},
		{"a changed middle keeps both ends", "abcdef", "abXYef"},
		{"flows with nothing in common align nothing", "abc", "xyz"},
		{"a common tail is found after a different head", "ABCDEFGz", "abz"},
		{"the classic example of the paper", "abcabba", "cbabac"},
		{"repeated deliveries align in order", "aaaabaaaa", "aaabaaaaa"},
		{"an odd difference in length meets in the middle", "abcde", "ace"},
		{"reversed flows keep one element", "abcd", "dcba"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAlignment(t, []byte(tt.a), []byte(tt.b), alignBytes([]byte(tt.a), []byte(tt.b)))
		})
	}
}

func FuzzAlign(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"abcabba", "cbabac"}, {"abc", "xyz"}, {"aaaabaaaa", "aaabaaaaa"},
		{"abcdefghij", "abXdefYhij"}, {"\x00\x01\x00", "\x01\x00\x01\x00"}} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) > 300 || len(b) > 300 {
			return // the reference table is quadratic
		}
		// few distinct values make long common subsequences, where alignment is hard
		for i := range a {
			a[i] %= 4
		}
		for i := range b {
			b[i] %= 4
		}
		checkAlignment(t, a, b, alignBytes(a, b))
	})
}

func TestAlignIsLinearInMemoryForFlowsWithNothingInCommon(t *testing.T) {
	a, b := make([]byte, 3000), make([]byte, 3000)
	for i := range b {
		b[i] = 1
	}
	if got := alignBytes(a, b); len(got) != 0 {
		t.Fatalf("matched %d", len(got))
	}
}
