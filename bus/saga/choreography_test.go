package saga

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

// orderFlow is the checkout as a choreography: each service reacts to the previous one's
// event; failures flow back as events that trigger the compensations in reverse order.
func orderFlow(t *testing.T, b *bus.Bus, fail map[string]bool) *Choreography {
	t.Helper()
	app := func(name string) *bus.App { return b.MustRegister(bus.AppConfig{Name: name}) }
	work := func(step string) func(context.Context, bus.Delivery) (any, error) {
		return func(context.Context, bus.Delivery) (any, error) {
			if fail[step] {
				return nil, fmt.Errorf("%s refused", step)
			}
			return map[string]string{"step": step}, nil
		}
	}
	undo := func(step string) func(context.Context, bus.Delivery, json.RawMessage) error {
		return func(context.Context, bus.Delivery, json.RawMessage) error {
			if fail["undo "+step] {
				return fmt.Errorf("cannot undo %s", step)
			}
			return nil
		}
	}
	c, err := Choreograph("checkout", []Participant{
		{App: app("inventory"), Step: "reserve", On: "order.created", Do: work("reserve"),
			Success: "inventory.reserved", Failure: "inventory.failed",
			CompensateOn: []string{"payment.failed", "payment.refunded"}, Undo: undo("reserve"), Compensated: "inventory.released"},
		{App: app("payment"), Step: "charge", On: "inventory.reserved", Do: work("charge"),
			Success: "payment.processed", Failure: "payment.failed",
			CompensateOn: []string{"shipping.failed"}, Undo: undo("charge"), Compensated: "payment.refunded"},
		{App: app("shipping"), Step: "ship", On: "payment.processed", Do: work("ship"),
			Success: "shipping.scheduled", Failure: "shipping.failed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChoreographedSaga(t *testing.T) {
	tests := []struct {
		name   string
		fail   []string
		status Status
		topics string
		done   string
		undone string
	}{
		{"every service succeeds", nil, Completed,
			"order.created inventory.reserved payment.processed shipping.scheduled", "reserve charge ship", ""},
		{"a failed charge releases the stock", []string{"charge"}, Failed,
			"order.created inventory.reserved payment.failed inventory.released", "reserve", "reserve"},
		{"a failed shipment refunds then releases", []string{"ship"}, Failed,
			"order.created inventory.reserved payment.processed shipping.failed payment.refunded inventory.released", "reserve charge", "charge reserve"},
		{"a failed reservation stops at once", []string{"reserve"}, Failed,
			"order.created inventory.failed", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New(bus.Options{Seed: 8})
			fail := map[string]bool{}
			for _, f := range tt.fail {
				fail[f] = true
			}
			c := orderFlow(t, b, fail)
			var topics []string
			b.Tap(func(e bus.TraceEvent) {
				if e.Kind == bus.TracePublished {
					topics = append(topics, e.Topic)
				}
			})
			shop := b.MustRegister(bus.AppConfig{Name: "cart"})
			start, _ := shop.Send(bus.Msg{Topic: "order.created", CorrelationID: "order-1"})
			b.RunUntilIdle()
			p, ok := c.Progress(start.Correlation())
			if !ok {
				t.Fatal("no progress recorded")
			}
			if strings.Join(topics, " ") != tt.topics || p.Status != tt.status || strings.Join(p.Done, " ") != tt.done ||
				strings.Join(p.Compensated, " ") != tt.undone {
				t.Fatalf("topics %q\nstatus %s done %v undone %v", topics, p.Status, p.Done, p.Compensated)
			}
		})
	}
}

func TestChoreographyTraceAndFailedUndo(t *testing.T) {
	b := bus.New(bus.Options{Seed: 8})
	c := orderFlow(t, b, map[string]bool{"ship": true, "undo charge": true})
	rec := bustest.Record(b, bus.TracePublished, bus.TraceDeadLettered)
	_, _ = b.MustRegister(bus.AppConfig{Name: "cart"}).Send(bus.Msg{Topic: "order.created", CorrelationID: "o-2"})
	b.RunUntilIdle()
	want := []string{
		"+0 published cart order.created",
		"+0 published inventory inventory.reserved",
		"+0 published payment payment.processed",
		"+0 published shipping shipping.failed",
		"+0 dead-lettered payment shipping.failed [handler: charge: undo: cannot undo charge]",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	p, _ := c.Progress("o-2")
	// the refund failed, so nothing announced payment.refunded and the stock stays reserved:
	// exactly the gap a choreography leaves that an orchestrator closes
	if p.Status != Compensating || len(p.UndoErrors) != 1 || p.UndoErrors[0].Step != "charge" {
		t.Fatalf("progress %+v", p)
	}
	if len(c.Conversations()) != 1 {
		t.Fatalf("conversations %+v", c.Conversations())
	}
}
