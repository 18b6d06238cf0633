package natsbridge

import (
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"mfelab/bus"
)

func TestSubjectsFor(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    []string
	}{
		{"a plain topic is its own subject", "cart.item.added", []string{"cart.item.added"}},
		{"a single-segment wildcard becomes a star", "cart.+.added", []string{"cart.*.added"}},
		{"every wildcard segment becomes a star", "+.+", []string{"*.*"}},
		{"a trailing hash matches the prefix itself and everything below it", "cart.#", []string{"cart", "cart.>"}},
		{"a hash after a plus keeps the plus as a star", "+.#", []string{"*", "*.>"}},
		{"a hash alone is the full wildcard", "#", []string{">"}},
		{"a topic with dashes and underscores is unchanged", "order_v2.check-out", []string{"order_v2.check-out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SubjectsFor(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SubjectsFor(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestMappingRefusesWhatIsNotATopic(t *testing.T) {
	tests := []struct {
		name string
		do   func() error
	}{
		{"a pattern with a hash in the middle has no subjects", func() error { _, err := SubjectsFor("cart.#.added"); return err }},
		{"an empty pattern has no subjects", func() error { _, err := SubjectsFor(""); return err }},
		{"a pattern has no single subject", func() error { _, err := SubjectFor("cart.+"); return err }},
		{"a subject with a NATS wildcard has no topic", func() error { _, err := TopicFor("cart.*"); return err }},
		{"a subject with a full wildcard has no topic", func() error { _, err := TopicFor("cart.>"); return err }},
		{"a subject with characters outside the topic alphabet has no topic", func() error { _, err := TopicFor("$SYS.REQ"); return err }},
		{"a subject longer than a topic may be has no topic", func() error { _, err := TopicFor(string(make([]byte, 300))); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, bus.ErrInvalidTopic) {
				t.Errorf("error %v, want one wrapping bus.ErrInvalidTopic", err)
			}
		})
	}
}

// FuzzSubjectsFor checks the mapping against both matchers: a topic matches a bus pattern
// (by the bus's own matcher) exactly when its subject matches one of the pattern's
// subjects (by the NATS server's matcher), and never more than one of them, so no message
// arrives twice. The seed corpus runs in every go test.
func FuzzSubjectsFor(f *testing.F) {
	for _, s := range [][2]string{
		{"cart.#", "cart"}, {"cart.#", "cart.item.added"}, {"cart.#", "carts"}, {"#", "a"},
		{"+", "a"}, {"+", "a.b"}, {"+.#", "a"}, {"+.#", "a.b.c"}, {"a.+.c", "a.b.c"},
		{"a.+.c", "a.c"}, {"a.b", "a.b.c"}, {"a.b.#", "a"}, {"+.+.#", "x"}, {"x-1._y", "x-1._y"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		if bus.ValidatePattern(pattern) != nil || bus.ValidateTopic(topic) != nil {
			return
		}
		subjects, err := SubjectsFor(pattern)
		if err != nil {
			t.Fatalf("SubjectsFor(%q): %v", pattern, err)
		}
		subject, err := SubjectFor(topic)
		if err != nil {
			t.Fatalf("SubjectFor(%q): %v", topic, err)
		}
		if back, err := TopicFor(subject); err != nil || back != topic {
			t.Fatalf("TopicFor(SubjectFor(%q)) = %q, %v", topic, back, err)
		}
		matches := 0
		for _, s := range subjects {
			if !server.IsValidSubject(s) {
				t.Fatalf("SubjectsFor(%q) gave %q, which NATS does not accept", pattern, s)
			}
			if server.SubjectMatchesFilter(subject, s) {
				matches++
			}
		}
		if want := bus.MatchTopic(pattern, topic); want != (matches > 0) {
			t.Fatalf("pattern %q, topic %q: bus matches %v, NATS subjects %q match %d", pattern, topic, want, subjects, matches)
		}
		if matches > 1 {
			t.Fatalf("pattern %q: topic %q matches %d of its subjects %q; it would arrive twice", pattern, topic, matches, subjects)
		}
	})
}
