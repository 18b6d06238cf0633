// Package bus is MFE Lab's in-process publish/subscribe bus: the one channel through which
// the simulated microfrontends talk, built so every exchange can be watched, stepped,
// recorded and reproduced.
//
// # Topics
//
// A topic is one or more `.`-separated segments of [A-Za-z0-9_-], at most 255 bytes and 32
// segments. A subscription pattern may use `+` for exactly one segment and, as its last
// segment only, `#` for zero or more segments: `cart.#` matches `cart` and `cart.item.added`,
// `#` matches everything. Publishing to a pattern or to a malformed topic returns a
// *TopicError (errors.Is ErrInvalidTopic); nothing is dropped silently.
//
// Subscriptions live in a trie with one node per segment and dedicated `+` and `#` children,
// so matching costs O(depth) whatever the number of subscriptions.
//
// # Time and the loop
//
// Publish never runs handlers. It validates, stamps and records the envelope, then schedules
// one delivery event per matching subscription at now + the subscriber app's latency. The
// loop runs events in (bus time, scheduling order): Step runs one, RunUntilIdle all,
// RunFor/RunUntil up to a bus time; a Realtime driver paces them by the wall clock. Timers
// (After, Post) are events too. Bus time moves only when events run or a driver lets it
// flow; nothing reads the wall clock, and IDs and Rand streams come from Options.Seed, so
// the same inputs and seed give the same envelopes and trace, byte for byte.
//
// # Ordering
//
//   - Seq is bus-wide and gap-free in publish order; a rejected publish takes no Seq.
//   - The handlers of one publish run in subscription order (Subscription.ID), unless
//     their apps have different latencies, in which case bus time decides.
//   - A message published by a handler is delivered after every delivery already due at
//     the same bus time: breadth-first, like a queue, not a nested call.
//   - Subscriptions see messages published after they subscribe, plus any they replay.
//     Unsubscribing cancels deliveries already scheduled; each shows as skipped.
//   - No delivery starts after Unsubscribe returns. From another goroutine, Unsubscribe
//     waits until the batch of events the loop is running ends, since it may hold a
//     delivery to that subscription that has begun; on the loop (a handler ending its own
//     subscription or another, a timer) it returns at once, as nothing else is running.
//   - When a subscription's context is done, deliveries that begin afterwards are skipped:
//     the bus checks the context just before each one. Cancelling does not wait; a handler
//     already past that check sees its context done.
//
// # Concurrency
//
// Publish, Subscribe, Unsubscribe, Stats and History are safe from any goroutine. Handlers
// and timers run on the loop, one at a time, on whichever goroutine drives it (Step or the
// Realtime driver; the loop lock keeps them apart). Tap functions are called one at a time
// in event order, often with the bus locked: they must be quick and must not call the bus.
// Unsubscribe from outside the loop may wait for the handlers running now: do not call it
// holding a lock they take, or from a goroutine a handler waits for.
//
// # Failure
//
// A handler that returns an error or panics fails only its own delivery: the bus emits a
// handler-failed trace event, records a DeadLetter (envelope, handler, reason, attempt) and
// carries on with the other handlers. An envelope the subscriber cannot read (a version
// its Accept cannot be converted to) fails its delivery the same way, without running the
// handler. Either way the delivered trace event comes first: every failure follows the
// delivery it refers to. Publish errors are typed: *TopicError, *PayloadError,
// *ACLError, *RateLimitError, *ContractError; each is also a rejected (or rate-limited) trace
// event, the bus's diagnostics.
//
// # Across processes
//
// A bus on its own is in-process and deterministic. Joined to other processes through a
// bridge (package natsbridge), it runs on the wall clock and takes in their messages as
// publishes from remote apps (AppConfig.Origin), through App.Import, which keeps the
// identity a message was given where it was first published while Seq stays local and
// gap-free. Determinism then holds no longer: what arrives, and when, depends on the
// other processes and the network.
//
// # Middleware
//
// Middleware wraps handlers. Bus-wide middleware (Use) wraps every handler, the first added
// outermost; a subscription's own middleware (WithMiddleware) sits inside the bus-wide chain.
package bus
