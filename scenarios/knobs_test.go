package scenarios

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestKnobParse(t *testing.T) {
	var (
		apps     = Knob{Name: "apps", Kind: Int, Min: "1", Max: "8"}
		offset   = Knob{Name: "offset", Kind: Int, Min: "-10", Max: "10"}
		count    = Knob{Name: "count", Kind: Int}
		atLeast  = Knob{Name: "n", Kind: Int, Min: "0"}
		ratio    = Knob{Name: "ratio", Kind: Float, Min: "0", Max: "1"}
		latency  = Knob{Name: "latency", Kind: Duration, Min: "0s", Max: "2s"}
		timeout  = Knob{Name: "timeout", Kind: Duration, Min: "10ms", Max: "5s"}
		mode     = Knob{Name: "mode", Kind: Choice, Choices: []string{"warn", "strict"}}
		failOpen = Knob{Name: "fail-open", Kind: Bool}
	)
	tests := []struct {
		name string
		knob Knob
		in   string
		want string // the normalised value, or the error's message
		ok   bool
	}{
		{"an integer in range is taken", apps, "3", "3", true},
		{"an integer with surrounding spaces is taken", apps, " 3 ", "3", true},
		{"an integer at either end of the range is taken", apps, "8", "8", true},
		{"a negative integer is taken", offset, "-10", "-10", true},
		{"an integer with a plus sign is taken", offset, "+4", "4", true},
		{"an integer with leading zeros is taken", apps, "07", "7", true},
		{"an integer without a range is taken", count, "123456", "123456", true},
		{"an integer written with a point is refused", apps, "2.0", `apps: want a whole number from 1 to 8, got "2.0"`, false},
		{"an integer in exponent form is refused", apps, "1e4", `apps: want a whole number from 1 to 8, got "1e4"`, false},
		{"a fraction is refused", apps, "1.5", `apps: want a whole number from 1 to 8, got "1.5"`, false},
		{"hexadecimal is refused", apps, "0x4", `apps: want a whole number from 1 to 8, got "0x4"`, false},
		{"digits with underscores are refused", count, "1_000", `count: want a whole number, got "1_000"`, false},
		{"an empty integer is refused", apps, " ", `apps: want a whole number from 1 to 8, got " "`, false},
		{"an integer above the range is refused", apps, "99", `apps: want 1 to 8, got "99"`, false},
		{"an integer below the range is refused", apps, "0", `apps: want 1 to 8, got "0"`, false},
		{"an integer below a lower bound only is refused", atLeast, "-1", `n: want at least 0, got "-1"`, false},
		{"a malformed integer names a lower bound only", atLeast, "x", `n: want a whole number from 0, got "x"`, false},
		{"an integer too large for any range is refused", count, "99999999999999999999", `count: want a whole number, got "99999999999999999999"`, false},

		{"a number in range is taken", ratio, "0.25", "0.25", true},
		{"a number in exponent form is taken", ratio, "5e-1", "0.5", true},
		{"a whole number is a number", ratio, "1", "1", true},
		{"not a number is refused", ratio, "NaN", `ratio: want a number from 0 to 1, got "NaN"`, false},
		{"infinity is refused", ratio, "Inf", `ratio: want a number from 0 to 1, got "Inf"`, false},
		{"a number above the range is refused", ratio, "1.5", `ratio: want 0 to 1, got "1.5"`, false},

		{"a duration is normalised", latency, "1500ms", "1.5s", true},
		{"a duration with spaces is taken", latency, " 2s ", "2s", true},
		{"a zero duration is taken", latency, "0", "0s", true},
		{"a bare number is not a duration", latency, "5", `latency: want a duration from 0s to 2s (such as 250ms or 2s), got "5"`, false},
		{"a duration above the range is refused", latency, "1h", `latency: want 0s to 2s, got "1h"`, false},
		{"a duration below the range is refused", timeout, "1ms", `timeout: want 10ms to 5s, got "1ms"`, false},

		{"a choice is taken", mode, "strict", "strict", true},
		{"a choice with spaces is taken", mode, " warn", "warn", true},
		{"a choice is matched exactly", mode, "Strict", `mode: want one of warn, strict, got "Strict"`, false},
		{"a choice not offered is refused", mode, "off", `mode: want one of warn, strict, got "off"`, false},

		{"a boolean is taken", failOpen, "true", "true", true},
		{"a boolean in another spelling is taken", failOpen, "1", "true", true},
		{"a word that is not a boolean is refused", failOpen, "maybe", `fail-open: want true or false, got "maybe"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.knob.Parse(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ke *KnobError
			if !errors.As(err, &ke) || err.Error() != tt.want || got != "" {
				t.Fatalf("Parse(%q) = %q, %v; want the error %s", tt.in, got, err, tt.want)
			}
			if ke.Knob != tt.knob.Name || ke.Value != tt.in {
				t.Fatalf("error names knob %q and value %q", ke.Knob, ke.Value)
			}
		})
	}
}

func TestKnobParseRefusesABadDeclaredBound(t *testing.T) {
	k := Knob{Name: "apps", Kind: Int, Min: "1", Max: "eight"}
	if _, err := k.Parse("3"); err == nil || !strings.Contains(err.Error(), `knob apps: its maximum "eight"`) {
		t.Fatalf("err = %v", err)
	}
}

// Parsing never panics, and a parsed value parses to itself.
func FuzzKnobParse(f *testing.F) {
	for _, s := range []string{"", "1", "1.5", "2.0", "250ms", "true", "a", "-3", "1e9", "1e0", "NaN", "Inf", " 4 "} {
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
			if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); k.Kind == Int && err != nil {
				t.Fatalf("%s: %q is not a whole-number literal, yet parsed to %q", k.Name, s, v)
			}
		}
	})
}
