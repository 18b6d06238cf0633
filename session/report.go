package session

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"mfelab/scenarios"
)

// ReportOptions shape a comparison's report.
type ReportOptions struct {
	// Context is how many alike deliveries are shown on each side of a difference.
	Context int
	// All shows every difference; otherwise only the first, and the summary counts the rest.
	All bool
	// MaxLines bounds the lines of one difference shown (0 for 40); the rest are counted.
	MaxLines int
}

// WriteReport writes the comparison as the command line prints it: the two runs, the
// first place where their flows part (or every place), with context, in the form of a
// unified diff, then a summary of what differs: deliveries in one run only or changed,
// who sends to whom, and the outcome checks.
func (c Comparison) WriteReport(w io.Writer, o ReportOptions) error {
	if o.MaxLines <= 0 {
		o.MaxLines = 40
	}
	bw := bufio.NewWriter(w)
	for _, s := range []struct {
		letter string
		side   Side
		flow   Flow
	}{{"A", c.A, c.FlowA}, {"B", c.B, c.FlowB}} {
		fmt.Fprintf(bw, "%s  %s\n   %s; %s\n", s.letter, s.side.Name, s.flow.count(len(s.flow.Rows)), outcomeText(s.side.Outcome))
	}
	bw.WriteString("\n")
	if c.FlowA.Publishes {
		fmt.Fprintf(bw, "%s\n\n", wrap("A log does not say who received its messages, so the runs are compared by the messages they published.", 90))
	}
	if c.Changed == 0 && c.OnlyA == 0 && c.OnlyB == 0 {
		fmt.Fprintf(bw, "The flows match: the same %s, alike, in the same order.\n", c.FlowA.count(len(c.FlowA.Rows)))
	} else {
		hunks := c.Hunks(o.Context)
		fmt.Fprintf(bw, "%s\n\n", wrap(c.firstDivergence(), 90))
		shown := hunks
		if !o.All {
			shown = hunks[:1]
		}
		for k, h := range shown {
			if k > 0 {
				bw.WriteString("\n")
			}
			c.writeHunk(bw, h, o.MaxLines)
		}
		bw.WriteString("   (-: only in A  +: only in B  ~: in both, changed  blank: alike)\n")
		switch rest := len(hunks) - len(shown); {
		case rest == 1:
			bw.WriteString("\nThey part in 1 more place after this one (-all shows it).\n")
		case rest > 1:
			fmt.Fprintf(bw, "\nThey part in %d more places after this one (-all shows every one).\n", rest)
		}
	}
	c.writeSummary(bw)
	return bw.Flush()
}

// firstDivergence says in a sentence where the flows first part.
func (c Comparison) firstDivergence() string {
	k := 0
	for k < len(c.Ops) && c.Ops[k].alike() {
		k++
	}
	op := c.Ops[k]
	at := func(side string, i int) string {
		if i < 0 {
			return fmt.Sprintf("after %s's last", side)
		}
		return fmt.Sprintf("%s's %s", side, ordinal(i+1))
	}
	nextA, nextB := op.A, op.B
	for n := k; n < len(c.Ops) && (nextA < 0 || nextB < 0); n++ {
		if nextA < 0 && c.Ops[n].A >= 0 {
			nextA = c.Ops[n].A
		}
		if nextB < 0 && c.Ops[n].B >= 0 {
			nextB = c.Ops[n].B
		}
	}
	unit := "delivery"
	if c.FlowA.Publishes {
		unit = "message"
	}
	where := fmt.Sprintf("The flows part at %s and %s %s", at("A", nextA), at("B", nextB), unit)
	switch {
	case k == 0:
		where = fmt.Sprintf("The flows part at the first %s", unit)
	case nextA == nextB:
		where = fmt.Sprintf("The flows part at the %s %s of both", ordinal(nextA+1), unit)
	}
	switch {
	case op.A >= 0 && op.B >= 0:
		x, y := c.FlowA.Rows[op.A], c.FlowB.Rows[op.B]
		return fmt.Sprintf("%s: both runs have %s, but %s.", where, describe(x.Delivery, false), changeText(x, y))
	case nextA >= 0 && nextB >= 0:
		return fmt.Sprintf("%s: A has %s where B has %s.", where, describe(c.FlowA.Rows[nextA].Delivery, true), describe(c.FlowB.Rows[nextB].Delivery, true))
	case nextA >= 0:
		return fmt.Sprintf("%s: B ends where A goes on with %s.", where, describe(c.FlowA.Rows[nextA].Delivery, true))
	default:
		return fmt.Sprintf("%s: A ends where B goes on with %s.", where, describe(c.FlowB.Rows[nextB].Delivery, true))
	}
}

// describe renders a delivery for a sentence: "inventory.reserve from cart to inventory
// (a request)", or a published message: "inventory.reserve published by cart".
func describe(d Delivery, kind bool) string {
	if d.Kind == ArrowPublish {
		return d.Topic + " published by " + d.From
	}
	s := d.Topic + " from " + d.From + " to " + d.To
	if d.From == d.To {
		s = d.Topic + " at " + d.From
	}
	if kind {
		s += " (" + article(d.Kind) + ")"
	}
	return s
}

// article names what an arrow of kind k is, with its article: "an event", "a request".
func article(k ArrowKind) string {
	if k < ArrowKinds {
		return kindNouns[k]
	}
	return "an arrow of kind " + k.String()
}

var kindNouns = [ArrowKinds]string{
	ArrowEvent:        "an event",
	ArrowRequest:      "a request",
	ArrowReply:        "a reply",
	ArrowErrorReply:   "an error reply",
	ArrowCompensation: "a compensation",
	ArrowFailed:       "a failed handling",
	ArrowRetry:        "a retry",
	ArrowDeadLetter:   "a dead letter",
	ArrowSkipped:      "a skipped delivery",
	ArrowRejected:     "a rejected publish",
	ArrowRateLimited:  "a publish dropped by the rate limit",
	ArrowTimeout:      "a timeout",
	ArrowPublish:      "a publish",
}

// changeText says what changed about a delivery in both runs.
func changeText(x, y FlowRow) string {
	var parts []string
	if x.Kind != y.Kind {
		parts = append(parts, fmt.Sprintf("A draws it as %s and B as %s", article(x.Kind), article(y.Kind)))
	}
	if x.Cause != y.Cause || x.Depth != y.Depth {
		parts = append(parts, causeText(x, y))
	}
	return strings.Join(parts, ", and ")
}

// causeText says how the causes of a delivery in both runs differ.
func causeText(x, y FlowRow) string {
	by := func(r FlowRow) string {
		if r.Depth == 0 {
			return "no message (a scripted act or a timer)"
		}
		return fmt.Sprintf("%s, %s down the chain", r.Cause, steps(r.Depth))
	}
	if x.Cause == y.Cause {
		return fmt.Sprintf("both set it off by %s, %s down the chain in A and %s in B", x.Cause, steps(x.Depth), steps(y.Depth))
	}
	return fmt.Sprintf("in A it is set off by %s, in B by %s", by(x), by(y))
}

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}

// ordinal renders 1 as "1st", 2 as "2nd", 11 as "11th".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// writeHunk writes the ops of h as diff lines, at most maxLines of differences.
func (c Comparison) writeHunk(w io.Writer, h Hunk, maxLines int) {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	pub := c.FlowA.Publishes
	if pub {
		fmt.Fprintln(tw, "\t A\t B\ttopic\tpublished by\t")
	} else {
		fmt.Fprintln(tw, "\t A\t B\ttopic\tfrom -> to\tkind\t")
	}
	num := func(i int) string {
		if i < 0 {
			return ""
		}
		return fmt.Sprint(i + 1)
	}
	differing, skipped := 0, 0
	for _, op := range c.Ops[h.From:h.To] {
		if !op.alike() {
			if differing++; differing > maxLines {
				skipped++
				continue
			}
		}
		mark, r, note := " ", FlowRow{}, ""
		switch {
		case op.A < 0:
			mark, r = "+", c.FlowB.Rows[op.B]
			if op.Moved >= 0 {
				note = fmt.Sprintf("moved: A has it as its %s", ordinal(op.Moved+1))
			}
		case op.B < 0:
			mark, r = "-", c.FlowA.Rows[op.A]
			if op.Moved >= 0 {
				note = fmt.Sprintf("moved: B has it as its %s", ordinal(op.Moved+1))
			}
		default:
			r = c.FlowA.Rows[op.A]
			if op.Change != 0 {
				mark, note = "~", changeNote(r, c.FlowB.Rows[op.B])
			}
		}
		kind := r.Kind.String()
		if op.Change&ChangedKind != 0 {
			kind += " / " + c.FlowB.Rows[op.B].Kind.String()
		}
		if pub {
			fmt.Fprintf(tw, "  %s\t%3s\t%3s\t%s\t%s\t%s\n", mark, num(op.A), num(op.B), r.Topic, r.From, note)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%3s\t%3s\t%s\t%s -> %s\t%s\t%s\n", mark, num(op.A), num(op.B), r.Topic, r.From, r.To, kind, note)
	}
	tw.Flush()
	for line := range strings.Lines(sb.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	if skipped > 0 {
		fmt.Fprintf(w, "   … and %d more lines of this difference\n", skipped)
	}
}

// writeSummary writes the counts, who sends to whom, and the checks.
func (c Comparison) writeSummary(w io.Writer) {
	fmt.Fprintf(w, "\nSummary\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  alike in both\t%s\n", c.FlowA.count(c.Alike))
	if c.Changed > 0 {
		var what []string
		if c.KindChanged > 0 {
			what = append(what, fmt.Sprintf("%d drawn as another kind", c.KindChanged))
		}
		if c.CauseChanged > 0 {
			what = append(what, fmt.Sprintf("%d set off otherwise", c.CauseChanged))
		}
		fmt.Fprintf(tw, "  in both, changed\t%s (%s)\n", c.FlowA.count(c.Changed), strings.Join(what, ", "))
	}
	fmt.Fprintf(tw, "  only in A\t%s\n", c.FlowA.count(c.OnlyA))
	fmt.Fprintf(tw, "  only in B\t%s\n", c.FlowB.count(c.OnlyB))
	if c.Moved > 0 {
		fmt.Fprintf(tw, "  of those, moved\t%s alike in both runs, at another point of the flow\n", c.FlowA.count(c.Moved))
	}
	tw.Flush()
	if len(c.Pairs) > 0 {
		fmt.Fprintf(w, "\nWho delivers to whom, where the runs differ\n")
		width := 0
		for _, p := range c.Pairs {
			width = max(width, len(p.From)+len(p.To)+4)
		}
		fmt.Fprintf(w, "  %-*s  %3s  %3s\n", width, "", "A", "B")
		for _, p := range c.Pairs {
			fmt.Fprintf(w, "  %-*s  %3d  %3d\n", width, p.From+" -> "+p.To, p.A, p.B)
		}
		if hub := c.hubText(); hub != "" {
			fmt.Fprintf(w, "  %s\n", wrap(hub, 88))
		}
	}
	fmt.Fprintf(w, "\nOutcome checks\n  %s\n", c.checksText())
}

// hubText names an app that every delivery of one run goes to or from while the other
// run delivers between other apps too: the orchestrator against a choreography.
func (c Comparison) hubText() string {
	hubA, hubB := hub(c.FlowA), hub(c.FlowB)
	switch {
	case hubA != "" && hubB != hubA && between(c.FlowB, hubA) > 0:
		return fmt.Sprintf("In A every delivery goes to or from %s; in B, %s go between other apps.", hubA, c.FlowB.count(between(c.FlowB, hubA)))
	case hubB != "" && hubA != hubB && between(c.FlowA, hubB) > 0:
		return fmt.Sprintf("In B every delivery goes to or from %s; in A, %s go between other apps.", hubB, c.FlowA.count(between(c.FlowA, hubB)))
	}
	return ""
}

// hub is the app that is the sender or receiver of every delivery in f between two apps,
// when there is one and f has at least three such deliveries.
func hub(f Flow) string {
	counts := map[string]int{}
	n := 0
	for _, r := range f.Rows {
		if r.From == r.To {
			continue
		}
		n++
		counts[r.From]++
		counts[r.To]++
	}
	if n < 3 {
		return ""
	}
	for _, r := range f.Rows {
		if r.From != r.To {
			for _, app := range []string{r.From, r.To} {
				if counts[app] == n {
					return app
				}
			}
		}
	}
	return ""
}

// between counts the deliveries of f that neither come from nor go to app.
func between(f Flow, app string) int {
	n := 0
	for _, r := range f.Rows {
		if r.From != r.To && r.From != app && r.To != app {
			n++
		}
	}
	return n
}

// outcomeText says what a run's checks said, as far as known.
func outcomeText(o Outcome) string {
	switch {
	case !o.Known:
		return "checks not known"
	case o.Checks == nil && len(o.Failed) == 0:
		return "every check passed"
	case o.Checks == nil:
		return fmt.Sprintf("failed: %s", strings.Join(o.Failed, "; "))
	case len(o.Failed) == 0 && len(o.Checks) == 1:
		return "its one check passes"
	case len(o.Failed) == 0:
		return fmt.Sprintf("all %d checks pass", len(o.Checks))
	}
	return fmt.Sprintf("%d of %d checks fail: %s", len(o.Failed), len(o.Checks), strings.Join(o.Failed, "; "))
}

// checksText says how the runs' checks compare.
func (c Comparison) checksText() string {
	a, b := c.A.Outcome, c.B.Outcome
	switch {
	case !a.Known && !b.Known:
		return "not known for either run (a log keeps no checks; a recorded run stopped early or changed by hand has none)"
	case !a.Known:
		return "not known for A, so not compared"
	case !b.Known:
		return "not known for B, so not compared"
	case len(c.Checks) == 0:
		same := "the same: every check passes in both"
		if len(a.Failed) > 0 {
			same = "the same: both fail " + strings.Join(a.Failed, "; ")
		}
		if a.Checks == nil || b.Checks == nil {
			return same
		}
		onlyA, onlyB := checkNames(a.Checks, b.Checks), checkNames(b.Checks, a.Checks)
		if len(onlyA) == 0 && len(onlyB) == 0 {
			return same
		}
		lines := []string{same + ", but they are not the same checks (checks follow the knobs):"}
		for _, n := range onlyA {
			lines = append(lines, fmt.Sprintf("  only A checks %q", n))
		}
		for _, n := range onlyB {
			lines = append(lines, fmt.Sprintf("  only B checks %q", n))
		}
		return strings.Join(lines, "\n  ")
	}
	var lines []string
	for _, d := range c.Checks {
		res := func(pass, in bool, detail string) string {
			switch {
			case !in:
				return "not checked"
			case pass:
				return "passes"
			case detail != "":
				return "fails (" + detail + ")"
			}
			return "fails"
		}
		lines = append(lines, fmt.Sprintf("%q %s in A, %s in B", d.Name, res(d.PassA, d.InA, d.DetailA), res(d.PassB, d.InB, d.DetailB)))
	}
	return strings.Join(lines, "\n  ")
}

// changeNote says briefly, for a line of a difference, how the cause of a delivery in
// both runs changed (a change of kind shows in the kind column).
func changeNote(x, y FlowRow) string {
	switch {
	case x.Cause == y.Cause && x.Depth == y.Depth:
		return ""
	case x.Cause == y.Cause:
		return fmt.Sprintf("%s down the chain in A, %d in B", steps(x.Depth), y.Depth)
	}
	cause := func(r FlowRow) string {
		if r.Depth == 0 {
			return "an act or timer"
		}
		return r.Cause
	}
	return fmt.Sprintf("set off by %s in A, by %s in B", cause(x), cause(y))
}

// wrap breaks text into lines of at most width runes, between words.
func wrap(text string, width int) string {
	var sb strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		l := len([]rune(word))
		if i > 0 {
			if n+1+l > width {
				sb.WriteByte('\n')
				n = 0
			} else {
				sb.WriteByte(' ')
				n++
			}
		}
		sb.WriteString(word)
		n += l
	}
	return sb.String()
}

// checkNames lists the names of the checks in x that are not in y.
func checkNames(x, y []scenarios.Check) []string {
	var out []string
	for _, c := range x {
		if !slices.ContainsFunc(y, func(d scenarios.Check) bool { return d.Name == c.Name }) {
			out = append(out, c.Name)
		}
	}
	return out
}
