package session

import (
	"slices"
	"testing"
)

func TestChunkedBehavesLikeASlice(t *testing.T) {
	for _, n := range []int{0, 1, chunkLen - 1, chunkLen, chunkLen + 1, 3*chunkLen + 17} {
		var c Chunked[int]
		var ref []int
		var first *int
		for i := range n {
			c.Append(i * 3)
			ref = append(ref, i*3)
			if i == 0 {
				first = c.Ptr(0)
			}
		}
		if c.Len() != len(ref) {
			t.Fatalf("n=%d: Len %d", n, c.Len())
		}
		for i, v := range ref {
			if c.At(i) != v {
				t.Fatalf("n=%d: At(%d) = %d, want %d", n, i, c.At(i), v)
			}
		}
		if n > 0 && first != c.Ptr(0) {
			t.Fatalf("n=%d: growing moved the first item", n)
		}
		for _, from := range []int{-1, 0, 1, chunkLen - 1, chunkLen, n - 1, n, n + 5} {
			want := []int(nil)
			if f := max(from, 0); f < n {
				want = ref[f:]
			}
			if got := c.From(from); !slices.Equal(got, want) {
				t.Fatalf("n=%d: From(%d) has %d items, want %d", n, from, len(got), len(want))
			}
		}
		var all, back []int
		for i, v := range c.All() {
			if v != ref[i] {
				t.Fatalf("n=%d: All gave %d at %d", n, v, i)
			}
			all = append(all, v)
		}
		for i, v := range c.Backward() {
			if v != ref[i] {
				t.Fatalf("n=%d: Backward gave %d at %d", n, v, i)
			}
			back = append(back, v)
		}
		slices.Reverse(back)
		if !slices.Equal(all, ref) || !slices.Equal(back, ref) {
			t.Fatalf("n=%d: iteration lost items", n)
		}
	}
}

func TestChunkedPtrChangesInPlace(t *testing.T) {
	var c Chunked[string]
	for range chunkLen + 2 {
		c.Append("a")
	}
	*c.Ptr(chunkLen + 1) = "b"
	if c.At(chunkLen+1) != "b" || c.At(chunkLen) != "a" {
		t.Fatal("Ptr did not change the item in place")
	}
}

// Dropping the oldest chunks keeps every other item at its index, never drops the chunk
// being filled, and keeps appending.
func TestChunkedDropsOldChunksAndKeepsIndexes(t *testing.T) {
	for _, n := range []int{0, 5, chunkLen, 3*chunkLen + 17} {
		for _, before := range []int{0, 1, chunkLen - 1, chunkLen, 2*chunkLen + 3, n, n + chunkLen} {
			var c Chunked[int]
			for i := range n {
				c.Append(i)
			}
			first := c.DropBefore(before)
			if first > before || first%chunkLen != 0 && first != n || first > n {
				t.Fatalf("n=%d DropBefore(%d): First %d", n, before, first)
			}
			if n > 0 && first == n && n%chunkLen != 0 {
				t.Fatalf("n=%d DropBefore(%d) dropped the chunk being filled", n, before)
			}
			for i := first; i < n; i++ {
				if c.At(i) != i {
					t.Fatalf("n=%d DropBefore(%d): At(%d) = %d", n, before, i, c.At(i))
				}
			}
			for i, v := range c.All() {
				if i != v || i < first {
					t.Fatalf("n=%d DropBefore(%d): All gave %d at %d", n, before, v, i)
				}
			}
			if got := c.From(0); len(got) != n-first {
				t.Fatalf("n=%d DropBefore(%d): From(0) has %d items, want %d", n, before, len(got), n-first)
			}
			c.Append(n)
			if c.At(n) != n || c.Len() != n+1 {
				t.Fatalf("n=%d DropBefore(%d): append after dropping lost the item", n, before)
			}
		}
	}
}
