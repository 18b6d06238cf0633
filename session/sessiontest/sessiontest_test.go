package sessiontest

import (
	"fmt"
	"strings"
	"testing"

	"mfelab/scenarios"
	"mfelab/session"
)

func d(topic, from, to string, k session.ArrowKind) session.Delivery {
	return session.Delivery{Topic: topic, From: from, To: to, Kind: k}
}

var table = []session.Delivery{
	d("a", "cart", "inventory", session.ArrowRequest),
	d("a.reply", "inventory", "cart", session.ArrowReply),
	d("b", "cart", "payment", session.ArrowRequest),
	d("b.reply", "payment", "cart", session.ArrowReply),
	d("c", "cart", "notifications", session.ArrowEvent),
}

func TestFlowDifferenceNamesTheFirstDeliveryThatDiffers(t *testing.T) {
	with := func(i int, x session.Delivery) []session.Delivery {
		f := append([]session.Delivery(nil), table...)
		f[i] = x
		return f
	}
	tests := []struct {
		name     string
		got      []session.Delivery
		contains []string
	}{
		{"the same flow differs nowhere", table, nil},
		{"another kind is named with its number, its index and both versions",
			with(3, d("b.reply", "payment", "cart", session.ArrowErrorReply)),
			[]string{"at delivery 4 (Flow[3]) of 5; the run made 5", "want b.reply  payment -> cart  reply\n", "got  b.reply  payment -> cart  error reply",
				"the run (got) around it:\n\t     1  a  cart -> inventory  request", "\t>    4  b.reply  payment -> cart  error reply"}},
		{"only the first difference is named", with(4, d("x", "cart", "notifications", session.ArrowEvent)),
			[]string{"at delivery 5 (Flow[4])", "got  x  cart -> notifications  event"}},
		{"a run that ends early says so", table[:2],
			[]string{"at delivery 3 (Flow[2]) of 5; the run made 2", "got  (nothing: it ends before)"}},
		{"a run that goes on shows what comes", append(append([]session.Delivery(nil), table...), d("late", "a", "b", session.ArrowEvent)),
			[]string{"at delivery 6 (Flow[5]) of 5; the run made 6", "want (nothing: it ends before)", "got  late  a -> b  event"}},
		{"an empty run against a table has no deliveries to show", nil,
			[]string{"at delivery 1 (Flow[0]) of 5; the run made 0", "the run (got) around it:\n\t(no deliveries)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := FlowDifference(table, tt.got)
			if (msg == "") != (tt.contains == nil) {
				t.Fatalf("message %q", msg)
			}
			for _, want := range tt.contains {
				if !strings.Contains(msg, want) {
					t.Fatalf("message lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestChecksDifferenceComparesNamesAndResults(t *testing.T) {
	want := []Check{{"stock restored", true}, {"order cancelled", true}}
	tests := []struct {
		name string
		got  []scenarios.Check
		says string
	}{
		{"the same checks differ nowhere", []scenarios.Check{{Name: "stock restored", Pass: true, Detail: "5"}, {Name: "order cancelled", Pass: true}}, ""},
		{"a failing check shows its detail", []scenarios.Check{{Name: "stock restored", Pass: false, Detail: "got 4"}, {Name: "order cancelled", Pass: true}},
			`check 1 "stock restored": pass false, want true (got 4)`},
		{"a renamed check is named", []scenarios.Check{{Name: "stock kept", Pass: true}, {Name: "order cancelled", Pass: true}}, `check 1 is "stock kept", want "stock restored"`},
		{"a missing check is named", []scenarios.Check{{Name: "stock restored", Pass: true}}, `check 2 "order cancelled" (pass true) is missing`},
		{"a new check is named", []scenarios.Check{{Name: "stock restored", Pass: true}, {Name: "order cancelled", Pass: true}, {Name: "told", Pass: true}},
			`check 3 "told" (pass true) is new`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := ChecksDifference(want, tt.got)
			if tt.says == "" && msg != "" || !strings.Contains(msg, tt.says) {
				t.Fatalf("message %q, want it to say %q", msg, tt.says)
			}
		})
	}
}

// Run passes a run that matches and fails, without stopping, one that does not.
func TestRunHoldsARunToItsTable(t *testing.T) {
	s, _ := scenarios.Get("rpc-pricing")
	ses, err := session.Start(s, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	flow, err := ses.Trace().Flow()
	if err != nil {
		t.Fatal(err)
	}
	want := Want{Flow: flow.Deliveries()}
	for _, c := range ses.Checks() {
		want.Checks = append(want.Checks, Check{Name: c.Name, Pass: c.Pass})
	}
	Run(t, "rpc-pricing", 3, nil, want)

	rec := &recorder{TB: t}
	want.Flow[2].Kind = session.ArrowEvent
	Run(rec, "rpc-pricing", 3, nil, want)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "at delivery 3 (Flow[2])") {
		t.Fatalf("errors %q", rec.errors)
	}
}

// recorder keeps the errors a test reports instead of failing it.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
