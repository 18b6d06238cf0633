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
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ErrLocked means another process holds the store file.
var ErrLocked = errors.New("history file is in use by another process")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("history store is closed")

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

	queue   chan writeReq
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	closeMu sync.RWMutex // held for reading while sending to queue, for writing by Close

	attachMu sync.Mutex
	untap    func()
	attached *Recorder // the recorder Attach started, which Flush waits for

	gcMu   sync.Mutex // one GC at a time
	stats  counters
	writeE atomic.Pointer[error] // last background write error, reported by Flush/Close
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
func Open(path string, opts Options) (*Store, error) {
	opts = withDefaults(opts)
	if !namespacePattern.MatchString(opts.Namespace) {
		return nil, fmt.Errorf("history namespace %q: use 1-64 of A-Z a-z 0-9 . _ -", opts.Namespace)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("history: create the directory for %s: %w", path, err)
	}
	s := &Store{path: path, opts: opts, ns: []byte(opts.Namespace), log: opts.Logger}
	db, err := openBolt(path, opts.OpenTimeout)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is held by another process (is another mfelab running?); close it, or choose another file with -history or %s", ErrLocked, path, EnvPath)
		}
		if !isCorruption(err) {
			return nil, fmt.Errorf("history: open %s: %w", path, err)
		}
		aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("history: %s is unreadable (%v) and could not be moved aside: %w", path, err, rerr)
		}
		s.Recovered = aside
		s.log.Warn("history file was unreadable; moved aside and started a new one", "file", path, "moved-to", aside, "error", err)
		if db, err = openBolt(path, opts.OpenTimeout); err != nil {
			return nil, fmt.Errorf("history: create a fresh %s: %w", path, err)
		}
	}
	s.db = db
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	s.start()
	return s, nil
}

// prepare creates the namespace's buckets.
func (s *Store) prepare() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		ns, err := tx.CreateBucketIfNotExists(s.ns)
		if err != nil {
			return err
		}
		for _, name := range allSub {
			if _, err := ns.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: prepare namespace %q in %s: %w", s.opts.Namespace, s.path, err)
	}
	return nil
}

// start runs the writer and, if asked for, the background GC.
func (s *Store) start() {
	s.queue = make(chan writeReq, s.opts.QueueSize)
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.writer()
	if s.opts.GCInterval > 0 {
		go s.gcLoop()
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

// openBolt opens the file, turning a panic inside bbolt on a damaged file into an error.
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt panicked reading it: %v", berrors.ErrInvalid, r)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
}

// isCorruption tells errors that mean "this is not a readable bbolt file" from others
// (permissions, a missing directory) that moving the file aside would not fix.
func isCorruption(err error) bool {
	return errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) ||
		errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrInvalidMapping)
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
	err := s.db.Close()
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
