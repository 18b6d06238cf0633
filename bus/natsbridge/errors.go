package natsbridge

import (
	"errors"
	"fmt"
)

// Sentinel errors; each typed error below unwraps to one, for errors.Is.
var (
	// ErrRefused: the NATS server refused a publish or subscription the connection's user
	// has no permission for.
	ErrRefused = errors.New("refused by the NATS server")
	// ErrLost: messages were lost between buses.
	ErrLost = errors.New("messages lost")
	// ErrForward: a message could not be handed to NATS.
	ErrForward = errors.New("not forwarded to NATS")
	// ErrBadHeader: a message came with a malformed bridge header.
	ErrBadHeader = errors.New("malformed bridge header")
	// ErrNameTaken: a remote app has the name of one of the bus's own apps.
	ErrNameTaken = errors.New("remote app has the name of a local app")
)

// RefusedError is a publish or subscription the server refused: what the connection's
// user may not do. Its permissions come from the app's ACL (see Permissions).
type RefusedError struct {
	User    string // the user the bridge connected as; "" if none
	Action  string // "publish" or "subscribe"
	Subject string
}

func (e *RefusedError) Error() string {
	who := "this connection"
	if e.User != "" {
		who = fmt.Sprintf("user %q", e.User)
	}
	return fmt.Sprintf("NATS server refused to let %s %s %q: not in its permissions", who, e.Action, e.Subject)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// LossError says how many messages were lost and how the bridge knows.
type LossError struct {
	Count  uint64
	Topic  string // "" when the lost messages' topics are unknown
	Origin string // the bridge that sent them, when known
	Cause  string // "slow consumer", "missing from the sender's numbering", ...
}

func (e *LossError) Error() string {
	msg := fmt.Sprintf("%d message(s) lost: %s", e.Count, e.Cause)
	if e.Topic != "" {
		msg += fmt.Sprintf(" on %q", e.Topic)
	}
	if e.Origin != "" {
		msg += fmt.Sprintf(" from bus %s", e.Origin)
	}
	return msg
}

func (e *LossError) Unwrap() error { return ErrLost }

// ForwardError is a local message that NATS did not take (disconnected with the
// reconnect buffer full, connection closed, payload over the server's limit). It becomes
// the forwarding delivery's dead letter, so it can be redelivered.
type ForwardError struct {
	Topic string
	Err   error
}

func (e *ForwardError) Error() string {
	return fmt.Sprintf("%q not forwarded to NATS: %v", e.Topic, e.Err)
}

func (e *ForwardError) Unwrap() []error { return []error{ErrForward, e.Err} }

// HeaderError is a bridge header that could not be read.
type HeaderError struct {
	Header, Value string
	Err           error
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("header %s %q: %v", e.Header, e.Value, e.Err)
}

func (e *HeaderError) Unwrap() []error { return []error{ErrBadHeader, e.Err} }
