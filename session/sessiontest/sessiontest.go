// Package sessiontest runs a scenario of MFE Lab headless inside a Go test and holds what
// it does to what a run of it once did: its outcome checks and its flow, delivery for
// delivery. A test written by `mfelab run -export-test` (session.WriteGoTest) is one call
// of Run with a table of the deliveries; it passes as written and, when the behaviour
// changes, fails naming the first delivery that differs, with the deliveries around it.
//
// A delivery is compared by topic, sender, receiver and kind of arrow, never by ID,
// sequence number or time, so a test does not break when only those move.
package sessiontest

import (
	"fmt"
	"strings"
	"testing"

	"mfelab/scenarios"
	"mfelab/session"
)

// Check is an outcome check as a test expects it: its name and whether it passes.
type Check struct {
	Name string
	Pass bool
}

// Want is what a run is expected to show.
type Want struct {
	// Checks are the scenario's outcome checks, in order, with their results.
	Checks []Check
	// Flow is the run's flow, one delivery per row of its diagram, in order.
	Flow []session.Delivery
}

// Run starts scenario (its ID, see mfelab list) with seed and knobs, runs it to its end
// and reports an error on t for every outcome check that differs from want's and for the
// first delivery of the flow that does; it stops the test when the scenario cannot run.
func Run(t testing.TB, scenario string, seed uint64, knobs scenarios.Values, want Want) {
	t.Helper()
	s, err := scenarios.Get(scenario)
	if err != nil {
		t.Fatalf("sessiontest: %v", err)
	}
	ses, err := session.Start(s, seed, knobs)
	if err != nil {
		t.Fatalf("sessiontest: %v", err)
	}
	defer ses.Close()
	ses.RunToEnd()
	what := fmt.Sprintf("%s (seed %d, %s)", scenario, seed, ses.Run().Knobs)
	if msg := ChecksDifference(want.Checks, ses.Checks()); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
	flow, err := ses.Trace().Flow()
	if err != nil {
		t.Fatalf("sessiontest: %s: %v", what, err)
	}
	if msg := FlowDifference(want.Flow, flow.Deliveries()); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// ChecksDifference says how the checks a run gave differ from those wanted, by name and
// result (the detail of a check is shown, not compared); "" when they do not.
func ChecksDifference(want []Check, got []scenarios.Check) string {
	var lines []string
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(got):
			lines = append(lines, fmt.Sprintf("check %d %q (pass %t) is missing", i+1, want[i].Name, want[i].Pass))
		case i >= len(want):
			lines = append(lines, fmt.Sprintf("check %d %q (pass %t) is new", i+1, got[i].Name, got[i].Pass))
		case want[i].Name != got[i].Name:
			lines = append(lines, fmt.Sprintf("check %d is %q, want %q", i+1, got[i].Name, want[i].Name))
		case want[i].Pass != got[i].Pass:
			lines = append(lines, fmt.Sprintf("check %d %q: pass %t, want %t (%s)", i+1, got[i].Name, got[i].Pass, want[i].Pass, got[i].Detail))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "the outcome checks differ:\n\t" + strings.Join(lines, "\n\t")
}

// context is how many deliveries FlowDifference shows on each side of the first that
// differs.
const context = 3

// FlowDifference names the first delivery where got differs from want: its number (and
// index in the table), what was wanted and what came, and the deliveries around it in
// both; "" when got is want, delivery for delivery.
func FlowDifference(want, got []session.Delivery) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	if i == len(want) && i == len(got) {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "the flow differs from the table at delivery %d (Flow[%d]) of %d; the run made %d\n", i+1, i, len(want), len(got))
	at := func(f []session.Delivery) string {
		if i < len(f) {
			return f[i].String()
		}
		return "(nothing: it ends before)"
	}
	fmt.Fprintf(&sb, "\twant %s\n\tgot  %s\n", at(want), at(got))
	for _, side := range []struct {
		name string
		f    []session.Delivery
	}{{"the table (want)", want}, {"the run (got)", got}} {
		fmt.Fprintf(&sb, "%s around it:\n", side.name)
		lo, hi := max(i-context, 0), min(i+context+1, len(side.f))
		if lo >= hi {
			sb.WriteString("\t(no deliveries)\n")
		}
		for k := lo; k < hi; k++ {
			mark := " "
			if k == i {
				mark = ">"
			}
			fmt.Fprintf(&sb, "\t%s %4d  %s\n", mark, k+1, side.f[k])
		}
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
