package history

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"mfelab/bus"
)

// EnvPath is the environment variable that overrides the default store location.
const EnvPath = "MFELAB_HISTORY"

// DefaultNamespace is used when Options.Namespace is empty.
const DefaultNamespace = "default"

// Options configure a Store. Zero values take the defaults shown.
type Options struct {
	// Namespace separates independent histories in one file (default "default").
	Namespace string
	// TTL deletes messages older than this, by their bus timestamp, at each GC (0: keep).
	TTL time.Duration
	// MaxMessages keeps at most this many messages, deleting the oldest (0: no limit).
	MaxMessages int
	// GCInterval runs retention this often in the background (0: only when GC is called).
	GCInterval time.Duration
	// Durable makes Append wait until its message is committed to disk.
	Durable bool
	// BatchSize caps messages per commit (default 4096).
	BatchSize int
	// BatchDelay is how long the writer gathers a batch after its first message (default 2ms).
	BatchDelay time.Duration
	// QueueSize bounds messages waiting for the writer; a full queue makes Append wait
	// (default 65,536), which is backpressure, never loss.
	QueueSize int
	// OpenTimeout bounds the wait for a file another process holds (default 1s).
	OpenTimeout time.Duration
	// Logger receives recoveries and background GC failures (default slog.Default()).
	Logger *slog.Logger
	// ReadOnly opens an existing file to read it and nothing else, for exports and
	// inspection: with a shared lock (other read-only opens may hold it too, a writer may
	// not), without creating the file, its directory or the namespace, and without ever
	// moving a damaged file aside (that is an error naming the file). Append, PutState,
	// ImportInto and GC return ErrReadOnly; Append waits for that answer, as if Durable.
	// Attach is accepted, but every record it makes is refused and logged. A namespace
	// the file lacks is an error (ErrNoNamespace), not an empty history.
	ReadOnly bool

	// snapshotOf, on the open of a copy sent by a file's owner, is that file's path: the
	// handle goes by it, removes the copy on Close, and asks for no copy in turn.
	snapshotOf string
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ErrLocked means another process holds the store file.
var ErrLocked = errors.New("history file is in use by another process")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("history store is closed")

// ErrReadOnly is returned by writes to a store opened with Options.ReadOnly. It is bbolt's
// own error, so a write that reaches the file (GC) reports it too.
var ErrReadOnly = berrors.ErrDatabaseReadOnly

// ErrNoFile means a read-only open found no file at the path.
var ErrNoFile = errors.New("no history file")

// ErrNoNamespace means a read-only open found no such namespace in the file.
var ErrNoNamespace = errors.New("no such history namespace")

// Store is an open history file, bound to one namespace.
type Store struct {
	db   *bolt.DB
	path string
	opts Options
	ns   []byte
	log  *slog.Logger

	// view is set on a handle made by In: it shares the file, and Close leaves it open.
	view bool

	// Recovered is the path the previous, unreadable file was moved to when Open had to
	// start afresh; empty otherwise.
	Recovered string
	// Recovery says, when Recovered is set, which file could not be read, where it went
	// and why.
	Recovery *CorruptError

	queue   chan writeReq
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	closeMu sync.RWMutex // held for reading while sending to queue, for writing by Close

	attachMu sync.Mutex
	untap    func()
	attached *Recorder // the recorder Attach started, which Flush waits for
	sharer   *sharer   // serves snapshots of the file to other processes (ShareSnapshots)

	// snapshot is the temporary copy a read-only handle reads, when the file itself was
	// locked by the process that has it open for writing; Close removes it.
	snapshot string

	gcMu   sync.Mutex // one GC at a time
	stats  counters
	writeE atomic.Pointer[error] // last background write error, reported by Flush/Close
	// broken is the first write failure of this handle. Nothing is written after it, so
	// what the handle wrote stays a prefix of what it was given.
	broken atomic.Pointer[error]
	// missing is why a read-only handle opened on the whole file cannot read its own
	// namespace (the file has none by that name); nil otherwise.
	missing error
}

type counters struct {
	stored, skipped, collected atomic.Uint64
	lastGC                     atomic.Int64 // unix ns
}

// Bucket names inside a namespace.
var (
	bMsgs   = []byte("msgs")
	bTopic  = []byte("by-topic")
	bCorr   = []byte("by-correlation")
	bTopics = []byte("topics")
	bIDs    = []byte("ids")
	bDeliv  = []byte("deliveries")
	bDead   = []byte("dead-letters")
	bStates = []byte("states")
	bMeta   = []byte("meta")
	allSub  = [][]byte{bMsgs, bTopic, bCorr, bTopics, bIDs, bDeliv, bDead, bStates, bMeta}
	kNext   = []byte("next-row")
)

// DefaultPath is where the store lives unless a flag or MFELAB_HISTORY says otherwise: the
// user's configuration directory, under mfelab/.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user configuration directory (%w); set %s to a file path", err, EnvPath)
	}
	return filepath.Join(dir, "mfelab", "history.db"), nil
}

// Open opens (or creates) the store at path.
//
// A file bbolt cannot use (not a bbolt file, cut short, damaged, or of another bbolt
// version) is moved aside and a fresh file is started in its place: Store.Recovered and
// Store.Recovery say where it went and why. Should that fail too, the error wraps the
// *CorruptError naming the file.
func Open(path string, opts Options) (*Store, error) {
	anyNamespace := opts.Namespace == "" // a read-only file handle need not have "default"
	opts = withDefaults(opts)
	if !namespacePattern.MatchString(opts.Namespace) {
		return nil, fmt.Errorf("history namespace %q: use 1-64 of A-Z a-z 0-9 . _ -", opts.Namespace)
	}
	if opts.ReadOnly {
		return openReadOnly(path, opts, anyNamespace)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("history: create the directory for %s: %w", path, err)
	}
	s := &Store{path: path, opts: opts, ns: []byte(opts.Namespace), log: opts.Logger}
	db, err := openFile(path, opts)
	var damage *CorruptError
	if errors.As(err, &damage) {
		aside, rerr := moveAside(path, time.Now())
		if rerr != nil {
			return nil, fmt.Errorf("%w; it could not be moved aside: %w; move or delete it, or choose another file", damage, rerr)
		}
		damage.Aside = aside
		s.Recovered, s.Recovery = aside, damage
		s.log.Warn("history file was unreadable; moved aside and started a new one", "file", path, "moved-to", aside, "error", damage.Err)
		if db, err = openFile(path, opts); err != nil {
			return nil, fmt.Errorf("history: start a fresh %s after moving the unreadable one to %s: %w", path, aside, err)
		}
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	if err := s.closeInterrupted(); err != nil {
		db.Close()
		return nil, err
	}
	s.start()
	return s, nil
}

// prepare creates the namespace's buckets, or for a read-only store checks they exist.
func (s *Store) prepare() error {
	if s.opts.ReadOnly {
		return findNamespace(s.db, s.path, s.ns)
	}
	if err := createNamespace(s.db, s.ns); err != nil {
		return fmt.Errorf("history: prepare namespace %q in %s: %w", s.opts.Namespace, s.path, err)
	}
	return nil
}

// createNamespace creates those buckets of namespace ns that do not exist yet.
func createNamespace(db *bolt.DB, ns []byte) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(ns)
		if err != nil {
			return err
		}
		for _, name := range allSub {
			if _, err := b.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// start runs the writer and, if asked for, the background GC.
func (s *Store) start() {
	s.queue = make(chan writeReq, s.opts.QueueSize)
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	if s.opts.ReadOnly {
		go s.refuse()
		return
	}
	go s.writer()
	if s.opts.GCInterval > 0 {
		go s.gcLoop()
	}
}

// refuse stands in for the writer of a read-only store: it answers every write with
// ErrReadOnly, and a flush, having nothing to write, with nil.
func (s *Store) refuse() {
	defer close(s.done)
	refused := fmt.Errorf("history: %s was opened read-only: %w", s.path, ErrReadOnly)
	answer := func(r writeReq) {
		if r.done == nil {
			return
		}
		if r.flush {
			r.done <- nil
		} else {
			r.done <- refused
		}
	}
	for {
		select {
		case r := <-s.queue:
			answer(r)
		case <-s.stop:
			for {
				select {
				case r := <-s.queue:
					answer(r)
				default:
					return
				}
			}
		}
	}
}

func withDefaults(o Options) Options {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4096
	}
	if o.BatchDelay <= 0 {
		o.BatchDelay = 2 * time.Millisecond
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 65536
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Namespace is the namespace this handle reads and writes.
func (s *Store) Namespace() string { return s.opts.Namespace }

// Close detaches, flushes what is queued, stops background work and closes the file.
func (s *Store) Close() error {
	s.Detach()
	s.closeMu.Lock()
	if s.closed.Swap(true) {
		s.closeMu.Unlock()
		return nil
	}
	close(s.stop)
	s.closeMu.Unlock()
	<-s.done
	if s.view {
		if p := s.writeE.Load(); p != nil {
			return *p
		}
		return nil
	}
	s.attachMu.Lock()
	sh := s.sharer
	s.sharer = nil
	s.attachMu.Unlock()
	if sh != nil {
		sh.stop() // no snapshot holds a read transaction past this point
	}
	err := s.db.Close()
	if s.snapshot != "" {
		os.Remove(s.snapshot)
	}
	if p := s.writeE.Load(); p != nil && err == nil {
		err = *p
	}
	return err
}

func rowKey(row uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, row)
	return k
}

// indexKey is key + 0x00 + row: topics and correlation ids never contain 0x00, so a
// prefix scan over key + 0x00 finds exactly that key's rows, in row order.
func indexKey(key string, row uint64) []byte {
	k := make([]byte, len(key)+9)
	copy(k, key)
	binary.BigEndian.PutUint64(k[len(key)+1:], row)
	return k
}

// Stats describe the store.
type Stats struct {
	Path      string
	Namespace string
	Stored    uint64 // messages in the namespace now
	Appended  uint64 // messages this handle wrote
	Skipped   uint64 // duplicates this handle skipped
	Collected uint64 // messages this handle's GC deleted
	LastGC    time.Time
	FileSize  int64
}

// Stats reads the counters and the file size.
func (s *Store) Stats() (Stats, error) {
	st := Stats{Path: s.path, Namespace: s.opts.Namespace, Appended: s.stats.stored.Load(),
		Skipped: s.stats.skipped.Load(), Collected: s.stats.collected.Load()}
	if t := s.stats.lastGC.Load(); t != 0 {
		st.LastGC = time.Unix(0, t).UTC()
	}
	if s.closed.Load() {
		return st, ErrClosed
	}
	if s.missing != nil {
		return st, s.missing
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		st.Stored = readUint(s.sub(tx, bMeta).Get(kCount))
		st.FileSize = tx.Size()
		return nil
	})
	return st, err
}

func (s *Store) sub(tx *bolt.Tx, name []byte) *bolt.Bucket {
	return tx.Bucket(s.ns).Bucket(name)
}

// decode reads a stored envelope.
func decode(v []byte) (*bus.Envelope, error) {
	env := new(bus.Envelope)
	if err := json.Unmarshal(v, env); err != nil {
		return nil, fmt.Errorf("history: stored envelope is unreadable: %w", err)
	}
	return env, nil
}

// usable says why the handle cannot read its namespace, if it cannot.
func (s *Store) usable() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.missing
}
