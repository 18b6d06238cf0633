package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mfelab/bus"
)

// snapshot is what a read-only open must leave as it was: the file's bytes, size, mode and
// modification time, and the names in its directory.
type snapshot struct {
	data    []byte
	mode    os.FileMode
	modTime time.Time
	names   []string
}

func takeSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	var sn snapshot
	if info, err := os.Stat(path); err == nil {
		sn.mode, sn.modTime = info.Mode(), info.ModTime()
		sn.data, _ = os.ReadFile(path)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		sn.names = append(sn.names, e.Name())
	}
	return sn
}

func (sn snapshot) same(o snapshot) bool {
	return bytes.Equal(sn.data, o.data) && sn.mode == o.mode && sn.modTime.Equal(o.modTime) && slices.Equal(sn.names, o.names)
}

func TestAReadOnlyOpenChangesNothing(t *testing.T) {
	path, _, _ := goodFile(t, 3000)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	// Let a write, if one happened, show in the modification time.
	time.Sleep(20 * time.Millisecond)
	before := takeSnapshot(t, path)

	t.Run("an export from a file that is not writable reads every message", func(t *testing.T) {
		s, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := s.Export(&buf, NDJSON, Query{})
		if err != nil || n != 3000 || strings.Count(buf.String(), "\n") != 3000 {
			t.Fatalf("exported %d messages (%v), want 3000", n, err)
		}
		if st, err := s.Stats(); err != nil || st.Stored != 3000 {
			t.Fatalf("stats %+v (%v)", st, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("two read-only opens share the file", func(t *testing.T) {
		a, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(path, Options{ReadOnly: true, OpenTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("a second reader was refused: %v", err)
		}
		b.Close()
	})
	t.Run("writes to a read-only store are refused", func(t *testing.T) {
		s, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		env := testEnvelope(1, "a.b")
		for name, write := range map[string]func() error{
			"Append":   func() error { return s.Append(env) },
			"PutState": func() error { return s.PutState("saga", "1", 1) },
			"GC":       func() error { _, err := s.GC(time.Now()); return err },
			"ImportInto": func() error {
				line, _ := json.Marshal(env)
				_, err := s.ImportInto(bytes.NewReader(line), NDJSON)
				return err
			},
		} {
			if err := write(); !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s on a read-only store: %v, want ErrReadOnly", name, err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Errorf("Flush with nothing to write: %v", err)
		}
	})
	t.Run("a handle on another namespace of a read-only store reads it", func(t *testing.T) {
		s, err := Open(path, Options{ReadOnly: true, Namespace: "elsewhere"})
		if !errors.Is(err, ErrNoNamespace) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"elsewhere"`) {
			t.Fatalf("opening a namespace the file lacks: %v, want ErrNoNamespace naming it and the file", err)
		}
		if s != nil {
			s.Close()
		}
		s, err = Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.In("elsewhere"); !errors.Is(err, ErrNoNamespace) {
			t.Fatalf("In a namespace the file lacks: %v, want ErrNoNamespace", err)
		}
		v, err := s.In(DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if got, err := v.Query(Query{Limit: 5}); err != nil || len(got) != 5 {
			t.Fatalf("read %d (%v)", len(got), err)
		}
	})
	if after := takeSnapshot(t, path); !before.same(after) {
		t.Fatalf("read-only opens changed the file or its directory:\nbefore %d bytes %v %v %v\nafter  %d bytes %v %v %v",
			len(before.data), before.mode, before.modTime, before.names, len(after.data), after.mode, after.modTime, after.names)
	}
}

func TestAReadOnlyOpenOfAFileItCannotUseChangesNothing(t *testing.T) {
	_, good, used := goodFile(t, 1000)
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		path    string
		content []byte // nil: no file
		want    error
	}{
		{"a file that is not a bbolt file is an error and stays in place", "garbage.db", bytes.Repeat([]byte("not bbolt "), 2000), ErrCorrupt},
		{"a file cut short is an error and stays in place", "cut.db", good[:used/2], ErrCorrupt},
		{"a file cut to one page is an error and stays in place", "page.db", good[:4096], ErrCorrupt},
		{"an empty file holds no namespace and stays empty", "empty.db", []byte{}, ErrNoNamespace},
		{"a missing file is an error and is not created", "missing.db", nil, ErrNoFile},
		{"a file in a missing directory is an error and creates nothing", filepath.Join("no-such-dir", "h.db"), nil, ErrNoFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			if c.content != nil {
				if err := os.WriteFile(path, c.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := takeSnapshot(t, path)
			s, err := Open(path, Options{ReadOnly: true})
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q: want %v naming %s", err, c.want, path)
			}
			if c.want == ErrNoFile && !strings.Contains(err.Error(), "no history file at "+path) {
				t.Fatalf("error %q does not say there is no history file at %s", err, path)
			}
			var damage *CorruptError
			if errors.As(err, &damage) && (damage.Path != path || damage.Aside != "") {
				t.Fatalf("CorruptError %+v: want Path %s and no Aside", damage, path)
			}
			if after := takeSnapshot(t, path); !before.same(after) {
				t.Fatalf("the failed read-only open changed something: %v -> %v", before.names, after.names)
			}
			if _, err := os.Stat(filepath.Join(dir, "no-such-dir")); err == nil {
				t.Fatal("a directory was created")
			}
		})
	}
	t.Run("a directory is an error", func(t *testing.T) {
		_, err := Open(dir, Options{ReadOnly: true})
		if err == nil || strings.Count(err.Error(), dir) != 1 || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v: want it to name %s once and say it is a directory", err, dir)
		}
	})
}

// A read-only store that is attached records nothing, and the bus goes on.
func TestAReadOnlyStoreRecordsNothing(t *testing.T) {
	path, _, _ := goodFile(t, 10)
	s, err := Open(path, Options{ReadOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := bus.New(bus.Options{Seed: 1})
	if err := s.Attach(b); err != nil && !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Attach: %v", err)
	}
	a := b.MustRegister(bus.AppConfig{Name: "a"})
	if _, err := a.Publish("x.y", 1); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	s.Detach()
	if got, _ := s.Query(Query{}); len(got) != 10 {
		t.Fatalf("the read-only store holds %d messages, want the 10 it had", len(got))
	}
}
