// Package cqrs separates writes from reads on the bus: a command bus where each command
// has exactly one handler and validation errors go back to the sender, a query bus that
// answers from read models, and projections that build those read models from the event
// stream (package eventsource), can be rebuilt from zero and report how far behind they
// are.
//
// Commands travel on "command.<name>" and queries on "query.<name>" as RPC (package rpc),
// so both show in the trace and the flow diagram like any other message. Handlers are
// registered through one Commands (or Queries) value shared by every app, which is what
// lets it refuse a second handler for a command wherever it comes from.
package cqrs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/rpc"
)

// Sentinel errors, for errors.Is.
var (
	ErrNoHandler       = errors.New("no handler")
	ErrDuplicate       = errors.New("already has a handler")
	ErrValidation      = errors.New("invalid")
	validationCode     = "validation"
	commandTopicPrefix = "command."
	queryTopicPrefix   = "query."
)

// ValidationError is a command or query its handler refused as invalid; the sender gets it
// back with the handler's problems.
type ValidationError struct {
	Name     string
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: invalid: %s", e.Name, strings.Join(e.Problems, "; "))
}

func (e *ValidationError) Unwrap() error { return ErrValidation }

// Invalid makes the error a validator returns.
func Invalid(problems ...string) error { return &ValidationError{Problems: problems} }

// Handler handles a command or answers a query.
type Handler func(ctx context.Context, req rpc.Request) (any, error)

// dispatcher is the shared machinery of Commands and Queries.
type dispatcher struct {
	kind, prefix string

	mu      sync.Mutex
	owners  map[string]string // name -> handling app
	servers map[string]*rpc.Server
	clients map[string]*rpc.Client
}

func newDispatcher(kind, prefix string) dispatcher {
	return dispatcher{kind: kind, prefix: prefix, owners: map[string]string{}, servers: map[string]*rpc.Server{}, clients: map[string]*rpc.Client{}}
}

func (d *dispatcher) handle(app *bus.App, name string, validate func(json.RawMessage) error, h Handler) error {
	topic := d.prefix + name
	if err := bus.ValidateTopic(topic); err != nil {
		return fmt.Errorf("%s %q: %w", d.kind, name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if owner, ok := d.owners[name]; ok {
		return fmt.Errorf("%s %s %w (app %s)", d.kind, name, ErrDuplicate, owner)
	}
	srv := d.servers[app.Name()]
	if srv == nil {
		srv = rpc.NewServer(app)
		d.servers[app.Name()] = srv
	}
	err := srv.Handle(topic, func(ctx context.Context, req rpc.Request) (any, error) {
		if validate != nil {
			if err := validate(req.Params()); err != nil {
				var ve *ValidationError
				if errors.As(err, &ve) {
					return nil, rpc.NewError(validationCode, "%s", strings.Join(ve.Problems, "\n"))
				}
				return nil, rpc.NewError(validationCode, "%s", err.Error())
			}
		}
		return h(ctx, req)
	})
	if err != nil {
		return err
	}
	d.owners[name] = app.Name()
	return nil
}

func (d *dispatcher) send(ctx context.Context, from *bus.App, name string, payload any, opts ...rpc.CallOption) *async.Future[json.RawMessage] {
	d.mu.Lock()
	_, ok := d.owners[name]
	c := d.clients[from.Name()]
	if c == nil {
		c = rpc.NewClient(from, rpc.ClientOptions{})
		d.clients[from.Name()] = c
	}
	d.mu.Unlock()
	if !ok {
		return async.Failed[json.RawMessage](fmt.Errorf("%s %s: %w", d.kind, name, ErrNoHandler))
	}
	return c.Call(ctx, d.prefix+name, payload, opts...)
}

// Commands is the command bus.
type Commands struct{ d dispatcher }

// NewCommands makes a command bus.
func NewCommands() *Commands { return &Commands{d: newDispatcher("command", commandTopicPrefix)} }

// Handle makes app the one handler of command name. validate, if set, runs first; its
// error goes back to the sender as a *ValidationError and the handler does not run.
func (c *Commands) Handle(app *bus.App, name string, validate func(json.RawMessage) error, h Handler) error {
	return c.d.handle(app, name, validate, h)
}

// Send sends a command as app and returns its handler's answer.
func (c *Commands) Send(ctx context.Context, from *bus.App, name string, payload any, opts ...rpc.CallOption) *async.Future[json.RawMessage] {
	return mapErr(c.d.send(ctx, from, name, payload, opts...), name)
}

// Queries is the query bus.
type Queries struct{ d dispatcher }

// NewQueries makes a query bus.
func NewQueries() *Queries { return &Queries{d: newDispatcher("query", queryTopicPrefix)} }

// Handle makes app the one answerer of query name.
func (q *Queries) Handle(app *bus.App, name string, validate func(json.RawMessage) error, h Handler) error {
	return q.d.handle(app, name, validate, h)
}

// Ask sends a query as app and returns the answer.
func (q *Queries) Ask(ctx context.Context, from *bus.App, name string, params any, opts ...rpc.CallOption) *async.Future[json.RawMessage] {
	return mapErr(q.d.send(ctx, from, name, params, opts...), name)
}

// mapErr turns a remote validation error back into a *ValidationError.
func mapErr(f *async.Future[json.RawMessage], name string) *async.Future[json.RawMessage] {
	out, settle := async.New[json.RawMessage]()
	f.Then(func(v json.RawMessage, err error) {
		var re *rpc.Error
		if errors.As(err, &re) && re.Code == validationCode {
			err = &ValidationError{Name: name, Problems: strings.Split(re.Message, "\n")}
		}
		settle(v, err)
	})
	return out
}
