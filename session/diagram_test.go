package session

import (
	"fmt"
	"strings"
	"testing"

	"mfelab/bus"
	"mfelab/scenarios"
)

// diagram runs a scenario and returns its flow rows as "kind from->to topic".
func diagram(t *testing.T, id string, set scenarios.Values) []string {
	t.Helper()
	s, err := scenarios.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	ses, err := Start(s, 42, set)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	d := ses.Trace().Diagram()
	apps := d.Apps()
	var rows []string
	for _, a := range d.Arrows(0, d.Len()) {
		rows = append(rows, fmt.Sprintf("%s %s->%s %s", a.Kind, apps[a.From], apps[a.To], a.Topic))
	}
	return rows
}

func has(rows []string, want string) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}

func TestTheDiagramTellsEachKindOfMessageApart(t *testing.T) {
	cases := []struct {
		scenario string
		set      scenarios.Values
		want     []string
	}{
		{"checkout-orchestrated", scenarios.Values{"fail": "ship"}, []string{
			"request cart->inventory inventory.reserve",
			"reply inventory->cart inventory.reserve.reply.cart",
			"error reply shipping->cart shipping.create.reply.cart",
			"compensation cart->payment payment.refund",
			"compensation cart->inventory inventory.release",
			"event cart->notifications notify.order-cancelled",
		}},
		{"checkout-choreographed", scenarios.Values{"fail": "ship"}, []string{
			"compensation payment->inventory payment.refunded",
		}},
		{"rpc-pricing", scenarios.Values{"latency": "500ms"}, []string{
			"timeout cart->cart pricing.calculate",
		}},
		{"retry-dlq-idempotency", nil, []string{
			"retry scheduled payment->notifications payment.processed",
			"dead letter payment->notifications payment.processed",
		}},
	}
	for _, c := range cases {
		t.Run(c.scenario+" "+c.set.String(), func(t *testing.T) {
			rows := diagram(t, c.scenario, c.set)
			for _, w := range c.want {
				if !has(rows, w) {
					t.Errorf("no row %q in:\n%s", w, strings.Join(rows, "\n"))
				}
			}
		})
	}
}

func TestAReplayDrawsEveryPublishedMessage(t *testing.T) {
	s, _ := scenarios.Get("checkout-orchestrated")
	orig, _ := Start(s, 42, nil)
	orig.RunToEnd()
	envs := orig.Trace().Envelopes()
	rep, err := Replay(envs, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	rep.RunToEnd()
	d := rep.Trace().Diagram()
	if d.Len() != len(envs) {
		t.Fatalf("%d rows for %d replayed messages", d.Len(), len(envs))
	}
	if got := d.Arrow(0); got.Kind != ArrowPublish || got.Seq != 1 {
		t.Fatalf("first row %+v", got)
	}
	if row := d.RowOfEvent(-1, d.Arrow(3).Envelope); row != 3 {
		t.Fatalf("RowOfEvent by envelope found %d", row)
	}
}

// A dead letter stays a dead letter: redelivering it later draws a row of its own rather
// than rewriting the one that ended at the dead-letter store.
func TestARedeliveredDeadLetterKeepsItsFirstArrow(t *testing.T) {
	rows := diagram(t, "retry-dlq-idempotency", nil)
	dead := 0
	for _, r := range rows {
		if r == "dead letter payment->notifications payment.processed" {
			dead++
		}
	}
	if dead != 2 {
		t.Fatalf("%d dead-letter arrows for the poison message, want 2 (its first delivery and the operator's redelivery):\n%s", dead, strings.Join(rows, "\n"))
	}
}

// The diagram, the trace and the dead-letter store count the same dead letters, for every
// scenario and each of its failures.
func TestTheDiagramCountsWhatTheDeadLetterStoreHolds(t *testing.T) {
	for _, s := range scenarios.All() {
		if s.ID == "load" {
			continue
		}
		for _, knobs := range failureKnobs(s) {
			ses, err := Start(s, 42, knobs)
			if err != nil {
				t.Fatal(err)
			}
			ses.RunToEnd()
			arrows, events := 0, 0
			d := ses.Trace().Diagram()
			for _, a := range d.Arrows(0, d.Len()) {
				if a.Kind == ArrowDeadLetter {
					arrows++
				}
			}
			for _, e := range ses.Trace().Events(0) {
				if e.Kind == bus.TraceDeadLettered {
					events++
				}
			}
			// the store holds what was not redelivered since (an operator's retry takes one out)
			stored, redelivered := len(ses.Run().DLQ.List()), 0
			for _, e := range ses.Trace().Events(0) {
				if e.Kind == bus.TraceRetryScheduled && e.Reason == "dead letter redelivered" {
					redelivered++
				}
			}
			if arrows != events || stored != events-redelivered {
				t.Errorf("%s %s: %d dead-letter arrows, %d dead-lettered events, %d in the store", s.ID, knobs, arrows, events, stored)
			}
		}
	}
}
