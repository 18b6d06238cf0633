package session

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"mfelab/scenarios"
)

// flowRow makes a flow row from "topic from>to kind cause depth"; kind, cause and depth may
// be left out.
func flowRow(spec string) FlowRow {
	f := strings.Fields(spec)
	from, to, _ := strings.Cut(f[1], ">")
	r := FlowRow{Delivery: Delivery{Topic: f[0], From: from, To: to}}
	if len(f) > 2 {
		for k := range ArrowKinds {
			if strings.ReplaceAll(k.String(), " ", "-") == f[2] {
				r.Kind = k
			}
		}
	}
	if len(f) > 3 {
		r.Cause = f[3]
		fmt.Sscan(f[4], &r.Depth)
	}
	return r
}

func flowOf(specs ...string) Flow {
	var f Flow
	for i, s := range specs {
		r := flowRow(s)
		r.Row = i
		f.Rows = append(f.Rows, r)
	}
	return f
}

// opsText renders ops as "=a0b0 -a1 +b1 ~a2b2k" for comparing with a table.
func opsText(ops []Op) string {
	var parts []string
	for _, op := range ops {
		switch {
		case op.A < 0 && op.Moved >= 0:
			parts = append(parts, fmt.Sprintf("+b%d>a%d", op.B, op.Moved))
		case op.A < 0:
			parts = append(parts, fmt.Sprintf("+b%d", op.B))
		case op.B < 0 && op.Moved >= 0:
			parts = append(parts, fmt.Sprintf("-a%d>b%d", op.A, op.Moved))
		case op.B < 0:
			parts = append(parts, fmt.Sprintf("-a%d", op.A))
		case op.Change == 0:
			parts = append(parts, fmt.Sprintf("=a%db%d", op.A, op.B))
		default:
			s := fmt.Sprintf("~a%db%d", op.A, op.B)
			if op.Change&ChangedKind != 0 {
				s += "k"
			}
			if op.Change&ChangedCause != 0 {
				s += "c"
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func TestCompareFlowsAlignsByTopicAppsAndCause(t *testing.T) {
	tests := []struct {
		name string
		a, b Flow
		want string
	}{
		{"equal flows are alike throughout",
			flowOf("x a>b", "y b>a reply x 1"), flowOf("x a>b", "y b>a reply x 1"), "=a0b0 =a1b1"},
		{"an extra delivery in B is only in B",
			flowOf("x a>b", "z a>c"), flowOf("x a>b", "y b>c event x 1", "z a>c"), "=a0b0 +b1 =a1b2"},
		{"a missing delivery in B is only in A",
			flowOf("x a>b", "y b>c event x 1", "z a>c"), flowOf("x a>b", "z a>c"), "=a0b0 -a1 =a2b1"},
		{"a delivery drawn as another kind is changed, not removed and added",
			flowOf("x a>b", "y b>c event x 1"), flowOf("x a>b", "y b>c dead-letter x 1"), "=a0b0 ~a1b1k"},
		{"a delivery set off by another message is changed in its cause",
			flowOf("x a>b", "n c>d event x 1"), flowOf("x a>b", "n c>d event - 0"), "=a0b0 ~a1b1c"},
		{"a delivery to another app is in one run only",
			flowOf("x a>b"), flowOf("x a>c"), "-a0 +b0"},
		{"a delivery under another cause is found after the ones aligned exactly",
			flowOf("p a>b", "q b>a event p 1", "n a>z event q 2"), flowOf("r a>c", "s c>a event r 1", "n a>z event s 2"),
			"-a0 -a1 +b0 +b1 ~a2b2c"},
		{"retries of one message align in order",
			flowOf("x a>b retry-scheduled", "x a>b retry-scheduled", "x a>b"), flowOf("x a>b retry-scheduled", "x a>b"), "=a0b0 -a1 =a2b1"},
		{"a delivery made later is in each run only, and moved",
			flowOf("v a>d", "x a>b", "y a>c"), flowOf("x a>b", "y a>c", "v a>d"), "-a0>b2 =a1b0 =a2b1 +b2>a0"},
		{"an empty flow has everything of the other only in it",
			flowOf(), flowOf("x a>b"), "+b0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CompareFlows(tt.a, tt.b)
			if got := opsText(c.Ops); got != tt.want {
				t.Fatalf("ops %s, want %s", got, tt.want)
			}
			checkMarks(t, c)
		})
	}
}

// checkMarks fails unless every row of each flow is in exactly one op, in order, and its
// mark and the counts agree with the ops.
func checkMarks(t *testing.T, c Comparison) {
	t.Helper()
	nextA, nextB := 0, 0
	counts := [4]int{}
	for _, op := range c.Ops {
		if op.A >= 0 {
			if op.A != nextA {
				t.Fatalf("op %v out of order (want A %d)", op, nextA)
			}
			nextA++
		}
		if op.B >= 0 {
			if op.B != nextB {
				t.Fatalf("op %v out of order (want B %d)", op, nextB)
			}
			nextB++
		}
		want := MarkSame
		switch {
		case (op.A < 0 || op.B < 0) && op.Moved >= 0:
			want = MarkMoved
		case op.A < 0 || op.B < 0:
			want = MarkOnly
		case op.Change != 0:
			want = MarkChanged
		}
		if op.A >= 0 && c.MarksA[op.A] != want || op.B >= 0 && c.MarksB[op.B] != want {
			t.Fatalf("op %v marked %v/%v, want %v", op, c.MarksA, c.MarksB, want)
		}
		switch {
		case op.A < 0:
			counts[3]++
		case op.B < 0:
			counts[2]++
		case op.Change != 0:
			counts[1]++
		default:
			counts[0]++
		}
	}
	if nextA != len(c.FlowA.Rows) || nextB != len(c.FlowB.Rows) {
		t.Fatalf("ops cover %d of %d rows of A and %d of %d of B", nextA, len(c.FlowA.Rows), nextB, len(c.FlowB.Rows))
	}
	if counts != [4]int{c.Alike, c.Changed, c.OnlyA, c.OnlyB} {
		t.Fatalf("counts %v, ops say %v", []int{c.Alike, c.Changed, c.OnlyA, c.OnlyB}, counts)
	}
}

func FuzzCompareFlows(f *testing.F) {
	f.Add([]byte("abcab"), []byte("cbabac"))
	f.Add([]byte(""), []byte("ab"))
	f.Add([]byte("\x10\x21\x32"), []byte("\x10\x22\x33"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		// each byte is a row: low bits the topic and apps, high bits the kind and depth
		mk := func(bs []byte) Flow {
			var fl Flow
			for i, x := range bs {
				fl.Rows = append(fl.Rows, FlowRow{Row: i, Depth: int(x>>4) % 3,
					Delivery: Delivery{Topic: string(rune('a' + x%4)), From: "p", To: string(rune('q' + x>>2%2)), Kind: ArrowKind(x>>6) % 2}})
			}
			return fl
		}
		c := CompareFlows(mk(a), mk(b))
		checkMarks(t, c)
		if slices.Equal(a, b) && !c.Equal() {
			t.Fatalf("equal flows compare unequal: %s", opsText(c.Ops))
		}
	})
}

func runSide(t *testing.T, id string, knobs scenarios.Values) Side {
	t.Helper()
	s, err := scenarios.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	ses, err := Start(s, 42, knobs)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	return ses.Side(id)
}

func TestCompareRunsOfTheCheckoutSagas(t *testing.T) {
	tests := []struct {
		name     string
		a, b     Side
		equal    bool
		contains []string
	}{
		{"a run matches itself",
			runSide(t, "checkout-orchestrated", nil), runSide(t, "checkout-orchestrated", nil), true,
			[]string{"The flows match: the same 7 deliveries", "the same: every check passes in both"}},
		{"the orchestrated and choreographed sagas part at once and share only the notice",
			runSide(t, "checkout-orchestrated", scenarios.Values{"fail": "ship"}), runSide(t, "checkout-choreographed", scenarios.Values{"fail": "ship"}), false,
			[]string{"part at the first delivery: A has inventory.reserve from cart to inventory (a\nrequest) where B has order.created",
				"In A every delivery goes to or from cart; in B, 4 deliveries go between other apps",
				"~   11    8  notify.order-cancelled", "set off by an act or timer in A, by inventory.released in B"}},
		{"a slower read model moves its deliveries later",
			runSide(t, "event-sourcing-cqrs", nil), runSide(t, "event-sourcing-cqrs", scenarios.Values{"view-latency": "1s"}), false,
			[]string{"-    3       events.order.placed                cart -> dashboard  event        moved: B has it as its 9th",
				"of those, moved  4 deliveries alike in both runs"}},
		{"checks that follow the knobs are named when they differ",
			runSide(t, "dashboard-aggregator", nil), runSide(t, "dashboard-aggregator", scenarios.Values{"timeout": "120ms"}), false,
			[]string{"its one check passes", `only A checks "every refresh ends complete"`, `only B checks "every refresh ends partial"`}},
		{"a failed charge is an error reply where a failed shipment is not",
			runSide(t, "checkout-orchestrated", scenarios.Values{"fail": "charge"}), runSide(t, "checkout-orchestrated", scenarios.Values{"fail": "ship"}), false,
			[]string{"The flows part at the 4th delivery of both", "error reply / reply", "+         5  shipping.create"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compare(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			checkMarks(t, c)
			var sb strings.Builder
			if err := c.WriteReport(&sb, ReportOptions{Context: 3}); err != nil {
				t.Fatal(err)
			}
			if c.Equal() != tt.equal {
				t.Fatalf("Equal() = %v:\n%s", c.Equal(), sb.String())
			}
			for _, want := range tt.contains {
				if !strings.Contains(sb.String(), want) {
					t.Fatalf("report lacks %q:\n%s", want, sb.String())
				}
			}
		})
	}
}
