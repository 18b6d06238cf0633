// Package rpc is request-response over the bus: a Client calls a method and gets a future
// of the reply; a Server answers the methods it has registered.
//
// # Wire
//
// A method is a topic (for example "pricing.calculate"). The client publishes the params
// there with the header rpc-reply-to naming the topic it listens on (by default
// "<method>.reply.<client app>"). The server answers on that topic from the request's
// delivery, so the reply's CausationID is the request's ID: that is how the client pairs a
// reply with its call, whatever the correlation id (which is the caller's conversation and
// is left to it). A reply is {"result": ...} or {"error": {"code", "message"}}.
//
// The server app's ACL must allow publishing to the reply topics, the client app's
// subscribing to them.
//
// # Time and failure
//
// Every call has a timeout in bus time (Client default 5s, per call with Timeout). When it
// passes the call fails with a *TimeoutError and forgets the call: a reply arriving later
// is counted in Stats.Late and dropped, never handed to another caller. A handler error
// comes back as an *Error with the handler's code (or "handler-error", or "panic"). A
// cancelled context fails the call on the loop with the context's error.
//
// Calls and replies may be made from any goroutine; futures settle on the loop.
package rpc
