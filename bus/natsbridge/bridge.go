package natsbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

// Options configure a Bridge. The zero value bridges every topic both ways with the
// defaults below.
type Options struct {
	// Export lists the patterns of local messages sent to NATS. Nil means every topic
	// ("#"); an empty, non-nil slice sends nothing.
	Export []string
	// Import lists the patterns of remote messages brought onto the bus. Nil means every
	// topic ("#"); an empty, non-nil slice brings nothing.
	Import []string
	// App names the local app through which the bridge subscribes to what it exports
	// (default "nats-bridge"). Forwarding shows on the trace as deliveries to it. It is
	// registered if the bus has no app of that name yet, and used as it is otherwise: a
	// bus that leaves and joins again keeps the same one. Two bridges on one bus at once
	// need different names.
	App string
	// Name is the client name the server shows (default "mfelab").
	Name string
	// User and Password authenticate the connection: an app's user (see Permissions)
	// limits what it may publish and subscribe to, on the server.
	User, Password string
	// ReconnectBuffer is how many bytes of outgoing messages are kept while reconnecting
	// (0: the client default, 8 MiB). Past it, or at once when negative, a forward fails
	// and is counted in Stats.ForwardFailed.
	ReconnectBuffer int
	// ReconnectWait is the pause between reconnect attempts (default 250ms). The bridge
	// tries for as long as it is open.
	ReconnectWait time.Duration
	// PendingLimit is how many remote messages may wait for the bus before the next are
	// dropped, and counted, as a slow consumer (default 65536).
	PendingLimit int
	// Driven says the caller drives the bus with its own Realtime driver at speed 1 (the
	// window does). Otherwise Connect starts one and Close stops it: a joined bus runs on
	// the wall clock.
	Driven bool
	// Logger receives connection events (default slog.Default()).
	Logger *slog.Logger
}

const (
	defaultApp           = "nats-bridge"
	defaultPendingLimit  = 65536
	defaultReconnectWait = 250 * time.Millisecond
	// maxNumbered bounds the per-subject numbering kept on each side. A sender past it
	// sends new subjects unnumbered; a receiver past it starts over, losing nothing but the
	// ability to see a gap in the messages already in flight.
	maxNumbered = 4096
	// recentForwards is how many forwarded messages are kept to name the one a server
	// refusal is about (the refusal names only the subject).
	recentForwards = 256
)

// Bridge joins a local bus to a NATS connection. Messages the bus publishes on an exported
// pattern go to NATS; messages from NATS on an imported pattern are published on the bus
// by the remote app that sent them (see bus.App.Import). Close it when done.
type Bridge struct {
	b    *bus.Bus
	nc   *nats.Conn
	id   string
	url  string
	user string
	app  *bus.App
	log  *slog.Logger

	export []*bus.Subscription
	nsubs  []*nats.Subscription
	in     chan *nats.Msg
	rt     *bus.Realtime
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool

	remoteMu sync.Mutex
	remote   atomic.Pointer[map[string]*bus.App] // copy on write: read on every forward

	// The loop's: the forward handler runs on the bus loop, one delivery at a time.
	outSeq  map[string]uint64
	lastEnv *bus.Envelope // the last one sent
	out     nats.Msg      // reused: the client has copied a message out when PublishMsg returns
	outVals [maxHeaders]string

	// The import goroutine's.
	inSeq map[string]uint64

	recentMu sync.Mutex
	recent   [recentForwards]*bus.Envelope
	recentN  int

	slowReported atomic.Uint64 // slow-consumer drops already traced

	stats struct {
		forwarded, forwardFailed, imported, importFailed, echoes, duplicates,
		missing, slowDropped, refused, disconnects, reconnects atomic.Uint64
	}
}

// Connect dials the NATS server at url (several URLs may be given, comma-separated) and
// joins b to it. It fails at once if the server cannot be reached; once connected, the
// bridge reconnects by itself whenever the connection drops.
//
// Create the bus for a join with LiveOptions, so its clock and IDs fit the wall clock
// other processes share.
func Connect(b *bus.Bus, url string, opts Options) (*Bridge, error) {
	return connect(b, url, opts)
}

// connect is Connect with extra client options, which tests use to reach the socket.
func connect(b *bus.Bus, url string, opts Options, extra ...nats.Option) (*Bridge, error) {
	if b == nil {
		return nil, errors.New("natsbridge: nil bus")
	}
	if opts.App == "" {
		opts.App = defaultApp
	}
	if opts.Name == "" {
		opts.Name = "mfelab"
	}
	if opts.PendingLimit <= 0 {
		opts.PendingLimit = defaultPendingLimit
	}
	if opts.ReconnectWait <= 0 {
		opts.ReconnectWait = defaultReconnectWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	export, imp := opts.Export, opts.Import
	if export == nil {
		export = []string{"#"}
	}
	if imp == nil {
		imp = []string{"#"}
	}
	for _, p := range export {
		if err := bus.ValidatePattern(p); err != nil {
			return nil, fmt.Errorf("natsbridge: export pattern: %w", err)
		}
	}
	subjects, err := subjectsForAll(imp)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: import pattern: %w", err)
	}

	br := &Bridge{
		b: b, id: newBusID(), user: opts.User, log: opts.Logger.With("component", "natsbridge"),
		in: make(chan *nats.Msg, opts.PendingLimit), stop: make(chan struct{}), done: make(chan struct{}),
		outSeq: map[string]uint64{}, inSeq: map[string]uint64{},
	}
	br.out.Header = make(nats.Header, maxHeaders)
	br.remote.Store(&map[string]*bus.App{})
	// A bus that left and joins again finds its bridge's app still registered: the bus
	// keeps apps for good, so the record of what they did stays whole.
	app := b.App(opts.App)
	if app == nil {
		var err error
		if app, err = b.Register(bus.AppConfig{Name: opts.App, Publish: []string{}}); err != nil {
			return nil, fmt.Errorf("natsbridge: the bridge's own app (Options.App): %w", err)
		}
	}
	br.app = app

	nopts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(opts.ReconnectWait),
		nats.ErrorHandler(br.onAsyncError),
		nats.DisconnectErrHandler(br.onDisconnect),
		nats.ReconnectHandler(br.onReconnect),
	}
	if opts.ReconnectBuffer != 0 {
		nopts = append(nopts, nats.ReconnectBufSize(opts.ReconnectBuffer))
	}
	if opts.User != "" {
		nopts = append(nopts, nats.UserInfo(opts.User, opts.Password))
	}
	nc, err := nats.Connect(url, append(nopts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: connect to %s: %w (is `mfelab serve` or another NATS server running there?)", url, err)
	}
	br.nc = nc
	br.url = nc.ConnectedUrlRedacted()

	for _, s := range subjects {
		ns, err := nc.ChanSubscribe(s, br.in)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("natsbridge: subscribe %q: %w", s, err)
		}
		br.nsubs = append(br.nsubs, ns)
	}
	// One channel for every subscription keeps remote messages in the order the server
	// sent them, and one goroutine publishes them on the bus.
	go br.importLoop()
	for _, p := range export {
		s, err := app.Subscribe(p, br.forward)
		if err != nil {
			br.Close()
			return nil, fmt.Errorf("natsbridge: export %q: %w", p, err)
		}
		br.export = append(br.export, s)
	}
	if err := nc.Flush(); err != nil { // the server has our subscriptions before we return
		br.Close()
		return nil, fmt.Errorf("natsbridge: %s: %w", url, err)
	}
	if !opts.Driven {
		br.rt = b.StartRealtime(1)
	}
	if off := time.Since(b.Now()); off > time.Minute || off < -time.Minute {
		br.log.Warn("bus time is far from the wall clock: timestamps will not compare with other processes' (make the bus with LiveOptions)",
			"bus", b.Now(), "off", off.Round(time.Second))
	}
	br.log.Info("joined bus to NATS", "url", br.url, "bus", br.id, "export", export, "import", imp)
	return br, nil
}

// newBusID names this bridge in HeaderOrigin: random, so two processes never share one.
func newBusID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ID is the bridge's instance id, sent with every message in HeaderOrigin, by which it
// recognises its own messages coming back.
func (br *Bridge) ID() string { return br.id }

// URL is the server the bridge is connected to now (credentials removed).
func (br *Bridge) URL() string { return br.nc.ConnectedUrlRedacted() }

// Connected reports whether the connection is up (not reconnecting, not closed).
func (br *Bridge) Connected() bool { return br.nc.IsConnected() }

// App is the local app through which the bridge forwards.
func (br *Bridge) App() *bus.App { return br.app }

// RemoteApps returns the apps registered on the bus for remote publishers, by name.
func (br *Bridge) RemoteApps() map[string]*bus.App {
	return maps.Clone(*br.remote.Load())
}

// Flush waits until the server has everything sent so far, or ctx ends; without a
// deadline in ctx it gives up after 10 seconds.
func (br *Bridge) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	return br.nc.FlushWithContext(ctx)
}

// Close leaves NATS: the bus stops forwarding, what was sent is flushed, and remote
// messages already received are published on the bus before Close returns. It stops the
// realtime driver it started. Remote apps stay registered, so the record of what they
// published stays whole.
func (br *Bridge) Close() {
	if br.closed.Swap(true) {
		return
	}
	for _, s := range br.export {
		s.Unsubscribe()
	}
	for _, s := range br.nsubs {
		_ = s.Unsubscribe()
	}
	if br.nc.IsConnected() {
		_ = br.nc.FlushTimeout(time.Second)
	}
	br.nc.Close()
	close(br.stop)
	<-br.done
	if br.rt != nil {
		br.rt.Stop()
	}
}

// forward sends one local message to NATS. It runs on the bus loop; a failure returns a
// *ForwardError, which the bus turns into a dead letter with the reason.
func (br *Bridge) forward(_ context.Context, d bus.Delivery) error {
	env := d.Envelope
	if env == br.lastEnv && d.Attempt == 1 {
		return nil // sent already: a second export pattern matched it
	}
	if _, remote := (*br.remote.Load())[env.Meta.Source]; remote {
		return nil // it came from NATS: it never goes back
	}
	subject := env.Topic // see SubjectFor: a published topic is its own subject
	n, numbered := br.outSeq[subject]
	if numbered || len(br.outSeq) < maxNumbered {
		n++
	}
	if err := encodeHeaders(br.out.Header, &br.outVals, br.id, env, n); err != nil {
		br.stats.forwardFailed.Add(1)
		return &ForwardError{Topic: env.Topic, Err: err}
	}
	// Remembered before it is sent: the server's refusal may come back before
	// PublishMsg returns.
	br.recentMu.Lock()
	br.recent[br.recentN%recentForwards] = env
	br.recentN++
	br.recentMu.Unlock()
	br.out.Subject, br.out.Data = subject, env.Payload
	err := br.nc.PublishMsg(&br.out)
	br.out.Data = nil // do not pin the envelope
	if err != nil {
		br.stats.forwardFailed.Add(1)
		return &ForwardError{Topic: env.Topic, Err: err}
	}
	br.lastEnv = env
	if n > 0 {
		br.outSeq[subject] = n
	}
	br.stats.forwarded.Add(1)
	return nil
}

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
	key := in.bus + " " + topic
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

// permissionRe reads the subject out of the server's permissions violation.
var permissionRe = regexp.MustCompile(`(?i)for (publish|subscription) to "([^"]+)"`)

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

// LiveOptions completes bus options for a bus that will be joined: unless set, the epoch
// is now, so bus time is wall-clock time in every process, and IDSalt is random, so no
// two processes make the same IDs even from the same seed. The Rand streams still follow
// the seed.
func LiveOptions(o bus.Options) bus.Options {
	if o.Epoch.IsZero() {
		o.Epoch = time.Now()
	}
	if o.IDSalt == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, c := range b {
			o.IDSalt = o.IDSalt<<8 | uint64(c)
		}
	}
	return o
}
