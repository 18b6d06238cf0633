package session

import "iter"

// chunkLen is how many items one chunk of a Chunked holds.
const chunkLen = 4096

// Chunked is an append-only list kept in fixed-size chunks. Growing it never copies or
// moves what it holds, unlike a slice, whose every doubling copies all of it into a block
// twice the size: with a million trace events that is a pause of tenths of a second on
// whichever goroutine appends (the bus loop, the UI thread). Items stay where they are, so
// a pointer from Ptr remains good. The zero value is an empty list; it is not safe for
// concurrent use.
type Chunked[T any] struct {
	chunks [][]T
	n      int
}

// Len is the number of items.
func (c *Chunked[T]) Len() int { return c.n }

// Append adds v at the end.
func (c *Chunked[T]) Append(v T) {
	if c.n%chunkLen == 0 {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
}

// At returns item i, which must be in range.
func (c *Chunked[T]) At(i int) T { return c.chunks[i/chunkLen][i%chunkLen] }

// Ptr returns a pointer to item i, for changing it in place.
func (c *Chunked[T]) Ptr(i int) *T { return &c.chunks[i/chunkLen][i%chunkLen] }

// From returns a copy of the items from index from on (none if from is past the end).
func (c *Chunked[T]) From(from int) []T {
	from = max(from, 0)
	if from >= c.n {
		return nil
	}
	out := make([]T, 0, c.n-from)
	for i := from / chunkLen; i < len(c.chunks); i++ {
		ch := c.chunks[i]
		if i == from/chunkLen {
			ch = ch[from%chunkLen:]
		}
		out = append(out, ch...)
	}
	return out
}

// All yields every item with its index, in order.
func (c *Chunked[T]) All() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for ci, ch := range c.chunks {
			for j, v := range ch {
				if !yield(ci*chunkLen+j, v) {
					return
				}
			}
		}
	}
}

// Backward yields every item with its index, newest first.
func (c *Chunked[T]) Backward() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for i := c.n - 1; i >= 0; i-- {
			if !yield(i, c.At(i)) {
				return
			}
		}
	}
}
