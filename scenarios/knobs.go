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

// KnobError is a value a knob does not take. It says what the knob wants, with its range.
type KnobError struct {
	Knob  string // the knob's name
	Value string // the value as given
	Want  string // what the knob takes: "a whole number from 1 to 8", "0s to 2s"
}

func (e *KnobError) Error() string {
	return fmt.Sprintf("%s: want %s, got %q", e.Knob, e.Want, e.Value)
}

// Parse checks a value for this knob and returns it normalised. Surrounding spaces are
// ignored. An Int knob takes whole-number literals only ("3", "-2"; not "2.0" or "1e4"), a
// Float knob any finite number, a Duration knob a Go duration. A value it does not take is
// a *KnobError: one that is not of the knob's kind names the kind and the range, one out of
// range names the range.
func (k Knob) Parse(s string) (string, error) {
	v := strings.TrimSpace(s)
	want := func(w string) (string, error) { return "", &KnobError{Knob: k.Name, Value: s, Want: w} }
	switch k.Kind {
	case Choice:
		if !slices.Contains(k.Choices, v) {
			return want("one of " + strings.Join(k.Choices, ", "))
		}
		return v, nil
	case Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return want("true or false")
		}
		return strconv.FormatBool(b), nil
	case Int:
		n, err := parseInt(v)
		if err != nil {
			return want(withBounds("a whole number", k.Min, k.Max))
		}
		lo, hi, err := declaredBounds(k, parseInt)
		if err != nil {
			return "", err
		}
		if (k.Min != "" && n < lo) || (k.Max != "" && n > hi) {
			return want(bounds(k.Min, k.Max))
		}
		return strconv.FormatInt(n, 10), nil
	case Float:
		f, err := parseFloat(v)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return want(withBounds("a number", k.Min, k.Max))
		}
		lo, hi, err := declaredBounds(k, parseFloat)
		if err != nil {
			return "", err
		}
		if (k.Min != "" && f < lo) || (k.Max != "" && f > hi) {
			return want(bounds(k.Min, k.Max))
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return want(withBounds("a duration", k.Min, k.Max) + " (such as 250ms or 2s)")
		}
		lo, hi, err := declaredBounds(k, time.ParseDuration)
		if err != nil {
			return "", err
		}
		if (k.Min != "" && d < lo) || (k.Max != "" && d > hi) {
			return want(bounds(k.Min, k.Max))
		}
		return d.String(), nil
	}
	return "", fmt.Errorf("knob %s: unknown knob kind %q", k.Name, k.Kind)
}

// withBounds names a kind of value with the knob's range: "a whole number from 1 to 8".
func withBounds(kind, lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return kind + " from " + lo + " to " + hi
	case lo != "":
		return kind + " from " + lo
	case hi != "":
		return kind + " up to " + hi
	}
	return kind
}

// bounds names the knob's range alone, for a value of the right kind outside it: "1 to 8".
func bounds(lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return lo + " to " + hi
	case lo != "":
		return "at least " + lo
	}
	return "at most " + hi
}

// declaredBounds parses the knob's Min and Max, either of which may be empty, with parse.
func declaredBounds[T any](k Knob, parse func(string) (T, error)) (lo, hi T, err error) {
	if k.Min != "" {
		if lo, err = parse(k.Min); err != nil {
			return lo, hi, fmt.Errorf("knob %s: its minimum %q: %w", k.Name, k.Min, err)
		}
	}
	if k.Max != "" {
		if hi, err = parse(k.Max); err != nil {
			return lo, hi, fmt.Errorf("knob %s: its maximum %q: %w", k.Name, k.Max, err)
		}
	}
	return lo, hi, nil
}

func parseInt(s string) (int64, error)     { return strconv.ParseInt(s, 10, 64) }
func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

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
func (v Values) Int(name string) int { n, _ := strconv.Atoi(v[name]); return n }

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
