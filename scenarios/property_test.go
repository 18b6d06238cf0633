package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "mfelab/scenarios"
	"mfelab/session"
)

// randomValue draws a value of knob k from anywhere in its declared range.
func randomValue(t *testing.T, k Knob, rng *rand.Rand) string {
	t.Helper()
	switch k.Kind {
	case Choice:
		return k.Choices[rng.IntN(len(k.Choices))]
	case Bool:
		return strconv.FormatBool(rng.IntN(2) == 1)
	case Int:
		lo, _ := strconv.Atoi(k.Min)
		hi, _ := strconv.Atoi(k.Max)
		return strconv.Itoa(lo + rng.IntN(hi-lo+1))
	case Float:
		lo, _ := strconv.ParseFloat(k.Min, 64)
		hi, _ := strconv.ParseFloat(k.Max, 64)
		return strconv.FormatFloat(lo+rng.Float64()*(hi-lo), 'f', 3, 64)
	case Duration:
		lo, _ := time.ParseDuration(k.Min)
		hi, _ := time.ParseDuration(k.Max)
		d := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
		return (d / time.Millisecond * time.Millisecond).String() // as a person would type it
	}
	t.Fatalf("knob %s of kind %s", k.Name, k.Kind)
	return ""
}

// short caps knobs that scale the work of a run (the full range is millions of
// messages): the property test draws them from the start of their range only.
var short = map[string]string{"load/duration": "500ms"}

// Every scenario meets its expected outcomes for any values inside its knobs' declared
// ranges, with any seed: a learner who turns a knob within its range sees the pattern work.
func TestEveryScenarioPassesAnywhereInItsKnobRanges(t *testing.T) {
	runs := 40 // per scenario; more with MFELAB_PROPERTY_RUNS=N
	if n, err := strconv.Atoi(os.Getenv("MFELAB_PROPERTY_RUNS")); err == nil && n > 0 {
		runs = n
	} else if testing.Short() {
		runs = 8
	}
	seed := uint64(20261123)
	if n, err := strconv.ParseUint(os.Getenv("MFELAB_PROPERTY_SEED"), 10, 64); err == nil {
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, s := range All() {
		for i := range runs {
			knobs := Values{}
			for _, k := range s.Knobs {
				if max, ok := short[s.ID+"/"+k.Name]; ok {
					k.Max = max
				}
				knobs[k.Name] = randomValue(t, k, rng)
			}
			seed := rng.Uint64()
			name := fmt.Sprintf("%s/%d seed=%d %s", s.ID, i, seed, strings.ReplaceAll(knobs.String(), " ", ","))
			t.Run(name, func(t *testing.T) {
				ses, err := session.Start(s, seed, knobs)
				if err != nil {
					t.Fatalf("a value in range was refused: %v", err)
				}
				ses.RunToEnd()
				if checks := ses.Checks(); !Passed(checks) {
					t.Fatalf("mfelab run %s -seed %d %s\n%s", s.ID, seed, setFlags(knobs), FormatChecks(checks))
				}
			})
		}
	}
}

func setFlags(v Values) string {
	var parts []string
	for _, kv := range strings.Fields(v.String()) {
		parts = append(parts, "-set "+kv)
	}
	return strings.Join(parts, " ")
}

// Every example scenario file, too, meets its checks anywhere in its knobs' declared
// ranges and with any seed, and two runs with the same seed and knobs give the same log,
// byte for byte.
func TestEveryScenarioFilePassesAnywhereInItsKnobRangesAndRepeatsItself(t *testing.T) {
	runs := 20 // per file; more with MFELAB_PROPERTY_RUNS=N
	if n, err := strconv.Atoi(os.Getenv("MFELAB_PROPERTY_RUNS")); err == nil && n > 0 {
		runs = n
	} else if testing.Short() {
		runs = 4
	}
	seed := uint64(20261124)
	if n, err := strconv.ParseUint(os.Getenv("MFELAB_PROPERTY_SEED"), 10, 64); err == nil {
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	paths, err := filepath.Glob(filepath.Join("files", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	for _, path := range paths {
		s, err := LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range runs {
			knobs := Values{}
			for _, k := range s.Knobs {
				knobs[k.Name] = randomValue(t, k, rng)
			}
			seed := rng.Uint64()
			name := fmt.Sprintf("%s/%d seed=%d %s", filepath.Base(path), i, seed, strings.ReplaceAll(knobs.String(), " ", ","))
			t.Run(name, func(t *testing.T) {
				first, _, checks := runLog(t, s, seed, knobs)
				if !Passed(checks) {
					t.Fatalf("mfelab run %s -seed %d %s\n%s", path, seed, setFlags(knobs), FormatChecks(checks))
				}
				again, _, _ := runLog(t, s, seed, knobs)
				if again != first {
					t.Fatalf("mfelab run %s -seed %d %s gave two logs: %d and %d bytes", path, seed, setFlags(knobs), len(first), len(again))
				}
			})
		}
	}
}
