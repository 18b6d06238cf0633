package bus

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestValidateTopic(t *testing.T) {
	long := strings.Repeat("a", MaxTopicLen+1)
	deep := strings.Repeat("a.", MaxTopicSegments) + "a"
	tests := []struct {
		name    string
		topic   string
		wantErr string // substring; empty means valid
	}{
		{"a single segment is a topic", "cart", ""},
		{"dotted segments with dashes and underscores are fine", "cart.item-added.v_2", ""},
		{"the longest allowed topic is fine", strings.Repeat("a", MaxTopicLen), ""},
		{"an empty topic is refused", "", "empty"},
		{"a leading dot makes an empty segment", ".cart", "empty segment at byte 0"},
		{"a trailing dot makes an empty segment", "cart.", "empty segment at byte 5"},
		{"a double dot makes an empty segment", "cart..added", "empty segment at byte 5"},
		{"a space is not allowed", "cart item", `character ' ' at byte 4`},
		{"a slash is not allowed", "cart/item", `character '/' at byte 4`},
		{"non-ASCII is not allowed", "café", "is not allowed"},
		{"plus is a wildcard, not a topic", "cart.+", "only allowed in subscription patterns"},
		{"hash is a wildcard, not a topic", "cart.#", "only allowed in subscription patterns"},
		{"over 255 bytes is too long", long, "longer than the 255 allowed"},
		{"over 32 segments is too deep", deep, "more than 32 segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTopic(tt.topic)
			checkErr(t, err, tt.wantErr)
			if err != nil && !errors.Is(err, ErrInvalidTopic) {
				t.Errorf("error %v does not wrap ErrInvalidTopic", err)
			}
		})
	}
}

func TestValidatePattern(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantErr string
	}{
		{"a plain topic is a pattern", "cart.added", ""},
		{"plus may stand anywhere", "+.item.+", ""},
		{"hash may end a pattern", "cart.#", ""},
		{"hash alone matches everything", "#", ""},
		{"hash in the middle is refused", "cart.#.added", "`#` must be the last segment"},
		{"a wildcard glued to text is refused", "cart.it+", `character '+'`},
		{"an empty segment is refused", "cart..#", "empty segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidatePattern(tt.pattern), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("want error containing %q, got nil", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("want error containing %q, got %v", want, err)
	}
}

var matchCases = []struct {
	pattern, topic string
	want           bool
}{
	{"cart", "cart", true},
	{"cart", "cart.added", false},
	{"cart.added", "cart", false},
	{"cart.+", "cart.added", true},
	{"cart.+", "cart", false},
	{"cart.+", "cart.item.added", false},
	{"+", "cart", true},
	{"+", "cart.added", false},
	{"+.added", "cart.added", true},
	{"cart.#", "cart", true},
	{"cart.#", "cart.item.added", true},
	{"cart.#", "carts.item", false},
	{"#", "anything.at.all", true},
	{"+.#", "cart", true},
	{"+.+.#", "cart", false},
	{"cart.+.#", "cart.item", true},
	{"a.+.c", "a.b.c", true},
	{"a.+.c", "a.b.d", false},
}

func TestMatchTopic(t *testing.T) {
	for _, tt := range matchCases {
		if got := MatchTopic(tt.pattern, tt.topic); got != tt.want {
			t.Errorf("MatchTopic(%q, %q) = %v, want %v", tt.pattern, tt.topic, got, tt.want)
		}
		if got := naiveMatch(tt.pattern, tt.topic); got != tt.want {
			t.Errorf("the reference matcher disagrees on (%q, %q): %v", tt.pattern, tt.topic, got)
		}
	}
}

func TestTrieMatchesLikeTheTable(t *testing.T) {
	for _, tt := range matchCases {
		var tr trie
		s := &Subscription{id: 1, pattern: tt.pattern}
		tr.insert(s)
		got := len(tr.match(tt.topic, nil)) == 1
		if got != tt.want {
			t.Errorf("trie with %q matching %q = %v, want %v", tt.pattern, tt.topic, got, tt.want)
		}
	}
}

func TestPatternCovers(t *testing.T) {
	tests := []struct {
		outer, inner string
		want         bool
	}{
		{"cart.#", "cart.+.added", true},
		{"cart.#", "cart", true},
		{"cart.#", "cart.#", true},
		{"cart.+", "cart.added", true},
		{"cart.+", "cart.+", true},
		{"cart.added", "cart.+", false},
		{"cart.+", "cart.#", false},
		{"cart", "cart.#", false},
		{"#", "#", true},
		{"+.#", "#", true},
		{"+", "#", false},
		{"cart.#", "#", false},
		{"orders.#", "cart.#", false},
	}
	for _, tt := range tests {
		if got := PatternCovers(tt.outer, tt.inner); got != tt.want {
			t.Errorf("PatternCovers(%q, %q) = %v, want %v", tt.outer, tt.inner, got, tt.want)
		}
	}
}

// naiveMatch is the reference matcher: split both and compare segment by segment.
func naiveMatch(pattern, topic string) bool {
	return naiveSegs(strings.Split(pattern, "."), strings.Split(topic, "."))
}

func naiveSegs(p, t []string) bool {
	if len(p) == 0 {
		return len(t) == 0
	}
	if p[0] == "#" {
		return true
	}
	if len(t) == 0 {
		return false
	}
	if p[0] != "+" && p[0] != t[0] {
		return false
	}
	return naiveSegs(p[1:], t[1:])
}

// FuzzTrieAgainstReference subscribes a handful of patterns derived from the input and
// checks the trie returns exactly the subscriptions the naive matcher accepts, in order.
func FuzzTrieAgainstReference(f *testing.F) {
	f.Add("cart.#|+.added|cart.item.added|#|a.+.c", "cart.item.added")
	f.Add("+|+.+|+.#|a", "a")
	f.Add("x.y|x.#|x.+.z", "x.y.z")
	f.Fuzz(func(t *testing.T, patterns, topic string) {
		if ValidateTopic(topic) != nil {
			return
		}
		var tr trie
		var subs []*Subscription
		for i, p := range strings.Split(patterns, "|") {
			if ValidatePattern(p) != nil {
				continue
			}
			s := &Subscription{id: uint64(i + 1), pattern: p}
			subs = append(subs, s)
			tr.insert(s)
		}
		var want []*Subscription
		for _, s := range subs {
			if naiveMatch(s.pattern, topic) {
				want = append(want, s)
			}
			if MatchTopic(s.pattern, topic) != naiveMatch(s.pattern, topic) {
				t.Fatalf("MatchTopic(%q, %q) disagrees with the reference", s.pattern, topic)
			}
		}
		got := tr.match(topic, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("topic %q: trie matched %v, reference %v", topic, ids(got), ids(want))
		}
		for _, s := range subs {
			tr.remove(s)
		}
		if !tr.root.empty() || tr.count != 0 {
			t.Fatalf("trie not empty after removing every subscription")
		}
	})
}

func ids(s []*Subscription) []uint64 {
	out := make([]uint64, len(s))
	for i, x := range s {
		out[i] = x.id
	}
	return out
}

func TestSubscribeUnsubscribeInAnyOrderLeavesNoTrace(t *testing.T) {
	segs := []string{"a", "b", "+", "c"}
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		var tr trie
		var subs []*Subscription
		for i := range 40 {
			n := 1 + r.IntN(4)
			parts := make([]string, n)
			for j := range parts {
				parts[j] = segs[r.IntN(len(segs))]
			}
			if r.IntN(3) == 0 {
				parts[n-1] = "#"
			}
			s := &Subscription{id: uint64(i + 1), pattern: strings.Join(parts, ".")}
			subs = append(subs, s)
			tr.insert(s)
		}
		r.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
		for i, s := range subs {
			if !tr.remove(s) {
				t.Fatalf("seed %d: %q was not found for removal", seed, s.pattern)
			}
			if tr.remove(s) {
				t.Fatalf("seed %d: %q removed twice", seed, s.pattern)
			}
			// Everything not yet removed still matches as before.
			for _, rest := range subs[i+1:] {
				topic := strings.NewReplacer("+", "x", "#", "y").Replace(rest.pattern)
				if !slices.Contains(tr.match(topic, nil), rest) {
					t.Fatalf("seed %d: %q no longer matches %q", seed, rest.pattern, topic)
				}
			}
		}
		if !tr.root.empty() || tr.count != 0 {
			t.Fatalf("seed %d: trie not empty after removing all", seed)
		}
	}
}

// FuzzPlainTopicAgreesWithValidate holds the publish path's quick check to the full one.
func FuzzPlainTopicAgreesWithValidate(f *testing.F) {
	for _, s := range []string{"", "a", "a.b", "a..b", ".a", "a.", "cart.+", "cart.#", "a b",
		strings.Repeat("a.", 31) + "a", strings.Repeat("a.", 32) + "a", strings.Repeat("x", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if quick, full := plainTopic(s), validate(s, false) == nil; quick != full {
			t.Fatalf("plainTopic(%q) = %v, validate says valid = %v", s, quick, full)
		}
	})
}

func TestATopicErrorNamesABadByteByItsValue(t *testing.T) {
	err := ValidateTopic("caf\xc3\xa9.x")
	if err == nil || !strings.Contains(err.Error(), "character 'é' at byte 3") || strings.Contains(err.Error(), "Ã") {
		t.Fatalf("error %v", err)
	}
	if err := ValidateTopic("caf\xff.x"); err == nil || !strings.Contains(err.Error(), "byte 0xFF at byte 3") {
		t.Fatalf("error %v", err)
	}
	if err := ValidateTopic("a b"); err == nil || !strings.Contains(err.Error(), `character ' '`) {
		t.Fatalf("error %v", err)
	}
}
