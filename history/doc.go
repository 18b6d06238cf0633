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
// # Import
//
// ReadFrom, ReadFile, ReadBytes and Import read an export (NDJSON, or a CloudEvents batch:
// a JSON array) as a stream, one line or array element at a time, so memory holds at most
// one line of up to 16 MiB besides the good envelopes. Each bad line, an over-long one
// included, is reported by its number and skipped, and the lines after it are read; a bad
// element of a batch is reported by the line it starts on. Only a batch whose array is
// broken (a missing comma, a file cut short) stops there, saying so. A UTF-8 byte-order
// mark at the start is skipped, lines may end in CRLF, and a bad byte is named by its
// value and column ("byte 0xEF at column 1"), never shown as a character it is not.
//
// # Opening
//
// A file held by another process fails within Options.OpenTimeout (1 s by default) with an
// error naming the file (ErrLocked). A path that names a directory is an error, and the
// directory is left alone. A missing or empty file becomes a new store.
//
// A file that already holds data is opened read-only and checked before anything is
// written to it: bbolt must accept it (a bbolt file of this version, with a valid meta
// page), it must be as long as its pages say, and the buckets of every namespace must open
// and their first and last keys be readable. bbolt trusts the file it reads and panics,
// or faults reading past the end of its memory map, on many kinds of damage; Open turns
// all of that into a *CorruptError (wrapping ErrCorrupt and the cause), never a crash.
// So a file cut short (a copy that stopped, a full disk) is treated as damaged as soon as
// a byte its pages need is missing, however much is left; a file cut only in the unused
// space after its last page is whole, and opens as it is.
//
// A damaged file is renamed aside to "<name>.corrupt-<time>" (UTC, to the second; with
// "-2", "-3"... appended if that name is taken: an existing file is never replaced, so two
// damaged files moved aside in one second both stay), and a fresh store is created
// in its place; Store.Recovered is the new name of the old file and Store.Recovery the
// *CorruptError saying which file, where it went and why, so a front end can name both.
// The old file keeps its bytes. Nothing is overwritten or deleted silently.
//
// Damage inside a page the check does not read (deep inside a large bucket) is not found
// on opening: bbolt may still panic when a query reaches that page.
//
// # Read-only
//
// Options.ReadOnly is for tasks that only read, such as an export: they must change
// nothing. The file is opened read-only by the operating system, with a shared lock
// (several readers at once, but not while a writer holds it: that waits OpenTimeout and
// fails with ErrLocked). A missing file is an error (ErrNoFile, "no history file at
// PATH"), never created, nor is its directory. A damaged file gets the same check as
// above, but it is an error (a *CorruptError whose Aside is empty) and the file stays
// where and as it is. A namespace the file lacks is an error (ErrNoNamespace), since it
// cannot be created, and so is an empty file. Append, PutState, ImportInto and GC return
// ErrReadOnly; a bus attached to a read-only store goes on, but nothing is recorded.
package history
