// Package history persists what a bus publishes in a bbolt file, so a run can be queried,
// scrubbed, exported and replayed after the fact. It is the only package that imports bbolt.
//
// # Layout
//
// One top-level bucket per namespace holds: msgs (row number -> envelope JSON, exactly as
// published), by-topic and by-correlation indexes (key + 0x00 + row -> nil), the set of
// distinct topics, an id -> row map that skips duplicates, the deliveries of each message,
// dead letters, and named states (saga instances). Row numbers are the store's own, in
// append order: envelopes from several bus runs can share a namespace, and their Seq
// values repeat.
//
// Queries by pattern resolve the pattern against the distinct topics first, then walk
// only those topics' index ranges from the newest end, so "the last 1,000 of pattern P"
// reads about 1,000 index keys, not the store.
//
// # Writes and what a crash can lose
//
// Appends go to one writer goroutine that commits them in batches (up to BatchSize
// messages, or whatever arrived within BatchDelay) in one bbolt transaction, which bbolt
// makes atomic and fsyncs. So the file is always a consistent prefix of what was appended:
//
//   - Batched mode (the default): Append returns once the message is queued. A crash loses
//     at most the messages queued in the last BatchDelay (and any still in the queue).
//   - Durable mode: Append returns only after the transaction holding the message has
//     committed. A crash loses nothing that Append reported as stored.
//
// # Opening
//
// A file held by another process fails within Options.OpenTimeout (1 s by default) with an
// error naming the file. A file bbolt cannot read is renamed aside to
// "<name>.corrupt-<time>" and a fresh store is created; Store.Recovered says so. Nothing is
// overwritten or deleted silently.
package history
