package natsbridge

import (
	"errors"
	"fmt"
	"maps"
	"mfelab/bus"

	"github.com/nats-io/nats.go"
)

// The bridge's way in: messages from NATS become publishes of remote apps on the local
// bus, with their gaps counted.
// importLoop publishes remote messages on the bus, one at a time, in arrival order.
func (br *Bridge) importLoop() {
	defer close(br.done)
	for {
		select {
		case m := <-br.in:
			br.importMsg(m)
		case <-br.stop:
			for {
				select {
				case m := <-br.in:
					br.importMsg(m)
				default:
					return
				}
			}
		}
	}
}

func (br *Bridge) importMsg(m *nats.Msg) {
	topic, err := TopicFor(m.Subject)
	if err != nil {
		br.stats.importFailed.Add(1)
		br.app.RecordRejection(nil, m.Subject, err)
		return
	}
	in, err := decodeHeaders(m.Header, topic, m.Data)
	if err != nil {
		br.stats.importFailed.Add(1)
		br.app.RecordRejection(nil, topic, fmt.Errorf("remote message on %q: %w", topic, err))
		return
	}
	if in.bus == br.id {
		br.stats.echoes.Add(1)
		return
	}
	app, err := br.remoteApp(in.source)
	if err != nil {
		br.stats.importFailed.Add(1)
		br.app.RecordRejection(nil, topic, err)
		return
	}
	if in.subjectSeq > 0 && !br.checkSeq(app, in, topic) {
		return
	}
	if in.bus == "" {
		_, err = app.Send(in.msg)
	} else {
		_, err = app.Import(in.id, in.msg)
	}
	if err != nil {
		br.stats.importFailed.Add(1) // the bus has traced the rejection with its reason
		return
	}
	br.stats.imported.Add(1)
}

// checkSeq follows the sender's numbering of a subject: a number already seen is a
// duplicate (two import patterns matched), a skipped number a loss, counted and traced.
// It reports whether to import the message.
func (br *Bridge) checkSeq(app *bus.App, in incoming, topic string) bool {
	key := seqKey{in.bus, topic}
	last, seen := br.inSeq[key]
	if seen && in.subjectSeq <= last {
		br.stats.duplicates.Add(1)
		return false
	}
	if !seen && len(br.inSeq) >= maxNumbered {
		clear(br.inSeq)
	}
	br.inSeq[key] = in.subjectSeq
	if seen && in.subjectSeq > last+1 {
		lost := in.subjectSeq - last - 1
		br.stats.missing.Add(lost)
		app.RecordRejection(nil, topic, &LossError{Count: lost, Topic: topic, Origin: in.bus, Cause: "missing from the sender's numbering"})
		br.log.Warn("remote messages lost", "topic", topic, "from", in.source, "count", lost)
	}
	return true
}

// seqKey names a sender's numbering of one subject: its bridge id and the topic. A pair
// of strings the message already holds, where one joined string would be made anew for
// every message.
type seqKey struct{ bus, topic string }

// remoteApp returns the app that stands for a remote publisher, registering it on first
// use.
func (br *Bridge) remoteApp(name string) (*bus.App, error) {
	if a := (*br.remote.Load())[name]; a != nil {
		return a, nil
	}
	br.remoteMu.Lock()
	defer br.remoteMu.Unlock()
	cur := *br.remote.Load()
	if a := cur[name]; a != nil {
		return a, nil
	}
	a, err := br.b.Register(bus.AppConfig{Name: name, Origin: br.url})
	if errors.Is(err, bus.ErrDuplicateApp) {
		if a = br.b.App(name); a != nil && a.Remote() {
			err = nil // registered by an earlier bridge of this bus: the same remote app
		}
	}
	if errors.Is(err, bus.ErrDuplicateApp) {
		return nil, fmt.Errorf("%w: %q publishes from another process, and this bus has an app of that name; rename one of them", ErrNameTaken, name)
	}
	if err != nil {
		return nil, fmt.Errorf("remote app %q: %w", name, err)
	}
	next := maps.Clone(cur)
	next[name] = a
	br.remote.Store(&next)
	return a, nil
}
