package ui

import (
	"testing"
	"time"
)

// The percentiles are nearest ranks: a figure some refresh really took, never an average.
func TestRefreshDurationsAreGivenAsPercentiles(t *testing.T) {
	ms := func(n ...int) *durations {
		var d durations
		for _, v := range n {
			d.add(time.Duration(v) * time.Millisecond)
		}
		return &d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // in no order
	}
	tests := []struct {
		name          string
		d             *durations
		p50, p99, max time.Duration
	}{
		{"no refresh gives zeros", ms(), 0, 0, 0},
		{"one refresh is every percentile", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"of fifty the 99th percentile is the worst", ms(append(make([]int, 49), 40)...), 0, 40 * time.Millisecond, 40 * time.Millisecond},
		{"of a hundred the 99th is the second worst", ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.quantile(0.5); got != tc.p50 {
				t.Errorf("p50 %v, want %v", got, tc.p50)
			}
			if got := tc.d.quantile(0.99); got != tc.p99 {
				t.Errorf("p99 %v, want %v", got, tc.p99)
			}
			if got := tc.d.max(); got != tc.max {
				t.Errorf("max %v, want %v", got, tc.max)
			}
		})
	}
}
