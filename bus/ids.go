package bus

import (
	"math/rand/v2"

	"github.com/google/uuid"
)

// idGen makes UUIDv7 values from the bus clock and a seeded PCG stream: time-ordered like
// any v7, and reproducible for a given seed and sequence of clock readings. It is guarded by
// the bus mutex.
type idGen struct {
	rng    *rand.PCG
	lastMS int64  // the last ID's millisecond, which may run ahead of the clock (see next)
	seqMS  uint16 // counter within one millisecond keeps IDs monotonic (RFC 9562 method 1)
}

func newIDGen(seed, salt uint64) *idGen {
	return &idGen{rng: rand.NewPCG(seed, 0x6d66656c61622d69^salt)} // "mfelab-i"
}

// next returns the ID for a publish at ms milliseconds since the Unix epoch.
// IDs are strictly increasing: past 4096 IDs in one millisecond the 12-bit counter would
// wrap, so the ID's millisecond moves one ahead of the clock instead (RFC 9562, 6.2), and
// the clock catches up with it later. Stores rely on this to index IDs by appending.
func (g *idGen) next(ms int64) uuid.UUID {
	if ms <= g.lastMS {
		ms = g.lastMS
		g.seqMS++
		if g.seqMS > 0xfff {
			ms++
			g.lastMS = ms
			g.seqMS = 0
		}
	} else {
		g.lastMS = ms
		g.seqMS = uint16(g.rng.Uint64() & 0x3ff) // random start leaves room to count up
	}
	var u uuid.UUID
	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	// 12-bit rand_a holds the counter, so IDs within one millisecond still sort.
	u[6] = 0x70 | byte(g.seqMS>>8)&0x0f
	u[7] = byte(g.seqMS)
	r := g.rng.Uint64()
	u[8] = 0x80 | byte(r>>56)&0x3f // variant 10
	u[9] = byte(r >> 48)
	u[10] = byte(r >> 40)
	u[11] = byte(r >> 32)
	u[12] = byte(r >> 24)
	u[13] = byte(r >> 16)
	u[14] = byte(r >> 8)
	u[15] = byte(r)
	return u
}
