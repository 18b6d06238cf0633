package session

// align returns a longest common subsequence of two sequences of lengths n and m, as pairs
// of indexes (i into the first, j into the second) in increasing order, where eq(i, j)
// says whether element i of the first equals element j of the second. It is Myers'
// O((n+m)·D) difference algorithm in linear space (D being how many elements are in one
// sequence only): the middle snake found from both ends splits the problem in two, so two
// flows of many thousand deliveries that have little in common still align in memory
// proportional to their length.
func align(n, m int, eq func(i, j int) bool) [][2]int {
	var out [][2]int
	alignRange(eq, 0, n, 0, m, &out)
	return out
}

// alignRange aligns a[a0:a1] with b[b0:b1], appending the matches to out in order.
func alignRange(eq func(i, j int) bool, a0, a1, b0, b1 int, out *[][2]int) {
	for a0 < a1 && b0 < b1 && eq(a0, b0) {
		*out = append(*out, [2]int{a0, b0})
		a0++
		b0++
	}
	suffix := 0
	for a0 < a1 && b0 < b1 && eq(a1-1, b1-1) {
		a1--
		b1--
		suffix++
	}
	if a0 < a1 && b0 < b1 {
		// Both ends differ, so at least two elements are in one sequence only and the
		// middle snake lies strictly inside: each half is smaller than the whole.
		x0, y0, x1, y1 := middleSnake(eq, a0, a1, b0, b1)
		alignRange(eq, a0, x0, b0, y0, out)
		for ; x0 < x1; x0, y0 = x0+1, y0+1 {
			*out = append(*out, [2]int{x0, y0})
		}
		alignRange(eq, x1, a1, y1, b1, out)
	}
	for k := range suffix {
		*out = append(*out, [2]int{a1 + k, b1 + k})
	}
}

// middleSnake finds the middle snake of an optimal edit script between a[a0:a1] and
// b[b0:b1], searching forward from the start and backward from the end at once; it
// returns the snake's start and end, in absolute indexes.
func middleSnake(eq func(i, j int) bool, a0, a1, b0, b1 int) (x0, y0, x1, y1 int) {
	n, m := a1-a0, b1-b0
	delta := n - m
	odd := delta&1 != 0
	maxD := (n + m + 1) / 2
	off := maxD + 1
	// vf[k+off]: the furthest x reached forward on diagonal k = x-y; vb[c+off]: the
	// furthest x reached backward, counted from the end, on diagonal c of the reversed
	// sequences (c = delta-k).
	vf := make([]int, 2*off+1)
	vb := make([]int, 2*off+1)
	for d := 0; d <= maxD; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && vf[k-1+off] < vf[k+1+off]) {
				x = vf[k+1+off]
			} else {
				x = vf[k-1+off] + 1
			}
			y := x - k
			sx, sy := x, y
			for x < n && y < m && eq(a0+x, b0+y) {
				x, y = x+1, y+1
			}
			vf[k+off] = x
			if c := delta - k; odd && c >= -(d-1) && c <= d-1 && x+vb[c+off] >= n {
				return a0 + sx, b0 + sy, a0 + x, b0 + y
			}
		}
		for c := -d; c <= d; c += 2 {
			var x int
			if c == -d || (c != d && vb[c-1+off] < vb[c+1+off]) {
				x = vb[c+1+off]
			} else {
				x = vb[c-1+off] + 1
			}
			y := x - c
			sx, sy := x, y
			for x < n && y < m && eq(a1-1-x, b1-1-y) {
				x, y = x+1, y+1
			}
			vb[c+off] = x
			if k := delta - c; !odd && k >= -d && k <= d && x+vf[k+off] >= n {
				return a1 - x, b1 - y, a1 - sx, b1 - sy
			}
		}
	}
	// Unreachable for n, m > 0, as the two searches meet by depth maxD; should it be
	// reached, this split still ends the recursion (leaving the rest unmatched).
	return a1, b0, a1, b0
}
