// Package natsbridge joins a bus to NATS, so that microfrontends in different processes
// talk as if they shared one bus. It is the only package of MFE Lab that speaks NATS.
//
// # Joining
//
// Connect joins a local bus to a NATS server (Serve runs one embedded, for `mfelab
// serve`). Local messages on the exported patterns are sent to NATS; remote messages on
// the imported patterns are published on the local bus by the remote app that sent them,
// registered on first sight with its Origin set (bus.App.Remote), so a window can draw
// its lifeline as remote. The bridge's own app (Options.App) receives what it forwards,
// which shows on the trace as deliveries to it.
//
// A local message leaves for NATS as it is published, from the publisher's goroutine
// (the bridge taps the bus), not when the loop delivers it to the bridge's app: that
// would cost every message a hand-off to the loop's goroutine before it could leave, and
// a paused loop would hold it back although it is published. The delivery follows on the
// loop, records the message on the trace, and turns a send that failed into a dead
// letter, which a redelivery sends again. The send takes place with the bus locked, so a
// connection that stops taking data fails after two seconds (the client then reconnects
// and buffers) rather than hold the bus's publishers longer.
//
// A topic travels as the subject of the same name. Patterns map as SubjectsFor says: `+`
// is `*`, `#` alone is `>`, and `x.#` is both `x` and `x.>`, since NATS `>` needs at least
// one more token where the bus's `#` takes zero or more.
//
// # What travels
//
// The envelope's ID, Seq, TS, source app, correlation, causation, trace context (in the
// W3C traceparent format), schema version and free headers travel as NATS headers (see
// HeaderOrigin and the rest). On arrival the local envelope keeps the ID, correlation,
// causation, trace context, schema version and free headers (bus.App.Import); it gets
// the local bus's next Seq and the local bus time, so Seq stays gap-free on every bus,
// and the free header OriginHeader says where and when it was first published (OriginOf
// reads it).
//
// A message never goes back where it came from: each bridge tags what it sends with its
// instance id (in HeaderOrigin) and skips its own messages when they come back, and it never
// forwards a message it imported.
//
// # What is guaranteed, and what is not
//
//   - Time: a joined bus runs on the wall clock (Connect starts the bus's Realtime driver
//     at speed 1 unless Options.Driven says the caller does). Determinism (same seed, same
//     log, byte for byte) holds only for a bus on its own: once joined, what arrives and
//     when depends on the network and the other processes.
//   - Ordering: messages from one bus arrive on another in the order they were sent, per
//     subject and across subjects, as NATS keeps the order of one connection's messages;
//     the bridge publishes them on the local bus from one goroutine, in that order. There
//     is no order between messages from different buses beyond the order they reach the
//     bridge.
//   - Delivery: at most once, as core NATS. Nothing is lost silently: a message the
//     bridge cannot send is a dead letter on its bus and counted in
//     Stats.ForwardFailed; a message dropped because the bus did not keep up is counted
//     in Stats.SlowConsumerDropped and traced; and every sender numbers its messages per
//     subject, so a receiver counts what never arrived in Stats.Missing and traces it as
//     a rejection with a *LossError when the next message on that subject arrives.
//     Losses before the first message a bridge receives from a sender on a subject, and
//     after its last, cannot be seen.
//   - Reconnects: the bridge reconnects on its own for as long as it is open; messages
//     sent meanwhile wait in the client's reconnect buffer (Options.ReconnectBuffer) and
//     past it fail, counted.
//
// # Permissions
//
// Permissions and UserFor turn an app's ACL into NATS permissions, and Serve makes a user
// per app (ServerOptions.Apps), so that the server refuses what an app may not do, even if
// the process connecting as it does not check. A refusal comes back as a rejection on the
// local bus's trace, naming the app and the message where the bridge still knows it
// (*RefusedError), and in Stats.Refused.
package natsbridge
