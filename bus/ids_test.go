package bus

import (
	"bytes"
	"testing"
)

func TestIDsStrictlyIncreaseEvenPastTheCounterInOneMillisecond(t *testing.T) {
	g := newIDGen(7, 0)
	clock := []struct {
		ms int64
		n  int
	}{
		{1000, 10000}, // far more than the 12-bit counter holds
		{1001, 5},     // the clock is behind the IDs now: they keep counting
		{1010, 5},     // and once it passes them, IDs follow the clock again
	}
	prev := g.next(999)
	for _, c := range clock {
		for range c.n {
			id := g.next(c.ms)
			if bytes.Compare(prev[:], id[:]) >= 0 {
				t.Fatalf("at ms %d: %s does not sort after %s", c.ms, id, prev)
			}
			if id.Version() != 7 || id.Variant().String() != "RFC4122" {
				t.Fatalf("%s is not a UUIDv7", id)
			}
			prev = id
		}
	}
	ms := int64(prev[0])<<40 | int64(prev[1])<<32 | int64(prev[2])<<24 | int64(prev[3])<<16 | int64(prev[4])<<8 | int64(prev[5])
	if ms != 1010 {
		t.Fatalf("last ID carries ms %d, want 1010 once the clock has passed the IDs", ms)
	}
}
