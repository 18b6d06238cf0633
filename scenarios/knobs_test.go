package scenarios

import (
	"testing"
)

func TestKnobParse(t *testing.T) {
	tests := []struct {
		name string
		knob Knob
		in   string
		want string
		ok   bool
	}{
		{"a choice", Knob{Name: "k", Kind: Choice, Choices: []string{"a", "b"}}, "b", "b", true},
		{"a choice not offered", Knob{Name: "k", Kind: Choice, Choices: []string{"a"}}, "c", "", false},
		{"a boolean in another spelling", Knob{Name: "k", Kind: Bool}, "1", "true", true},
		{"an integer in range", Knob{Name: "k", Kind: Int, Min: "1", Max: "5"}, " 3 ", "3", true},
		{"a fraction is not an integer", Knob{Name: "k", Kind: Int}, "2.5", "", false},
		{"an integer above the range", Knob{Name: "k", Kind: Int, Min: "1", Max: "5"}, "6", "", false},
		{"not a number is refused", Knob{Name: "k", Kind: Float}, "NaN", "", false},
		{"a float", Knob{Name: "k", Kind: Float, Min: "0", Max: "1"}, "0.25", "0.25", true},
		{"a duration is normalised", Knob{Name: "k", Kind: Duration, Min: "0s", Max: "2s"}, "1500ms", "1.5s", true},
		{"a duration below the range", Knob{Name: "k", Kind: Duration, Min: "10ms", Max: "2s"}, "1ms", "", false},
		{"a number where a duration is due", Knob{Name: "k", Kind: Duration}, "5", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.knob.Parse(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("Parse(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

// Parsing never panics, and a parsed value parses to itself.
func FuzzKnobParse(f *testing.F) {
	for _, s := range []string{"", "1", "1.5", "250ms", "true", "a", "-3", "1e9", "NaN", "Inf"} {
		f.Add(s)
	}
	knobs := []Knob{
		{Name: "c", Kind: Choice, Choices: []string{"a", "b"}},
		{Name: "b", Kind: Bool},
		{Name: "i", Kind: Int, Min: "-10", Max: "10"},
		{Name: "f", Kind: Float, Min: "0", Max: "1"},
		{Name: "d", Kind: Duration, Min: "0s", Max: "1h"},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range knobs {
			v, err := k.Parse(s)
			if err != nil {
				continue
			}
			again, err := k.Parse(v)
			if err != nil || again != v {
				t.Fatalf("%s: %q parsed to %q, which parses to %q, %v", k.Name, s, v, again, err)
			}
		}
	})
}
