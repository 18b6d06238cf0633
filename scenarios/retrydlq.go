package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/dedup"
	"mfelab/bus/resilience"
)

var _ = register(&Scenario{
	ID:    "retry-dlq-idempotency",
	Title: "Retry, dead letters and idempotency",
	Watch: "Payment announces five payments; Notifications tells the customer about each. Its mail server is flaky: " +
		"each message fails its first attempts, and the retry middleware redelivers it with exponential backoff " +
		"and seeded jitter. Some payments are announced twice (an at-least-once producer): the idempotent consumer " +
		"absorbs the copies by message id. A poison message cannot be parsed: it is not retried but goes straight " +
		"to the dead-letter store. At 2s the mail server recovers and an operator retries every dead letter: the " +
		"good ones go through exactly once, the poison one comes back.",
	Knobs: []Knob{
		{Name: "failures", Label: "Failing attempts per message", Kind: Int, Default: "1", Min: "0", Max: "5", Samples: []string{"0", "4"}},
		{Name: "max-attempts", Label: "Max attempts", Kind: Int, Default: "3", Min: "1", Max: "5", Samples: []string{"1"}},
		{Name: "duplicates", Label: "Payments announced twice", Kind: Int, Default: "2", Min: "0", Max: "5", Samples: []string{"0"}},
		{Name: "poison", Label: "Send a poison message", Kind: Bool, Default: "true"},
	},
	Horizon: 4 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		pay, notif := w.App(Payment), w.App(Notifications)
		failures, dups, poison := r.Knobs.Int("failures"), r.Knobs.Int("duplicates"), r.Knobs.Bool("poison")
		recovered := false
		filter := dedup.New(r.Bus, dedup.Options{Window: time.Minute, OnDuplicate: func(d bus.Delivery) {
			notif.Add("duplicates absorbed", 1)
		}})
		retry := resilience.RetryMiddleware(resilience.RetryPolicy{MaxAttempts: r.Knobs.Int("max-attempts"),
			Initial: 50 * time.Millisecond, Max: time.Second, Jitter: 0.2, Rand: r.Bus.Rand(77)})
		notified := map[string]int{}
		_, err := notif.Conn.Subscribe("payment.processed", func(_ context.Context, d bus.Delivery) error {
			var p struct {
				Payment string  `json:"payment"`
				Amount  float64 `json:"amount"`
			}
			if err := json.Unmarshal(d.Payload, &p); err != nil || p.Payment == "" {
				return resilience.Permanent(fmt.Errorf("cannot parse the payment: %s", d.Payload))
			}
			if !recovered && d.Attempt <= failures {
				return errors.New("mail server busy")
			}
			notified[p.Payment]++
			notif.Add("shown", 1)
			notif.Set("last", fmt.Sprintf("Payment %s of %.2f received", p.Payment, p.Amount))
			return nil
		}, bus.WithMiddleware(filter.Middleware(), retry))
		if err != nil {
			return err
		}
		var good []string
		for i := range 5 {
			id := fmt.Sprintf("pay-%d", i+1)
			at := time.Duration(i) * 100 * time.Millisecond
			isPoison := poison && i == 2
			if !isPoison {
				good = append(good, id)
			}
			r.At(at, "Payment announces "+id, func() {
				var payload any = map[string]any{"payment": id, "amount": 10 * float64(i+1)}
				if isPoison {
					payload = map[string]any{"amount": "lots"}
				}
				copies := 1
				if i < dups {
					copies = 2
				}
				for range copies {
					_, _ = pay.Conn.Send(bus.Msg{Topic: "payment.processed", Payload: payload, CorrelationID: id,
						Headers: map[string]string{dedup.HeaderMessageID: id}})
				}
			})
		}
		r.At(2*time.Second, "the mail server recovers; an operator retries every dead letter", func() {
			recovered = true
			_ = r.DLQ.RetryAll()
		})

		r.Expect("each good payment is notified exactly once", func() (bool, string) {
			var got []string
			for _, id := range good {
				got = append(got, fmt.Sprintf("%s=%d", id, notified[id]))
			}
			return expectEq(strings.Join(got, " "), onceEach(good))
		})
		r.Expect(fmt.Sprintf("%d duplicates absorbed", min(dups, 5)-boolInt(poison && dups > 2)), func() (bool, string) {
			return expectEq(filter.Stats().Duplicates, uint64(min(dups, 5)-boolInt(poison && dups > 2)))
		})
		wantDead := "none"
		if poison {
			wantDead = "payment.processed: handler: cannot parse the payment"
		}
		r.Expect("left in the dead-letter store: "+wantDead, func() (bool, string) {
			var got []string
			for _, e := range r.DLQ.List() {
				got = append(got, e.Topic+": "+strings.SplitN(e.Reason, ": {", 2)[0])
			}
			if len(got) == 0 {
				return expectEq("none", wantDead)
			}
			return expectEq(strings.Join(got, "; "), strings.TrimSuffix(strings.Repeat(wantDead+"; ", 1+boolInt(poison && dups > 2)), "; "))
		})
		if failures > 0 {
			r.Expect("failed attempts were retried with backoff", func() (bool, string) {
				st := r.Bus.Stats()
				return st.Retried > 0, fmt.Sprintf("%d redeliveries", st.Retried)
			})
		}
		return nil
	},
})

func onceEach(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + "=1"
	}
	return strings.Join(parts, " ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
