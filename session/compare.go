package session

import (
	"fmt"
	"slices"

	"mfelab/history"
	"mfelab/scenarios"
)

// Side is one of two runs compared: a name to show, its trace, and what its outcome
// checks said, when that is known.
type Side struct {
	Name    string
	Trace   *Trace
	Outcome Outcome
}

// Outcome is what a run's outcome checks said, as far as it is known: a fresh run knows
// every check, a recorded run the ones that failed, a log none.
type Outcome struct {
	Known bool
	// Checks are every check with its result, when the run was made here; nil for a
	// recorded run, whose record keeps only the failures.
	Checks []scenarios.Check
	// Failed are the names of the checks that failed.
	Failed []string
}

// OutcomeOf is the outcome of a run that was made here.
func OutcomeOf(checks []scenarios.Check) Outcome {
	o := Outcome{Known: true, Checks: slices.Clone(checks)}
	for _, c := range checks {
		if !c.Pass {
			o.Failed = append(o.Failed, c.Name)
		}
	}
	return o
}

// OutcomeOfRun is the outcome a recorded run's record keeps; unknown when the run was
// stopped before its end, imported, or changed by hand.
func OutcomeOfRun(info history.RunInfo) Outcome {
	if (info.Outcome != history.OutcomePassed && info.Outcome != history.OutcomeFailed) || len(info.Changed) > 0 {
		return Outcome{}
	}
	return Outcome{Known: true, Failed: slices.Clone(info.Failed)}
}

// Side makes the session's run a side of a comparison, with its checks once it is
// finished (and when it is a scenario's run, not changed by hand).
func (s *Session) Side(name string) Side {
	sd := Side{Name: name, Trace: s.trace}
	if s.Finished() && !s.IsReplay() && len(s.Interventions()) == 0 {
		sd.Outcome = OutcomeOf(s.Checks())
	}
	return sd
}

// LoadSide reads recorded run id ("latest" for the newest) of store as a side of a
// comparison, named after the run.
func LoadSide(store *history.Store, id string) (Side, error) {
	t, info, err := Load(store, id, history.Query{})
	if err != nil {
		return Side{}, err
	}
	name := info.ID + ": " + info.Scenario
	if info.Scenario != scenarios.ReplayID {
		name += fmt.Sprintf(", seed %d", info.Seed)
	}
	if k := info.KnobText(); k != "" {
		name += ", " + k
	}
	return Side{Name: name, Trace: t, Outcome: OutcomeOfRun(info)}, nil
}

// Change says what differs about a delivery found in both runs.
type Change uint8

// The changes of a delivery in both runs; Kind and Cause may come together.
const (
	// ChangedKind: the diagram draws it as another kind of arrow (an event that became a
	// dead letter, a reply that became an error reply).
	ChangedKind Change = 1 << iota
	// ChangedCause: it was set off by another message, or further down the chain.
	ChangedCause
)

// Op is one step of the alignment of two flows: a delivery in both runs (A and B index
// their flows' rows), or in one only (the other index is -1).
type Op struct {
	A, B   int
	Change Change
	// Moved is, for a delivery in one run only, the row of the other run's flow where the
	// same delivery (alike in every way) stands at another point of the flow; -1 when
	// there is none.
	Moved int
}

// Mark is how a comparison marks one arrow of a run's diagram.
type Mark uint8

// The marks of an arrow.
const (
	MarkSame    Mark = iota // the other run has it too, alike
	MarkChanged             // the other run has it, drawn as another kind or caused otherwise
	MarkOnly                // the other run has nothing like it
	MarkMoved               // the other run has it alike, at another point of its flow
)

// Comparison is two runs' flows aligned: which deliveries both have, alike or changed,
// and which only one has, with a mark for every row of each run, so a window can mark
// the differing arrows and the command line can print them, from the same result.
//
// Deliveries are aligned by what they are and where they stand in the causal tree, never
// by IDs or times, which differ from run to run. First come the deliveries alike in both
// (a longest common subsequence of the two flows by topic, sender, receiver, kind, the
// topic of the message that set them off and how deep in the chain they are); between
// those, the ones alike but for their kind (a delivery that now fails); between those,
// the ones with the same topic, sender and receiver, set off for different reasons.
type Comparison struct {
	A, B   Side
	FlowA  Flow
	FlowB  Flow
	Ops    []Op
	MarksA []Mark // one per row of FlowA
	MarksB []Mark // one per row of FlowB
	// Alike, Changed, OnlyA and OnlyB count the ops of each sort; KindChanged and
	// CauseChanged count the changed ones by what changed.
	Alike, Changed, OnlyA, OnlyB int
	KindChanged, CauseChanged    int
	// Moved counts the deliveries of A in A only whose alike twin is in B only, elsewhere
	// (each is also counted in OnlyA, and its twin in OnlyB).
	Moved int
	// Pairs are the sender-receiver pairs that the two runs use a different number of
	// times, in order of first use.
	Pairs []PairCount
	// Checks are the outcome checks that differ, when both outcomes are known.
	Checks []CheckDiff
}

// PairCount is how many deliveries go from one app to another in each run.
type PairCount struct {
	From, To string
	A, B     int
}

// CheckDiff is an outcome check whose result differs between the runs. A check one run
// does not have counts as not failed there, with In saying which runs have it.
type CheckDiff struct {
	Name             string
	PassA, PassB     bool
	DetailA, DetailB string
	InA, InB         bool // whether the run is known to have this check
}

// Compare aligns the flows of two runs. When either is a log, which does not say who
// received its messages, both are compared by their published messages instead.
func Compare(a, b Side) (Comparison, error) {
	if a.Trace == nil || b.Trace == nil {
		return Comparison{}, fmt.Errorf("compare: a side has no trace")
	}
	flow := (*Trace).Flow
	if a.Trace.Diagram().publishes || b.Trace.Diagram().publishes {
		flow = (*Trace).PublishedFlow
	}
	fa, err := flow(a.Trace)
	if err != nil {
		return Comparison{}, fmt.Errorf("%s: %w", a.Name, err)
	}
	fb, err := flow(b.Trace)
	if err != nil {
		return Comparison{}, fmt.Errorf("%s: %w", b.Name, err)
	}
	c := CompareFlows(fa, fb)
	c.A, c.B = a, b
	c.Checks = compareOutcomes(a.Outcome, b.Outcome)
	return c, nil
}

// CompareFlows aligns two flows (see Comparison).
func CompareFlows(a, b Flow) Comparison {
	c := Comparison{FlowA: a, FlowB: b, MarksA: make([]Mark, len(a.Rows)), MarksB: make([]Mark, len(b.Rows))}
	same := func(x, y FlowRow) bool { return x.Topic == y.Topic && x.From == y.From && x.To == y.To }
	c.alignTiers([]func(x, y FlowRow) bool{
		func(x, y FlowRow) bool {
			return same(x, y) && x.Kind == y.Kind && x.Cause == y.Cause && x.Depth == y.Depth
		},
		func(x, y FlowRow) bool { return same(x, y) && x.Cause == y.Cause && x.Depth == y.Depth },
		same,
	}, 0, len(a.Rows), 0, len(b.Rows))
	c.pairMoves()
	c.Pairs = pairCounts(a, b)
	return c
}

// alignTiers aligns A's rows i0..i1 with B's rows j0..j1 by the first of tiers, and what
// lies between its matches by the next tiers; what no tier matches is in one run only.
func (c *Comparison) alignTiers(tiers []func(x, y FlowRow) bool, i0, i1, j0, j1 int) {
	if len(tiers) == 0 {
		c.only(i0, i1, j0, j1)
		return
	}
	eq := tiers[0]
	i, j := i0, j0
	for _, p := range align(i1-i0, j1-j0, func(x, y int) bool { return eq(c.FlowA.Rows[i0+x], c.FlowB.Rows[j0+y]) }) {
		c.alignTiers(tiers[1:], i, i0+p[0], j, j0+p[1])
		c.match(i0+p[0], j0+p[1])
		i, j = i0+p[0]+1, j0+p[1]+1
	}
	c.alignTiers(tiers[1:], i, i1, j, j1)
}

// pairMoves finds, among the deliveries in one run only, those alike in every way to one
// in the other run only, in order: the same delivery made earlier or later.
func (c *Comparison) pairMoves() {
	type key struct {
		Delivery
		cause string
		depth int
	}
	keyOf := func(r FlowRow) key { return key{r.Delivery, r.Cause, r.Depth} }
	waiting := map[key][]int{} // ops in B only, by delivery, in order
	for k, op := range c.Ops {
		if op.A < 0 {
			kb := keyOf(c.FlowB.Rows[op.B])
			waiting[kb] = append(waiting[kb], k)
		}
	}
	for k, op := range c.Ops {
		if op.B >= 0 {
			continue
		}
		ka := keyOf(c.FlowA.Rows[op.A])
		if q := waiting[ka]; len(q) > 0 {
			other := q[0]
			waiting[ka] = q[1:]
			c.Ops[k].Moved, c.Ops[other].Moved = c.Ops[other].B, op.A
			c.MarksA[op.A], c.MarksB[c.Ops[other].B] = MarkMoved, MarkMoved
			c.Moved++
		}
	}
}

// only records a[i0:i1] and b[j0:j1] as in one run only.
func (c *Comparison) only(i0, i1, j0, j1 int) {
	for ; i0 < i1; i0++ {
		c.Ops = append(c.Ops, Op{A: i0, B: -1, Moved: -1})
		c.MarksA[i0] = MarkOnly
		c.OnlyA++
	}
	for ; j0 < j1; j0++ {
		c.Ops = append(c.Ops, Op{A: -1, B: j0, Moved: -1})
		c.MarksB[j0] = MarkOnly
		c.OnlyB++
	}
}

// match records row i1 of A and row j1 of B as the same delivery, alike or changed.
func (c *Comparison) match(i1, j1 int) {
	x, y := c.FlowA.Rows[i1], c.FlowB.Rows[j1]
	op := Op{A: i1, B: j1}
	if x.Kind != y.Kind {
		op.Change |= ChangedKind
		c.KindChanged++
	}
	if x.Cause != y.Cause || x.Depth != y.Depth {
		op.Change |= ChangedCause
		c.CauseChanged++
	}
	c.Ops = append(c.Ops, op)
	if op.Change != 0 {
		c.MarksA[i1], c.MarksB[j1] = MarkChanged, MarkChanged
		c.Changed++
	} else {
		c.Alike++
	}
}

// Equal reports whether the runs match: the same deliveries, alike, in the same order,
// and no outcome check that differs.
func (c Comparison) Equal() bool {
	return c.Changed == 0 && c.OnlyA == 0 && c.OnlyB == 0 && len(c.Checks) == 0
}

// Hunk is a stretch of Ops around a difference: Ops[From:To], with up to the context
// asked for of alike deliveries on each side.
type Hunk struct{ From, To int }

// Hunks groups the differing ops with context alike ones on each side; differences
// closer than twice that share a hunk. The first hunk holds the first divergence.
func (c Comparison) Hunks(context int) []Hunk {
	var out []Hunk
	for k := 0; k < len(c.Ops); k++ {
		if c.Ops[k].alike() {
			continue
		}
		end := k + 1
		for end < len(c.Ops) {
			next := end
			for next < len(c.Ops) && c.Ops[next].alike() {
				next++
			}
			if next == len(c.Ops) || next-end > 2*context {
				break
			}
			end = next + 1
		}
		h := Hunk{From: max(k-context, 0), To: min(end+context, len(c.Ops))}
		if n := len(out); n > 0 && out[n-1].To >= h.From {
			out[n-1].To = h.To
		} else {
			out = append(out, h)
		}
		k = end - 1
	}
	return out
}

func (o Op) alike() bool { return o.A >= 0 && o.B >= 0 && o.Change == 0 }

// pairCounts counts the deliveries from each app to each other in both flows and keeps
// the pairs whose counts differ. Marks on one lifeline are not deliveries and are left
// out.
func pairCounts(a, b Flow) []PairCount {
	index := map[[2]string]int{}
	var out []PairCount
	count := func(f Flow, side int) {
		for _, r := range f.Rows {
			if r.From == r.To {
				continue
			}
			k := [2]string{r.From, r.To}
			i, ok := index[k]
			if !ok {
				i = len(out)
				index[k] = i
				out = append(out, PairCount{From: r.From, To: r.To})
			}
			if side == 0 {
				out[i].A++
			} else {
				out[i].B++
			}
		}
	}
	count(a, 0)
	count(b, 1)
	return slices.DeleteFunc(out, func(p PairCount) bool { return p.A == p.B })
}

// compareOutcomes lists the checks whose results differ, when both outcomes are known.
func compareOutcomes(a, b Outcome) []CheckDiff {
	if !a.Known || !b.Known {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, o := range []Outcome{a, b} {
		for _, c := range o.Checks {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
		for _, n := range o.Failed {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	look := func(o Outcome, name string) (pass, in bool, detail string) {
		for _, c := range o.Checks {
			if c.Name == name {
				return c.Pass, true, c.Detail
			}
		}
		if slices.Contains(o.Failed, name) {
			return false, true, ""
		}
		return true, false, ""
	}
	var out []CheckDiff
	for _, n := range names {
		d := CheckDiff{Name: n}
		d.PassA, d.InA, d.DetailA = look(a, n)
		d.PassB, d.InB, d.DetailB = look(b, n)
		if d.PassA != d.PassB {
			out = append(out, d)
		}
	}
	return out
}

// count renders n of what a flow's rows are: "3 deliveries", "1 message".
func (f Flow) count(n int) string {
	switch {
	case f.Publishes && n == 1:
		return "1 message"
	case f.Publishes:
		return fmt.Sprintf("%d messages", n)
	case n == 1:
		return "1 delivery"
	}
	return fmt.Sprintf("%d deliveries", n)
}
