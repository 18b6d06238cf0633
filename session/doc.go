// Package session is one run of MFE Lab from start to finish, for every front end: the
// window draws a Session, the command line prints one, the exports write one, so none of
// them can disagree about what happened.
//
// A Session starts a scenario with its knobs and seed (Start) or a recorded log (Replay),
// drives it (Step, StepAct, Play at a speed, Pause, RunToEnd), records it into a history
// file as a run of its own (Record), decides when it is over (Settle, Finished: nothing is
// left to run before the scenario's horizon, at every speed), and holds its Trace.
//
// # Across processes
//
// StartRemote starts a scenario with some of its apps served by other processes
// (ServeApps, `mfelab app`), its bus joined to NATS through bus/natsbridge. A joined
// session runs on the wall clock at speed 1: it cannot be stepped, RunToEnd plays until it
// settles, and the same seed gives the same log only for a run on its own, since what the
// other processes send, and when, is theirs.
//
// # The trace, held once
//
// Trace keeps every trace event the bus emitted, in order, compactly (the envelopes are
// the bus's own), and renders an event as the one line every front end prints (Format).
// Beside it the Diagram classifies each event into sequence-diagram rows: which
// deliveries are requests, replies, error replies, compensations, failures, retries,
// dead letters, skips, rejections, rate-limit drops and timeouts, on which lifelines.
// The window draws those rows; WriteMermaid writes them; a recorded run read back with
// Load yields the same rows, since history keeps the whole trace.
//
// # Concurrency
//
// The bus appends to the trace from its tap, with the bus locked: appending takes only
// the trace's own lock and never waits on anything else, and a recording hands events to
// a history.Recorder, which never blocks either. Readers (the window's refresh, the
// exports) take the trace's read lock per call, from any goroutine. Driving calls may come
// from any goroutine, one at a time.
package session
