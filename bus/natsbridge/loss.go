package natsbridge

import (
	"errors"
	"mfelab/bus"
	"strings"

	"github.com/nats-io/nats.go"
)

// How the bridge notices loss: the server's complaints, slow-consumer drops, and the
// connection going and coming back; and the counts it keeps of them.
func (br *Bridge) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	switch {
	case errors.Is(err, nats.ErrSlowConsumer):
		// The client calls back once per slow spell, one callback at a time: report what
		// was dropped since the last report.
		total := br.countSlowDrops()
		n := total - min(br.slowReported.Load(), total)
		br.slowReported.Store(max(total, br.slowReported.Load()))
		topic := ""
		if sub != nil {
			topic = sub.Subject
		}
		br.app.RecordRejection(nil, topic, &LossError{Count: n, Cause: "slow consumer: the bus did not take remote messages fast enough"})
		br.log.Warn("slow consumer: remote messages dropped", "dropped", n, "total", total)
	case errors.Is(err, nats.ErrPermissionViolation):
		br.stats.refused.Add(1)
		action, subject := "publish", ""
		if m := permissionRe.FindStringSubmatch(err.Error()); m != nil {
			subject = m[2]
			if strings.EqualFold(m[1], "subscription") {
				action = "subscribe"
			}
		}
		refused := &RefusedError{User: br.user, Action: action, Subject: subject}
		app, env := br.app, (*bus.Envelope)(nil)
		if action == "publish" {
			if env = br.recentOn(subject); env != nil {
				if a := br.b.App(env.Meta.Source); a != nil {
					app = a
				}
			}
		}
		app.RecordRejection(env, subject, refused)
		br.log.Warn("refused by the NATS server", "action", action, "subject", subject, "user", br.user)
	default:
		br.log.Error("NATS error", "err", err)
	}
}

// countSlowDrops brings Stats.SlowConsumerDropped up to date and returns it.
func (br *Bridge) countSlowDrops() uint64 {
	var total uint64
	for _, s := range br.nsubs {
		if n, err := s.Dropped(); err == nil {
			total += uint64(n)
		}
	}
	for {
		cur := br.stats.slowDropped.Load()
		if total <= cur || br.stats.slowDropped.CompareAndSwap(cur, total) {
			return max(total, cur)
		}
	}
}

// recentOn returns the latest forwarded message on subject, if it is still remembered.
func (br *Bridge) recentOn(subject string) *bus.Envelope {
	br.recentMu.Lock()
	defer br.recentMu.Unlock()
	for i := 1; i <= min(br.recentN, recentForwards); i++ {
		if env := br.recent[(br.recentN-i)%recentForwards]; env != nil && env.Topic == subject {
			return env
		}
	}
	return nil
}

func (br *Bridge) onDisconnect(_ *nats.Conn, err error) {
	if br.closed.Load() {
		return
	}
	br.stats.disconnects.Add(1)
	br.log.Warn("disconnected from NATS; reconnecting", "err", err)
}

func (br *Bridge) onReconnect(nc *nats.Conn) {
	br.stats.reconnects.Add(1)
	br.log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
}

// Stats are a bridge's counters. Nothing is lost silently: a message that does not make
// it is in ForwardFailed (this side could not send it), SlowConsumerDropped (this side
// could not keep up) or Missing (the receiving side saw a gap in the sender's numbering of
// a subject, whatever the cause: a server restart, a dropped connection, a slow consumer).
type Stats struct {
	Forwarded     uint64 // local messages sent to NATS
	ForwardFailed uint64 // local messages NATS did not take; each is also a dead letter
	Imported      uint64 // remote messages published on the bus
	ImportFailed  uint64 // remote messages the bus refused (topic, ACL, payload, contract, name)
	Echoes        uint64 // this bridge's own messages coming back, skipped
	Duplicates    uint64 // remote messages matched by two import patterns, imported once
	// Missing counts remote messages known lost: numbers the sender gave a subject that
	// never arrived. A loss is seen when the next message on the subject arrives.
	Missing uint64
	// SlowConsumerDropped counts remote messages the client dropped because the bus did
	// not take them fast enough (they are in Missing too, once the gap is seen).
	SlowConsumerDropped uint64
	Refused             uint64 // publishes and subscriptions the server refused
	Disconnects         uint64
	Reconnects          uint64
	Connected           bool
}

// Stats returns a snapshot of the counters.
func (br *Bridge) Stats() Stats {
	s := &br.stats
	return Stats{
		Forwarded: s.forwarded.Load(), ForwardFailed: s.forwardFailed.Load(),
		Imported: s.imported.Load(), ImportFailed: s.importFailed.Load(),
		Echoes: s.echoes.Load(), Duplicates: s.duplicates.Load(), Missing: s.missing.Load(),
		SlowConsumerDropped: br.countSlowDrops(), Refused: s.refused.Load(),
		Disconnects: s.disconnects.Load(), Reconnects: s.reconnects.Load(), Connected: br.nc.IsConnected(),
	}
}
