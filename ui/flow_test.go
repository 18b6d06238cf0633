package ui

import (
	"fmt"
	"strings"
	"testing"

	"mfelab/scenarios"
)

// diagram runs a scenario headless and returns its flow rows as "kind from->to topic".
func diagram(t *testing.T, id string, set scenarios.Values) []string {
	t.Helper()
	s, err := scenarios.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scenarios.Start(s, 42, set)
	if err != nil {
		t.Fatal(err)
	}
	r.RunToEnd()
	var names []string
	for _, a := range r.World.Apps() {
		names = append(names, a.Name)
	}
	m := newFlowModel(names)
	for i, e := range r.Log.Events(0) {
		m.add(i, e, e.At.Sub(r.Bus.Epoch()))
	}
	var rows []string
	for _, a := range m.arrows.All() {
		rows = append(rows, fmt.Sprintf("%s %s->%s %s", arrowStyles[a.kind].name, m.apps[a.from], m.apps[a.to], a.topic))
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

func TestEveryArrowKindHasItsOwnLookBesidesColour(t *testing.T) {
	seen := map[string]arrowKind{}
	for k := arrowKind(0); k < arrowKinds; k++ {
		st := arrowStyles[k]
		if st.name == "" {
			t.Fatalf("kind %d has no style", k)
		}
		// the label's mark, line pattern and head tell kinds apart without colour
		look := fmt.Sprintf("%s|%v|%d", st.mark, st.pattern, st.head)
		if other, dup := seen[look]; dup {
			t.Errorf("%s and %s look alike but for colour", st.name, arrowStyles[other].name)
		}
		seen[look] = k
	}
}

func TestAReplayDrawsEveryPublishedMessage(t *testing.T) {
	s, _ := scenarios.Get("checkout-orchestrated")
	r, _ := scenarios.Start(s, 42, nil)
	r.RunToEnd()
	rep, err := scenarios.Replay(r.Log.Envelopes())
	if err != nil {
		t.Fatal(err)
	}
	rep.RunToEnd()
	m := newFlowModel(nil)
	m.publishes = true
	for i, e := range rep.Log.Events(0) {
		m.add(i, e, 0)
	}
	if m.arrows.Len() != len(r.Log.Envelopes()) {
		t.Fatalf("%d rows for %d replayed messages", m.arrows.Len(), len(r.Log.Envelopes()))
	}
	if got := m.arrows.At(0); got.kind != arrowPublish || got.seq != 1 {
		t.Fatalf("first row %+v", got)
	}
	if row := m.rowOfEvent(-1, m.arrows.At(3).envelope); row != 3 {
		t.Fatalf("rowOfEvent by envelope found %d", row)
	}
}
