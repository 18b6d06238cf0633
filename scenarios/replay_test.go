package scenarios_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
	. "mfelab/scenarios"
)

// shuffledLog makes n envelopes from a few apps, many sharing a time (apps of no scenario, which no ACL holds back), their sequence
// numbers and times out of order in the file, some naming an earlier one as their cause.
func shuffledLog(n int, seed uint64) []*bus.Envelope {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	envs := make([]*bus.Envelope, n)
	for i := range envs {
		var id uuid.UUID
		for j := range id {
			id[j] = byte(rng.UintN(256))
		}
		envs[i] = &bus.Envelope{ID: id, Topic: fmt.Sprintf("t.m%d", i), Seq: uint64(1 + rng.IntN(n)),
			TS:      start.Add(time.Duration(rng.IntN(50)) * time.Millisecond),
			Payload: json.RawMessage(`{}`), Meta: bus.Meta{Source: []string{"robot-1", "robot-2", "robot-3"}[rng.IntN(3)]}}
		if i > 0 && rng.IntN(3) == 0 {
			envs[i].Meta.CausationID = envs[rng.IntN(i)].ID
		}
	}
	return envs
}

// A replay publishes its log by time, then sequence number, then file order, however many
// messages wait for their turn: they are scheduled a batch at a time, and the order must
// be the one they would have had all scheduled at once.
func TestAReplayOfManyMessagesPublishesThemInTimeThenSequenceOrder(t *testing.T) {
	for _, n := range []int{1, 3, 4096, 4097, 3*4096 + 5, 20_000} {
		t.Run(fmt.Sprintf("%d messages", n), func(t *testing.T) {
			envs := shuffledLog(n, uint64(n))
			want := slices.Clone(envs)
			slices.SortStableFunc(want, func(a, b *bus.Envelope) int { return cmp.Compare(a.Seq, b.Seq) })
			slices.SortStableFunc(want, func(a, b *bus.Envelope) int { return a.TS.Compare(b.TS) })
			var got []string
			r, err := Replay(envs, func(r *Run) {
				r.Bus.Tap(func(e bus.TraceEvent) {
					if e.Kind == bus.TracePublished {
						got = append(got, e.Topic)
					}
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if p := r.Pending(); p != n {
				t.Fatalf("%d pending before the first step, want %d", p, n)
			}
			if r.StepToMessage(1) != 1 || r.Pending() != n-1 {
				t.Fatalf("a step published %d and left %d pending, want 1 and %d", r.Published(), r.Pending(), n-1)
			}
			r.Bus.RunUntilIdle()
			if len(got) != n {
				t.Fatalf("published %d of %d", len(got), n)
			}
			for i, e := range want {
				if got[i] != e.Topic {
					t.Fatalf("message %d published is %s, want %s (seq %d at %s)", i+1, got[i], e.Topic, e.Seq, e.TS.Format(time.StampMicro))
				}
			}
			if !Passed(r.Checks()) {
				t.Fatal(FormatChecks(r.Checks()))
			}
		})
	}
}
