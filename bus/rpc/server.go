package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"mfelab/bus"
)

// Request is one call as a handler sees it.
type Request struct {
	bus.Delivery
}

// Method is the called method (the request's topic).
func (r Request) Method() string { return r.Topic }

// Params is the raw params.
func (r Request) Params() json.RawMessage { return r.Payload }

// Decode unmarshals the params into v; the error is an *Error with code "bad-params", ready
// to return.
func (r Request) Decode(v any) error {
	if err := json.Unmarshal(r.Payload, v); err != nil {
		return NewError("bad-params", "%v", err)
	}
	return nil
}

// Reply sends the answer to an asynchronous request; only its first call counts.
type Reply func(result any, err error)

// Server answers methods as one app.
type Server struct {
	app *bus.App

	mu      sync.Mutex
	methods map[string]*bus.Subscription
	handled uint64
	failed  uint64
}

// NewServer makes a server for app.
func NewServer(app *bus.App) *Server {
	return &Server{app: app, methods: map[string]*bus.Subscription{}}
}

// Handle registers a handler that answers at once.
func (s *Server) Handle(method string, fn func(ctx context.Context, req Request) (any, error)) error {
	return s.HandleAsync(method, func(ctx context.Context, req Request, reply Reply) {
		reply(fn(ctx, req))
	})
}

// HandleAsync registers a handler that answers when it is ready, by calling reply (on the
// loop: from a timer, or a future's Then). One handler per method.
func (s *Server) HandleAsync(method string, fn func(ctx context.Context, req Request, reply Reply)) error {
	if err := bus.ValidateTopic(method); err != nil {
		return fmt.Errorf("rpc: method %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.methods[method] != nil {
		return fmt.Errorf("rpc: method %q already has a handler", method)
	}
	sub, err := s.app.Subscribe(method, func(ctx context.Context, d bus.Delivery) error {
		replyTo := d.Meta.Headers[HeaderReplyTo]
		if replyTo == "" {
			return fmt.Errorf("rpc %s: request has no %s header; nowhere to reply", method, HeaderReplyTo)
		}
		var sendErr error
		replied := false
		reply := func(result any, err error) {
			if replied {
				return
			}
			replied = true
			sendErr = s.send(d, replyTo, result, err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					reply(nil, NewError("panic", "%v", r))
				}
			}()
			fn(ctx, Request{Delivery: d}, reply)
		}()
		return sendErr
	})
	if err != nil {
		return err
	}
	s.methods[method] = sub
	return nil
}

func (s *Server) send(d bus.Delivery, replyTo string, result any, herr error) error {
	var w replyWire
	if herr != nil {
		var e *Error
		if !errors.As(herr, &e) {
			e = &Error{Code: "handler-error", Message: herr.Error()}
		}
		w.Error = &Error{Code: e.Code, Message: e.Message}
	} else {
		raw, err := json.Marshal(result)
		if err != nil {
			w.Error = &Error{Code: "bad-result", Message: err.Error()}
		} else {
			w.Result = raw
		}
	}
	s.mu.Lock()
	s.handled++
	if w.Error != nil {
		s.failed++
	}
	s.mu.Unlock()
	if _, err := d.Send(bus.Msg{Topic: replyTo, Payload: w}); err != nil {
		return fmt.Errorf("rpc %s: reply: %w", d.Topic, err)
	}
	return nil
}

// Stats returns how many requests were answered and how many of those with an error.
func (s *Server) Stats() (handled, failed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled, s.failed
}

// Close unregisters every method.
func (s *Server) Close() {
	s.mu.Lock()
	subs := make([]*bus.Subscription, 0, len(s.methods))
	for m, sub := range s.methods {
		subs = append(subs, sub)
		delete(s.methods, m)
	}
	s.mu.Unlock()
	// Unsubscribe waits for a running delivery, whose handler may need s.mu: not under it.
	for _, sub := range subs {
		sub.Unsubscribe()
	}
}
