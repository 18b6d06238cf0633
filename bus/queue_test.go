package bus

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEventQueueTakesEventsInTimeThenScheduleOrder mixes pushes and pops at random times,
// most in order (the lane) and some before it (the heap), some of them fan-outs that stand
// for several deliveries, against a sorted reference of single events.
func TestEventQueueTakesEventsInTimeThenScheduleOrder(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var q eventQueue
		var ref []event // what the queue should hold, kept sorted by (at, seq)
		now := int64(0)
		for step := range 5000 {
			if rng.IntN(3) > 0 { // push
				at := now
				switch rng.IntN(4) {
				case 0:
					at += int64(rng.IntN(100)) // later, possibly out of order
				case 1:
					at += 50 // a fixed latency
				}
				// a new event has the highest seq yet: it goes after every event due no later
				insert := func(e event) {
					i, _ := slices.BinarySearchFunc(ref, e.at, func(x event, at int64) int {
						if x.at <= at {
							return -1
						}
						return 1
					})
					ref = slices.Insert(ref, i, e)
				}
				if k := rng.IntN(5); k >= 2 { // one publish to k subscriptions at one latency
					q.push(event{at: at, kind: evFanout, fan: &fanout{subs: make([]*Subscription, k)}})
					for i := range k {
						insert(event{at: at, seq: q.seq - uint64(k-1-i)})
					}
				} else {
					q.push(event{at: at})
					insert(event{at: at, seq: q.seq})
				}
				continue
			}
			var got []event
			switch rng.IntN(2) {
			case 0:
				if e, ok := q.pop(); ok {
					got = append(got, e)
				}
			case 1:
				if _, ok := q.peek(); ok {
					got = q.popTo(got)
				}
			}
			if len(got) != min(1, len(ref)) {
				t.Fatalf("seed %d step %d: took %d events, %d queued", seed, step, len(got), len(ref))
			}
			if len(got) == 1 {
				if got[0].at != ref[0].at || got[0].seq != ref[0].seq {
					t.Fatalf("seed %d step %d: took (%d, %d), want (%d, %d)",
						seed, step, got[0].at, got[0].seq, ref[0].at, ref[0].seq)
				}
				ref = ref[1:]
				now = got[0].at // time only moves forward, as on the loop
			}
			if q.len() != len(ref) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, q.len(), len(ref))
			}
		}
	}
}

// TestEventRingKeepsOrderAcrossChunks fills and drains the lane in bursts of every size
// around the chunk boundary, against a plain slice.
func TestEventRingKeepsOrderAcrossChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var r eventRing
	var ref []int64
	next := int64(0)
	for round := range 400 {
		pushes := rng.IntN(3 * ringChunk)
		if round%50 == 0 {
			pushes = 5*ringChunk + 1 // a deep burst now and then
		}
		for range pushes {
			r.push(event{at: next})
			ref = append(ref, next)
			next++
		}
		drops := rng.IntN(len(ref) + 1)
		for range drops {
			if got := r.first().at; got != ref[0] {
				t.Fatalf("round %d: first is %d, want %d", round, got, ref[0])
			}
			r.drop()
			ref = ref[1:]
		}
		if r.n != len(ref) {
			t.Fatalf("round %d: %d events, want %d", round, r.n, len(ref))
		}
		if len(ref) > 0 && r.last().at != ref[len(ref)-1] {
			t.Fatalf("round %d: last is %d, want %d", round, r.last().at, ref[len(ref)-1])
		}
		if live := len(r.chunks) - r.c0; live > len(ref)/ringChunk+2 {
			t.Fatalf("round %d: %d chunks in use for %d events", round, live, len(ref))
		}
	}
}

// A lane that fills and empties in turn reuses its chunk: no allocation once warm.
func TestEventRingReusesDrainedChunks(t *testing.T) {
	var r eventRing
	cycle := func() {
		for i := range 3 * ringChunk {
			r.push(event{at: int64(i)})
			if i%2 == 1 {
				r.drop()
			}
		}
		for r.n > 0 {
			r.drop()
		}
	}
	cycle()
	cycle()
	if allocs := testing.AllocsPerRun(20, cycle); allocs > 0 {
		t.Errorf("a fill-and-drain cycle allocates %.1f times once warm, want 0", allocs)
	}
}
