package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/bus/async"
)

// HeaderReplyTo names the topic a request wants its reply on.
const HeaderReplyTo = "rpc-reply-to"

// DefaultTimeout is the call timeout when the client sets none.
const DefaultTimeout = 5 * time.Second

// Sentinel errors, for errors.Is.
var (
	ErrTimeout = errors.New("rpc timeout")
	ErrRemote  = errors.New("rpc handler error")
)

// Error is a handler's error as the caller sees it. Handlers return one (NewError) to pick
// the code; any other error travels as code "handler-error".
type Error struct {
	Method  string `json:"method,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NewError makes a handler error with a code the caller can branch on.
func NewError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Method == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Method, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return ErrRemote }

// TimeoutError says a call had no reply within its timeout.
type TimeoutError struct {
	Method string
	After  time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: no reply within %v", e.Method, e.After)
}

func (e *TimeoutError) Unwrap() error { return ErrTimeout }

type replyWire struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// Timeout is the default per-call timeout (DefaultTimeout when zero).
	Timeout time.Duration
	// ReplyTo chooses the reply topic for a method; default "<method>.reply.<app>".
	ReplyTo func(method string) string
	// OnLate, if set, is called on the loop with each reply that came after its call ended.
	OnLate func(*bus.Envelope)
}

// Stats counts a client's calls.
type Stats struct {
	Calls, OK, Errors, Timeouts, Cancelled, Late uint64
	InFlight                                     int
}

// Client makes calls as one app.
type Client struct {
	app  *bus.App
	opts ClientOptions

	mu      sync.Mutex
	pending map[uuid.UUID]*call
	subs    map[string]*bus.Subscription
	stats   Stats
}

type call struct {
	method  string
	settle  func(json.RawMessage, error) bool
	timer   *bus.Timer
	stopCtx func() bool
}

// NewClient makes a client publishing as app.
func NewClient(app *bus.App, opts ClientOptions) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReplyTo == nil {
		name := app.Name()
		opts.ReplyTo = func(method string) string { return method + ".reply." + name }
	}
	return &Client{app: app, opts: opts, pending: map[uuid.UUID]*call{}, subs: map[string]*bus.Subscription{}}
}

// CallOption adjusts one call.
type CallOption func(*callConfig)

type callConfig struct {
	timeout time.Duration
	msg     bus.Msg
}

// Timeout sets this call's timeout.
func Timeout(d time.Duration) CallOption { return func(c *callConfig) { c.timeout = d } }

// CausedBy puts the request in cause's causal chain and conversation: the request's
// CausationID is cause's ID and it takes cause's correlation and trace.
func CausedBy(cause *bus.Envelope) CallOption {
	return func(c *callConfig) {
		if cause == nil {
			return
		}
		c.msg.CausationID = cause.ID
		if c.msg.CorrelationID == "" {
			c.msg.CorrelationID = cause.Correlation()
		}
		c.msg.TraceParent = bus.TraceContext{TraceID: cause.Meta.TraceParent.TraceID}
	}
}

// Correlation sets the request's correlation id.
func Correlation(id string) CallOption { return func(c *callConfig) { c.msg.CorrelationID = id } }

// Header adds a header to the request.
func Header(k, v string) CallOption {
	return func(c *callConfig) {
		if c.msg.Headers == nil {
			c.msg.Headers = map[string]string{}
		}
		c.msg.Headers[k] = v
	}
}

// Call publishes a request to method and returns the future reply: the raw result, or an
// *Error, a *TimeoutError, the context's error, or the publish error (ACL, topic, payload).
func (c *Client) Call(ctx context.Context, method string, params any, opts ...CallOption) *async.Future[json.RawMessage] {
	cfg := callConfig{timeout: c.opts.Timeout}
	for _, o := range opts {
		o(&cfg)
	}
	if err := ctx.Err(); err != nil {
		return async.Failed[json.RawMessage](err)
	}
	if err := bus.ValidateTopic(method); err != nil {
		return async.Failed[json.RawMessage](fmt.Errorf("rpc %s: %w", method, err))
	}
	replyTo := c.opts.ReplyTo(method)
	if err := c.listen(replyTo); err != nil {
		return async.Failed[json.RawMessage](fmt.Errorf("rpc %s: listen for replies: %w", method, err))
	}
	cfg.msg.Topic = method
	cfg.msg.Payload = params
	if cfg.msg.Headers == nil {
		cfg.msg.Headers = make(map[string]string, 1)
	}
	cfg.msg.Headers[HeaderReplyTo] = replyTo

	f, settle := async.New[json.RawMessage]()
	// Hold the lock across the publish: with a real-time driver the reply could otherwise
	// arrive before the call is registered.
	c.mu.Lock()
	env, err := c.app.Send(cfg.msg)
	if err != nil || env == nil {
		c.mu.Unlock()
		if err == nil {
			err = fmt.Errorf("%w: request dropped", bus.ErrRateLimited)
		}
		return async.Failed[json.RawMessage](fmt.Errorf("rpc %s: %w", method, err))
	}
	cl := &call{method: method, settle: settle}
	id := env.ID
	c.pending[id] = cl
	c.stats.Calls++
	b := c.app.Bus()
	timeout := cfg.timeout
	cl.timer = b.After(timeout, func() {
		if c.finish(id) != nil {
			c.count(func(s *Stats) { s.Timeouts++ })
			c.app.TimedOut(env, fmt.Sprintf("no reply within %v", timeout))
			settle(nil, &TimeoutError{Method: method, After: timeout})
		}
	})
	if ctx.Done() != nil {
		cl.stopCtx = context.AfterFunc(ctx, func() {
			b.Post(func() {
				if c.finish(id) != nil {
					c.count(func(s *Stats) { s.Cancelled++ })
					settle(nil, fmt.Errorf("rpc %s: %w", method, ctx.Err()))
				}
			})
		})
	}
	c.mu.Unlock()
	return f
}

// finish forgets a call and returns it, or nil if it already ended.
func (c *Client) finish(id uuid.UUID) *call {
	c.mu.Lock()
	cl := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if cl != nil {
		cl.timer.Stop()
		if cl.stopCtx != nil {
			cl.stopCtx()
		}
	}
	return cl
}

func (c *Client) count(fn func(*Stats)) {
	c.mu.Lock()
	fn(&c.stats)
	c.mu.Unlock()
}

func (c *Client) listen(topic string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[topic] != nil {
		return nil
	}
	s, err := c.app.Subscribe(topic, c.onReply)
	if err != nil {
		return err
	}
	c.subs[topic] = s
	return nil
}

func (c *Client) onReply(_ context.Context, d bus.Delivery) error {
	cl := c.finish(d.Meta.CausationID)
	if cl == nil {
		c.count(func(s *Stats) { s.Late++ })
		if c.opts.OnLate != nil {
			c.opts.OnLate(d.Envelope)
		}
		return nil
	}
	var w replyWire
	if err := json.Unmarshal(d.Payload, &w); err != nil {
		c.count(func(s *Stats) { s.Errors++ })
		cl.settle(nil, fmt.Errorf("rpc %s: malformed reply: %w", cl.method, err))
		return nil
	}
	if w.Error != nil {
		c.count(func(s *Stats) { s.Errors++ })
		w.Error.Method = cl.method
		cl.settle(nil, w.Error)
		return nil
	}
	c.count(func(s *Stats) { s.OK++ })
	if w.Result == nil {
		w.Result = json.RawMessage("null")
	}
	cl.settle(w.Result, nil)
	return nil
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.InFlight = len(c.pending)
	return s
}

// Close stops listening for replies; calls in flight end with their timeout.
func (c *Client) Close() {
	c.mu.Lock()
	subs := make([]*bus.Subscription, 0, len(c.subs))
	for t, s := range c.subs {
		subs = append(subs, s)
		delete(c.subs, t)
	}
	c.mu.Unlock()
	// Unsubscribe waits for a running delivery, whose handler may need c.mu: not under it.
	for _, s := range subs {
		s.Unsubscribe()
	}
}

// Decode turns a raw reply future into a typed one.
func Decode[T any](f *async.Future[json.RawMessage]) *async.Future[T] {
	return async.Map(f, func(raw json.RawMessage) (T, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return v, fmt.Errorf("rpc: decode reply: %w", err)
		}
		return v, nil
	})
}

// ReplyError returns the error a reply's payload carries, or nil when the reply is a
// result (or is not a reply at all). Observers use it to show failed calls as failures.
func ReplyError(payload json.RawMessage) *Error {
	var w replyWire
	if json.Unmarshal(payload, &w) != nil {
		return nil
	}
	return w.Error
}
