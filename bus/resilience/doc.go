// Package resilience wraps asynchronous operations in policies that run on bus time:
// retry with exponential backoff and seeded jitter, timeout, bulkhead, fallback and a
// circuit breaker (package breaker), plus a retry middleware for bus handlers.
//
// An operation is an Op: a function that starts work and returns a future. Each policy
// takes an Op and returns one, so they nest. Pipeline composes them in one documented
// order, outermost first:
//
//	Fallback( Retry( Breaker( Bulkhead( Timeout( op ) ) ) ) )
//
// so the timeout bounds one attempt, the bulkhead counts attempts actually running, the
// breaker sees every attempt's outcome (and refuses attempts while open), retry spaces out
// attempts, and the fallback answers only once everything else has given up.
//
// Which errors are retried: by default every error except those marked Permanent, context
// cancellation, and a full bulkhead queue; set RetryPolicy.Retryable to decide otherwise.
//
// All policies are used from the bus loop (they schedule timers there); jitter draws from
// the *rand.Rand given, normally a bus.Rand stream, so runs are reproducible.
package resilience
