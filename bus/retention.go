package bus

import (
	"fmt"
	"time"
)

// ring keeps the most recent envelopes for History and subscription replay: a fixed-size
// circular buffer, oldest overwritten first, with expiry by TTL checked on read. Guarded by
// the bus mutex.
type ring struct {
	buf   []*Envelope
	at    []int64 // bus time each was published, for TTL
	start int     // index of the oldest
	n     int
}

func (r *ring) init(size int) {
	r.buf = make([]*Envelope, size)
	r.at = make([]int64, size)
}

func (r *ring) add(env *Envelope, now int64, ttl time.Duration) {
	if len(r.buf) == 0 {
		return
	}
	if r.n == len(r.buf) {
		r.buf[r.start] = env
		r.at[r.start] = now
		r.start = (r.start + 1) % len(r.buf)
		return
	}
	i := (r.start + r.n) % len(r.buf)
	r.buf[i], r.at[i] = env, now
	r.n++
	r.expire(now, ttl)
}

// expire drops envelopes older than ttl from the front.
func (r *ring) expire(now int64, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	for r.n > 0 && now-r.at[r.start] > int64(ttl) {
		r.buf[r.start] = nil
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
}

// last returns up to limit of the newest retained envelopes matching pattern, published at
// or after from (bus ns since epoch; negative for no bound), that keep passes (nil passes
// all), oldest first.
func (r *ring) lastFrom(pattern string, from int64, limit int, now int64, ttl time.Duration, keep func(*Envelope) bool) []*Envelope {
	r.expire(now, ttl)
	var out []*Envelope
	for k := r.n - 1; k >= 0 && (limit <= 0 || len(out) < limit); k-- {
		i := (r.start + k) % len(r.buf)
		if r.at[i] < from {
			break
		}
		env := r.buf[i]
		if MatchTopic(pattern, env.Topic) && (keep == nil || keep(env)) {
			out = append(out, env)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (r *ring) last(pattern string, limit int, now int64, ttl time.Duration, keep func(*Envelope) bool) []*Envelope {
	return r.lastFrom(pattern, -1, limit, now, ttl, keep)
}

// History returns retained envelopes matching pattern, published at or after from (zero
// time for no bound): the newest limit of them (limit <= 0 for all), oldest first. Only
// what the retention buffer still holds is returned; the history package keeps the rest.
func (b *Bus) History(pattern string, from time.Time, limit int) ([]*Envelope, error) {
	if err := ValidatePattern(pattern); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	f := int64(-1)
	if !from.IsZero() {
		f = int64(from.Sub(b.epoch))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ring.lastFrom(pattern, f, limit, b.now, b.opts.RetainTTL, nil), nil
}
