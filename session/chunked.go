package session

import "iter"

// chunkLen is how many items one chunk of a Chunked holds.
const chunkLen = 4096

// Chunked is an append-only list kept in fixed-size chunks. Growing it never copies or
// moves what it holds, unlike a slice, whose every doubling copies all of it into a block
// twice the size: with a million trace events that is a pause of tenths of a second on
// whichever goroutine appends (the bus loop, the UI thread). Items stay where they are, so
// a pointer from Ptr remains good.
//
// The oldest items can be let go a chunk at a time (DropBefore); the others keep their
// indexes, so an index names the same item for the list's whole life. The zero value is
// an empty list; it is not safe for concurrent use.
type Chunked[T any] struct {
	chunks  [][]T // chunks[k] holds items from (dropped+k)*chunkLen on
	dropped int   // chunks let go from the front
	n       int   // items ever appended
}

// Len is the number of items ever appended: one more than the newest index.
func (c *Chunked[T]) Len() int { return c.n }

// First is the index of the oldest item still held.
func (c *Chunked[T]) First() int { return min(c.dropped*chunkLen, c.n) }

// Append adds v at the end.
func (c *Chunked[T]) Append(v T) {
	if c.n%chunkLen == 0 {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
}

// At returns item i, which must be held: First() <= i < Len().
func (c *Chunked[T]) At(i int) T { return c.chunks[i/chunkLen-c.dropped][i%chunkLen] }

// Ptr returns a pointer to item i, which must be held, for changing it in place.
func (c *Chunked[T]) Ptr(i int) *T { return &c.chunks[i/chunkLen-c.dropped][i%chunkLen] }

// DropBefore lets go of every whole chunk of items older than index i. It returns the new
// First.
func (c *Chunked[T]) DropBefore(i int) int {
	k := min(i/chunkLen-c.dropped, len(c.chunks)-1) // never the chunk being filled
	if k > 0 {
		clear(c.chunks[:k]) // the chunks' items become garbage now, not when the slice grows
		c.chunks = c.chunks[k:]
		c.dropped += k
	}
	return c.First()
}

// From returns a copy of the items held from index from on.
func (c *Chunked[T]) From(from int) []T {
	from = max(from, c.First())
	if from >= c.n {
		return nil
	}
	out := make([]T, 0, c.n-from)
	for i := from/chunkLen - c.dropped; i < len(c.chunks); i++ {
		ch := c.chunks[i]
		if i == from/chunkLen-c.dropped {
			ch = ch[from%chunkLen:]
		}
		out = append(out, ch...)
	}
	return out
}

// All yields every item held with its index, in order.
func (c *Chunked[T]) All() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for ci, ch := range c.chunks {
			for j, v := range ch {
				if !yield((c.dropped+ci)*chunkLen+j, v) {
					return
				}
			}
		}
	}
}

// Backward yields every item held with its index, newest first.
func (c *Chunked[T]) Backward() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for i := c.n - 1; i >= c.First(); i-- {
			if !yield(i, c.At(i)) {
				return
			}
		}
	}
}
