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
	// writeTimeout bounds a write to the server (see connect).
	writeTimeout = 2 * time.Second
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

	// Sending: at publish (the tap, under the bus's locks) and on redelivery (the loop).
	exportPats []string
	untap      func()
	sendMu     sync.Mutex
	outSeq     map[string]uint64
	lastEnv    *bus.Envelope           // the last one redelivered
	out        nats.Msg                // reused: the client has copied a message out when PublishMsg returns
	enc        headerEncoder           // reused likewise
	failed     map[*bus.Envelope]error // sends that failed at publish, for their delivery to report
	nfailed    atomic.Int64

	// The import goroutine's.
	inSeq map[seqKey]uint64

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
		outSeq: map[string]uint64{}, inSeq: map[seqKey]uint64{}, failed: map[*bus.Envelope]error{},
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
		// A message is sent as it is published, with the bus locked (see onTrace): a
		// connection that stops taking data must fail soon, and the client reconnect and
		// buffer, rather than hold every publisher of the bus for the client's default
		// minute. A server on loopback or a LAN that takes nothing for two seconds, with
		// the socket's buffer full before that, is as good as gone.
		nats.FlusherTimeout(writeTimeout),
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
	br.exportPats = export
	br.untap = b.Tap(br.onTrace)
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
	if br.untap != nil {
		br.untap()
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

// onTrace sends a local message on an exported topic to NATS as it is published, on the
// publisher's goroutine, rather than wait for its delivery to the bridge's app on the
// loop: one goroutine hand-off less on the way out. The delivery still happens, for the
// trace, and reports a failed send as its error, which makes it a dead letter.
func (br *Bridge) onTrace(e bus.TraceEvent) {
	if e.Kind != bus.TracePublished || e.Env == nil || br.closed.Load() {
		return
	}
	env := e.Env
	if _, remote := (*br.remote.Load())[env.Meta.Source]; remote {
		return // it came from NATS: it never goes back
	}
	exported := false
	for _, p := range br.exportPats {
		if bus.MatchTopic(p, env.Topic) {
			exported = true
			break
		}
	}
	if !exported {
		return
	}
	br.sendMu.Lock()
	defer br.sendMu.Unlock()
	if err := br.send(env); err != nil {
		br.failed[env] = err
		br.nfailed.Add(1)
	}
}

// forward is the delivery of a local message to the bridge's app. A first delivery was
// sent when it was published (onTrace) and reports only whether that failed; a
// redelivery sends it again. It runs on the bus loop; a failure returns a *ForwardError,
// which the bus turns into a dead letter with the reason.
func (br *Bridge) forward(_ context.Context, d bus.Delivery) error {
	env := d.Envelope
	if d.Attempt == 1 {
		if br.nfailed.Load() == 0 {
			return nil
		}
		br.sendMu.Lock()
		err, failed := br.failed[env]
		if failed {
			delete(br.failed, env)
			br.nfailed.Add(-1)
		}
		br.sendMu.Unlock()
		return err
	}
	br.sendMu.Lock()
	defer br.sendMu.Unlock()
	if env == br.lastEnv {
		return nil // sent again already: a second export pattern matched it
	}
	if _, remote := (*br.remote.Load())[env.Meta.Source]; remote {
		return nil
	}
	if err := br.send(env); err != nil {
		return err
	}
	br.lastEnv = env
	return nil
}

// send puts env on NATS; the caller holds sendMu.
func (br *Bridge) send(env *bus.Envelope) error {
	subject := env.Topic // see SubjectFor: a published topic is its own subject
	n, numbered := br.outSeq[subject]
	if numbered || len(br.outSeq) < maxNumbered {
		n++
	}
	if err := br.enc.encode(br.out.Header, br.id, env, n); err != nil {
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
	if n > 0 {
		br.outSeq[subject] = n
	}
	br.stats.forwarded.Add(1)
	return nil
}

// permissionRe reads the subject out of the server's permissions violation.
var permissionRe = regexp.MustCompile(`(?i)for (publish|subscription) to "([^"]+)"`)

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
