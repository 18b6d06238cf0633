package bus

// eventRing is a FIFO of events kept in fixed-size chunks. A deep queue grows a chunk at
// a time instead of doubling one buffer: nothing already queued is copied again (with the
// collector's write barriers on every pointer it holds), no large buffer is cleared at
// once, and the last two drained chunks are kept for the next ones needed, so a queue that
// fills and empties in turn allocates nothing (and one that drained a burst of millions
// holds on to 40 KB of it, not all of it).
type eventRing struct {
	chunks []*eventChunk // the live chunks are chunks[c0:], in order
	c0     int
	hc     *eventChunk // chunks[c0], holding the first event at head
	head   int
	tc     *eventChunk // the last chunk, whose next free slot is ti
	ti     int
	n      int
	spare  [2]*eventChunk
}

// ringChunk is how many events a chunk holds: 20 KB, so a burst of millions of
// deliveries takes one allocation per 256 queue entries, and a small queue holds little.
const ringChunk = 256

type eventChunk [ringChunk]event

func (r *eventRing) first() *event { return &r.hc[r.head] }

func (r *eventRing) last() *event { return &r.tc[r.ti-1] }

func (r *eventRing) push(e event) {
	if r.tc == nil || r.ti == ringChunk {
		r.addChunk()
	}
	r.tc[r.ti] = e
	r.ti++
	r.n++
}

// addChunk puts a fresh (or spare) chunk at the end for push to fill.
func (r *eventRing) addChunk() {
	if r.c0 > 0 && r.c0 >= len(r.chunks)/2 {
		// Half the chunk list is drained chunks' slots: move the live ones down rather
		// than let the list grow at the back for ever.
		live := copy(r.chunks, r.chunks[r.c0:])
		clear(r.chunks[live:])
		r.chunks, r.c0 = r.chunks[:live], 0
	}
	c := r.spare[0]
	if c == nil {
		c = new(eventChunk)
	}
	r.spare[0], r.spare[1] = r.spare[1], nil
	r.chunks = append(r.chunks, c)
	r.tc, r.ti = c, 0
	if len(r.chunks)-r.c0 == 1 {
		r.hc, r.head = c, 0
	}
}

func (r *eventRing) drop() {
	r.hc[r.head] = event{} // drop references for the GC
	r.head++
	r.n--
	switch {
	case r.n == 0:
		// Empty: the one chunk left starts over from its first slot.
		r.head, r.ti = 0, 0
	case r.head == ringChunk:
		// The first chunk is drained: keep it as a spare (drop cleared its slots) and
		// go on in the next.
		r.spare[1], r.spare[0] = r.spare[0], r.hc
		r.chunks[r.c0] = nil
		r.c0++
		r.hc, r.head = r.chunks[r.c0], 0
	}
}
