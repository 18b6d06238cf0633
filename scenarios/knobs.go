package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KnobKind is the type of a knob's value.
type KnobKind string

// The knob kinds. Durations are written as Go durations ("250ms", "2s").
const (
	Choice   KnobKind = "choice"
	Int      KnobKind = "int"
	Float    KnobKind = "float"
	Duration KnobKind = "duration"
	Bool     KnobKind = "bool"
)

// Knob is a setting of a scenario, declared so the UI can build an editor for it and the
// tests can run every combination.
type Knob struct {
	Name  string
	Label string
	Help  string
	Kind  KnobKind
	// Default is the value as text.
	Default string
	// Choices are the allowed values of a Choice knob.
	Choices []string
	// Min and Max bound Int, Float and Duration knobs (Duration as text too).
	Min, Max string
	// Samples are the values the test suite runs besides the default (every choice and
	// both booleans are always run).
	Samples []string
}

// Parse checks a value for this knob and returns it normalised.
func (k Knob) Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("knob %s: %q: %s", k.Name, s, fmt.Sprintf(format, args...))
	}
	switch k.Kind {
	case Choice:
		if !slices.Contains(k.Choices, s) {
			return bad("want one of %s", strings.Join(k.Choices, ", "))
		}
		return s, nil
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad("want true or false")
		}
		return strconv.FormatBool(b), nil
	case Int, Float:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || (k.Kind == Int && v != float64(int64(v))) {
			return bad("want a%s number", map[bool]string{true: "n integer", false: ""}[k.Kind == Int])
		}
		lo, _ := strconv.ParseFloat(k.Min, 64)
		hi, _ := strconv.ParseFloat(k.Max, 64)
		if (k.Min != "" && v < lo) || (k.Max != "" && v > hi) {
			return bad("want %s to %s", k.Min, k.Max)
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad("want a duration such as 250ms or 2s")
		}
		lo, _ := time.ParseDuration(k.Min)
		hi, _ := time.ParseDuration(k.Max)
		if (k.Min != "" && d < lo) || (k.Max != "" && d > hi) {
			return bad("want %s to %s", k.Min, k.Max)
		}
		return d.String(), nil
	}
	return bad("unknown knob kind %q", k.Kind)
}

// Range describes the allowed values, for help text and error messages.
func (k Knob) Range() string {
	switch k.Kind {
	case Choice:
		return strings.Join(k.Choices, "|")
	case Bool:
		return "true|false"
	}
	return k.Min + ".." + k.Max
}

// Values are a scenario's knob settings, by name, as text.
type Values map[string]string

// String renders the values sorted by name, "a=1 b=2".
func (v Values) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		parts = append(parts, k+"="+v[k])
	}
	return strings.Join(parts, " ")
}

// Str returns a knob's value.
func (v Values) Str(name string) string { return v[name] }

// Bool returns a Bool knob's value.
func (v Values) Bool(name string) bool { b, _ := strconv.ParseBool(v[name]); return b }

// Int returns an Int knob's value.
func (v Values) Int(name string) int { f, _ := strconv.ParseFloat(v[name], 64); return int(f) }

// Float returns a Float knob's value.
func (v Values) Float(name string) float64 { f, _ := strconv.ParseFloat(v[name], 64); return f }

// Duration returns a Duration knob's value.
func (v Values) Duration(name string) time.Duration { d, _ := time.ParseDuration(v[name]); return d }

// Resolve fills in defaults and checks every value; an unknown knob is an error that lists
// the scenario's knobs.
func (s *Scenario) Resolve(set Values) (Values, error) {
	out := Values{}
	for _, k := range s.Knobs {
		v, err := k.Parse(k.Default)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: default of %w", s.ID, err)
		}
		out[k.Name] = v
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		k, ok := s.Knob(name)
		if !ok {
			return nil, fmt.Errorf("scenario %s has no knob %q; its knobs: %s", s.ID, name, s.knobList())
		}
		v, err := k.Parse(set[name])
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// Knob finds a knob by name.
func (s *Scenario) Knob(name string) (Knob, bool) {
	i := slices.IndexFunc(s.Knobs, func(k Knob) bool { return k.Name == name })
	if i < 0 {
		return Knob{}, false
	}
	return s.Knobs[i], true
}

func (s *Scenario) knobList() string {
	if len(s.Knobs) == 0 {
		return "(none)"
	}
	var parts []string
	for _, k := range s.Knobs {
		parts = append(parts, fmt.Sprintf("%s (%s, default %s)", k.Name, k.Range(), k.Default))
	}
	return strings.Join(parts, ", ")
}

// Combinations lists the knob settings the test suite runs: every combination of each
// knob's values (all choices, both booleans, the default and samples of numeric knobs),
// the defaults first.
func (s *Scenario) Combinations() []Values {
	base, err := s.Resolve(nil)
	if err != nil {
		return nil
	}
	out := []Values{base}
	for _, k := range s.Knobs {
		var alts []string
		switch k.Kind {
		case Choice:
			alts = k.Choices
		case Bool:
			alts = []string{"true", "false"}
		default:
			alts = k.Samples
		}
		var values []string
		for _, a := range alts {
			if v, err := k.Parse(a); err == nil && v != base[k.Name] && !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		n := len(out)
		for _, v := range values {
			for _, c := range out[:n] {
				c = maps.Clone(c)
				c[k.Name] = v
				out = append(out, c)
			}
		}
	}
	return out
}
