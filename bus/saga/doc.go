// Package saga runs long business transactions across apps without a distributed lock:
// each step does its part, and when one fails the steps already done are undone by their
// compensations. Both styles are here.
//
// # Orchestrated
//
// An Orchestrator runs a Definition: named steps, each with an Action and an optional
// Compensate, in order. If an action fails, the compensations of the completed steps run
// in reverse order; a compensation that fails is recorded in the state and the remaining
// ones still run. The instance's State (status, step, steps done, compensated, errors,
// step results) is published on "saga.<name>.state" after every change, correlated by the
// instance ID, and handed to the Options.Save hook so it can be persisted. Resume picks an
// instance up from its last saved state: a running saga repeats the step it was in (so
// actions should tolerate running twice), a compensating one carries on compensating.
//
// Steps run on the loop; actions return futures (an RPC call, typically), and every
// message they send should use Exec.Cause so the whole saga stays in one causal chain.
//
// # Choreographed
//
// A Choreography has no conductor: each Participant reacts to an event, does its work and
// announces success or failure as an event; participants that did work undo it when they
// see one of their CompensateOn events, and announce that too. Chaining the compensation
// events (shipping.failed -> payment.refunded -> inventory.released) gives the reverse
// order. The Choreography keeps each conversation's progress for display.
package saga
