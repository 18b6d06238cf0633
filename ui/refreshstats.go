package ui

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// durations collects how long refreshes took, for the figures MFELAB_PERF prints and
// BenchmarkLabUnderLoad reports. A mean hides the one refresh in a hundred that makes the
// window stutter, so it gives the median, the 99th percentile and the worst.
type durations struct{ d []time.Duration }

func (s *durations) add(d time.Duration) { s.d = append(s.d, d) }

func (s *durations) len() int { return len(s.d) }

// quantile is the duration q (0..1) of the way up the sorted samples: the nearest rank,
// so that the 99th percentile of fifty samples is the worst of them, not an average of two.
func (s *durations) quantile(q float64) time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	sorted := slices.Clone(s.d)
	slices.Sort(sorted)
	i := min(max(int(math.Ceil(q*float64(len(sorted))))-1, 0), len(sorted)-1)
	return sorted[i]
}

func (s *durations) max() time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	return slices.Max(s.d)
}

// String gives the distribution as the perf line prints it.
func (s *durations) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s", ms(s.quantile(0.5)), ms(s.quantile(0.99)), ms(s.max()))
}

// ms writes a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
