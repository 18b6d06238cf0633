package history

// Opening a file safely: read-only opens, damaged and truncated files, moving them aside.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// openReadOnly is Open for Options.ReadOnly: it changes nothing, on disk or in the file.
// With anyNamespace, the file need not hold the handle's namespace: the handle then reads
// the file's runs (Runs, In), and its own namespace reads return ErrNoNamespace.
func openReadOnly(path string, opts Options, anyNamespace bool) (*Store, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("history: %w at %s", ErrNoFile, path)
	case err != nil:
		return nil, fmt.Errorf("history: %w", err)
	case info.IsDir():
		return nil, errIsDir(path)
	case info.Size() == 0:
		return nil, fmt.Errorf("history: %w: %q in %s, which is empty", ErrNoNamespace, opts.Namespace, path)
	}
	ns := []byte(opts.Namespace)
	var missing error
	db, err := openGuarded(path, &bolt.Options{Timeout: opts.OpenTimeout, ReadOnly: true}, func(db *bolt.DB, size int64) error {
		if err := probe(db, size); err != nil {
			return err
		}
		missing = findNamespace(db, path, ns)
		if anyNamespace && errors.Is(missing, ErrNoNamespace) {
			return nil
		}
		return missing
	})
	if errors.Is(err, ErrLocked) && opts.snapshotOf == "" {
		// The file is open for writing in another process: read the copy it offers.
		snap, serr := fetchSnapshot(path)
		if serr != nil {
			return nil, err
		}
		sopts := opts
		sopts.snapshotOf = path
		s, err := openReadOnly(snap, sopts, anyNamespace)
		if err != nil {
			os.Remove(snap)
			return nil, fmt.Errorf("history: the copy of %s its owner sent: %w", path, err)
		}
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	opts.Durable = true // so that Append waits for, and returns, the refusal
	s := &Store{db: db, path: path, opts: opts, ns: ns, log: opts.Logger, missing: missing}
	if opts.snapshotOf != "" {
		s.path, s.snapshot = opts.snapshotOf, path
	}
	s.start()
	return s, nil
}

// findNamespace checks that the file holds namespace ns with all its buckets, which a
// read-only store cannot create.
func findNamespace(db *bolt.DB, path string, ns []byte) error {
	return db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(ns)
		if b == nil {
			return fmt.Errorf("history: %w: %q in %s", ErrNoNamespace, ns, path)
		}
		for _, name := range allSub {
			if b.Bucket(name) == nil {
				return fmt.Errorf("history: %w: %q in %s lacks its %s bucket; open the file once for writing to add it", ErrNoNamespace, ns, path, name)
			}
		}
		return nil
	})
}

// ErrCorrupt is wrapped by every *CorruptError.
var ErrCorrupt = errors.New("history file is damaged or is not a history file")

// CorruptError says that a file could not be used as a history file, and where it went.
// It wraps ErrCorrupt and what bbolt or the check on opening found.
type CorruptError struct {
	// Path is the file that was asked for.
	Path string
	// Aside is where the file was moved; empty when it was left in place.
	Aside string
	// Err is what was wrong with it.
	Err error
}

func (e *CorruptError) Error() string {
	if e.Aside != "" {
		return fmt.Sprintf("history file %s could not be read (%v); it was moved to %s", e.Path, e.Err, e.Aside)
	}
	return fmt.Sprintf("history file %s is damaged or is not a history file (%v); it was left as it is", e.Path, e.Err)
}

// Unwrap makes errors.Is match both ErrCorrupt and the cause.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// moveAside renames path to "<path>.corrupt-<time>", or to that name with "-2", "-3"...
// appended when it is taken (two files moved aside in one second): it never replaces a
// file. A hard link claims the new name only if it is free; on a file system without
// hard links, a file created with O_EXCL claims it and the rename replaces only that.
func moveAside(path string, now time.Time) (string, error) {
	base := fmt.Sprintf("%s.corrupt-%s", path, now.UTC().Format("20060102T150405Z"))
	for n := 1; n <= maxAside; n++ {
		aside := base
		if n > 1 {
			aside = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Link(path, aside)
		if err == nil {
			if err := os.Remove(path); err != nil {
				os.Remove(aside)
				return "", err
			}
			return aside, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		f, err := os.OpenFile(aside, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		f.Close()
		if err := os.Rename(path, aside); err != nil {
			os.Remove(aside)
			return "", err
		}
		return aside, nil
	}
	return "", fmt.Errorf("%s and %d more names like it are taken; move some of them away", base, maxAside-1)
}

// maxAside bounds the names moveAside tries for one second.
const maxAside = 1000

// errCutShort is the cause of a CorruptError for a file shorter than its own pages say.
var errCutShort = errors.New("the file was cut short")

// openFile opens path for writing and prepares the namespace. A file that already holds
// data is first opened read-only and checked, so that a damaged one is found before
// bbolt writes to it; whatever way bbolt fails on it comes back as a *CorruptError.
func openFile(path string, opts Options) (*bolt.DB, error) {
	info, err := os.Stat(path)
	if err == nil && info.IsDir() {
		return nil, errIsDir(path)
	}
	if err == nil && info.Size() > 0 {
		db, err := openGuarded(path, &bolt.Options{Timeout: opts.OpenTimeout, ReadOnly: true}, probe)
		if err != nil {
			return nil, err
		}
		if err := db.Close(); err != nil {
			return nil, fmt.Errorf("history: close %s after checking it: %w", path, err)
		}
	}
	return openGuarded(path, &bolt.Options{Timeout: opts.OpenTimeout}, func(db *bolt.DB, _ int64) error {
		return createNamespace(db, []byte(opts.Namespace))
	})
}

// errIsDir is the error for a path that names a directory.
func errIsDir(path string) error {
	return fmt.Errorf("history: %w; choose a file, not a directory", &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR})
}

// openGuarded opens path with bbolt and runs check on it. bbolt trusts the file: on a
// damaged one it can panic, or fault reading its memory map past the end of a file that
// was cut short. Both become a *CorruptError here, as do the errors bbolt returns for a
// file it cannot read, so a damaged file never stops the program. Nothing stays open
// after a failure.
func openGuarded(path string, bo *bolt.Options, check func(db *bolt.DB, size int64) error) (db *bolt.DB, err error) {
	var file *os.File
	bo.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			// bbolt may have stopped midway with its own locks held, so closing the DB
			// could block: close the file, which releases the lock on it. Its memory map
			// stays until the program exits.
			if file != nil {
				file.Close()
			}
			db, err = nil, &CorruptError{Path: path, Err: fmt.Errorf("bbolt failed reading it: %v", r)}
		}
	}()
	if db, err = bolt.Open(path, 0o600, bo); err != nil {
		return nil, openError(path, err)
	}
	var size int64
	if info, err := file.Stat(); err == nil {
		size = info.Size()
	}
	if err := check(db, size); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	return db, nil
}

// openError tells what went wrong opening a file: it is held by another process, or out
// of reach (a missing directory, a permission, a system limit: moving the file aside
// would not help), or else it is not usable as a history file.
func openError(path string, err error) error {
	var pathErr *fs.PathError
	var errno syscall.Errno
	var damage *CorruptError
	switch {
	case errors.As(err, &damage), errors.Is(err, ErrNoNamespace):
		return err
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s is held by another process (is another mfelab running?); close it, or choose another file with -history or %s", ErrLocked, path, EnvPath)
	case errors.As(err, &pathErr):
		return fmt.Errorf("history: %w", err) // it names the file
	case errors.As(err, &errno):
		return fmt.Errorf("history: open %s: %w", path, err)
	}
	return &CorruptError{Path: path, Err: err}
}

// probe checks, in one read transaction, what bbolt does not check before it trusts a
// file: that the file is as long as its pages say (a file cut short is not, and bbolt
// would read past its end), and that the buckets of every namespace open and their first
// and last keys can be read.
func probe(db *bolt.DB, size int64) error {
	return db.View(func(tx *bolt.Tx) error {
		if used := tx.Size(); used > size {
			return fmt.Errorf("%w: it is %d bytes long, but its pages reach byte %d", errCutShort, size, used)
		}
		return tx.ForEach(func(_ []byte, ns *bolt.Bucket) error {
			return ns.ForEachBucket(func(name []byte) error {
				c := ns.Bucket(name).Cursor()
				c.First()
				c.Last()
				return nil
			})
		})
	})
}
