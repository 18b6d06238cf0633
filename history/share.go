package history

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A file open for writing is locked against every other process, readers included
// (bbolt's lock). So that `mfelab runs` and `mfelab export` can read the history of a
// window that is running, the process holding a file offers consistent copies of it on
// a local socket (ShareSnapshots), and a read-only Open that finds the file locked reads
// such a copy instead. The copy is a snapshot of one read transaction: every run in it
// is whole up to the moment it was taken.

// snapshotTimeout bounds how long one snapshot may take to send, so that a reader that
// stops reading cannot hold the file's handle open for long.
const snapshotTimeout = 2 * time.Minute

// snapshotSocket is where the process holding the file at path offers its snapshots: a
// name derived from the file's absolute path, in the user's runtime directory (or the
// temporary one), short enough for a socket's path.
func snapshotSocket(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sum := sha256.Sum256([]byte(abs))
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, fmt.Sprintf("mfelab-%x.sock", sum[:8]))
}

// sharer serves snapshots of a store's file until it is stopped.
type sharer struct {
	ln    net.Listener
	sock  string
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// ShareSnapshots offers consistent copies of the file to other processes while this
// store has it open, so that they can read it in spite of the lock. Close stops it. It
// fails when another process already shares the file, or no socket can be made there.
func (s *Store) ShareSnapshots() error {
	if s.view || s.opts.ReadOnly {
		return errors.New("history: only the handle that opened the file for writing shares it")
	}
	sock := snapshotSocket(s.path)
	if c, err := net.DialTimeout("unix", sock, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("history: %s is already shared at %s", s.path, sock)
	}
	os.Remove(sock) // left by a process that ended without closing
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("history: share %s: %w", s.path, err)
	}
	os.Chmod(sock, 0o600) // the user's own runs, for the user's own processes
	sh := &sharer{ln: ln, sock: sock, conns: map[net.Conn]struct{}{}}
	s.attachMu.Lock()
	s.sharer = sh
	s.attachMu.Unlock()
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // stopped
			}
			sh.mu.Lock()
			sh.conns[c] = struct{}{}
			sh.mu.Unlock()
			sh.wg.Add(1)
			go func() {
				defer sh.wg.Done()
				s.sendSnapshot(c)
				sh.mu.Lock()
				delete(sh.conns, c)
				sh.mu.Unlock()
			}()
		}
	}()
	return nil
}

// sendSnapshot writes one consistent copy of the file to c.
func (s *Store) sendSnapshot(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(snapshotTimeout))
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(c)
		return err
	})
	if err != nil {
		s.log.Debug("history: a snapshot was not sent whole", "file", s.path, "error", err)
	}
}

// stop ends the sharing: no new reader is taken, those being served are cut off, and it
// returns once none is left holding a read transaction.
func (sh *sharer) stop() {
	sh.ln.Close()
	sh.mu.Lock()
	for c := range sh.conns {
		c.Close()
	}
	sh.mu.Unlock()
	sh.wg.Wait()
	os.Remove(sh.sock)
}

// fetchSnapshot asks the process that holds path for a snapshot and writes it to a
// temporary file, whose path it returns; the caller removes it.
func fetchSnapshot(path string) (string, error) {
	c, err := net.DialTimeout("unix", snapshotSocket(path), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(snapshotTimeout))
	f, err := os.CreateTemp("", "mfelab-snapshot-*.db")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, c)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == 0 {
		err = errors.New("the snapshot was empty")
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
