package bus

import (
	"errors"
	"fmt"
)

// Sentinel errors. Each typed error below unwraps to one of them, so callers can branch
// with errors.Is and show the typed error's message to a user.
var (
	ErrInvalidPayload = errors.New("invalid payload")
	ErrACL            = errors.New("not allowed by the app's ACL")
	ErrRateLimited    = errors.New("rate limited")
	ErrHandlerLimit   = errors.New("too many handlers for one pattern")
	ErrUnknownApp     = errors.New("unknown app")
	ErrDuplicateApp   = errors.New("app already registered")
	ErrContract       = errors.New("contract violation")
)

// PayloadError says why a payload could not be published.
type PayloadError struct {
	Topic string
	Err   error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("payload for %q is not valid JSON: %v", e.Topic, e.Err)
}

func (e *PayloadError) Unwrap() []error { return []error{ErrInvalidPayload, e.Err} }

// ACLError is returned when an app publishes or subscribes outside its declared patterns.
type ACLError struct {
	App     string
	Topic   string // the topic published, or the pattern subscribed
	Action  string // "publish" or "subscribe"
	Allowed []string
}

func (e *ACLError) Error() string {
	return fmt.Sprintf("app %q may not %s %q (allowed: %v)", e.App, e.Action, e.Topic, e.Allowed)
}

func (e *ACLError) Unwrap() error { return ErrACL }

// RateLimitError is returned when an app publishes faster than its token bucket allows and
// its limit is configured to report errors.
type RateLimitError struct {
	App       string
	PerSecond float64
	Burst     int
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("app %q exceeded its rate limit of %g/s (burst %d)", e.App, e.PerSecond, e.Burst)
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// PanicError is what a handler's panic becomes: the handler failed, the bus carries on.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }
