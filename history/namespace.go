package history

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// In returns a handle on namespace ns of the same file, with its own writer, so one open
// file can record each run apart. Close the handle before the Store it came from; closing
// it stops its writer and leaves the file open. Options other than the namespace are
// taken from s, except that background GC runs only on the handle that asked for it.
func (s *Store) In(ns string) (*Store, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if !namespacePattern.MatchString(ns) {
		return nil, fmt.Errorf("history namespace %q: use 1-64 of A-Z a-z 0-9 . _ -", ns)
	}
	opts := s.opts
	opts.Namespace, opts.GCInterval = ns, 0
	v := &Store{db: s.db, path: s.path, opts: opts, ns: []byte(ns), log: s.log, view: true}
	if err := v.prepare(); err != nil {
		return nil, err
	}
	v.start()
	return v, nil
}

// NamespaceInfo describes one namespace of a file.
type NamespaceInfo struct {
	Name     string
	Messages uint64
}

// Namespaces lists the namespaces in the file, in name order, with their message counts.
func (s *Store) Namespaces() ([]NamespaceInfo, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []NamespaceInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			meta := b.Bucket(bMeta)
			if meta == nil {
				return nil // not a namespace of ours
			}
			out = append(out, NamespaceInfo{Name: string(name), Messages: readUint(meta.Get(kCount))})
			return nil
		})
	})
	return out, err
}
