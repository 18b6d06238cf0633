package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

// goodFile writes n messages through the store itself into a new file and returns its path,
// its bytes and the size bbolt says it uses (the high-water mark of its pages).
func goodFile(t *testing.T, n int) (path string, data []byte, used int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "good.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := bus.New(bus.Options{Seed: 11, RetainMax: -1})
	a := b.MustRegister(bus.AppConfig{Name: "cart"})
	for i := range n {
		env, err := a.Publish(fmt.Sprintf("cart.item-%d", i%50), map[string]any{"i": i, "pad": strings.Repeat("x", 100)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Append(env); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return path, data, used
}

// checkFresh checks that s is a working, empty store.
func checkFresh(t *testing.T, s *Store) {
	t.Helper()
	if got, err := s.Query(Query{}); err != nil || len(got) != 0 {
		t.Fatalf("the fresh store holds %d messages (%v), want none", len(got), err)
	}
	if err := s.Append(testEnvelope(1, "a.b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Query(Query{}); err != nil || len(got) != 1 {
		t.Fatalf("the fresh store kept %d messages (%v), want 1", len(got), err)
	}
}

func TestATruncatedFileIsMovedAsideAndAFreshOneStarted(t *testing.T) {
	_, good, used := goodFile(t, 3000)
	const page = 4096
	if used < 8*page || int64(len(good)) < used {
		t.Fatalf("the good file uses %d of its %d bytes: too small to cut", used, len(good))
	}
	for _, c := range []struct {
		name string
		size int64
	}{
		{"a file cut to one page is moved aside", page},
		{"a file cut to two pages is moved aside", 2 * page},
		{"a file cut to 100000 bytes is moved aside", 100000},
		{"a file cut in half is moved aside", used / 2},
		{"a file missing its last used page is moved aside", used - page},
		{"a file missing its last used byte is moved aside", used - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			cut := good[:c.size]
			if err := os.WriteFile(path, cut, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			if s.Recovered == "" || s.Recovered == path {
				t.Fatalf("Recovered = %q: the cut file was not moved aside", s.Recovered)
			}
			kept, err := os.ReadFile(s.Recovered)
			if err != nil || !bytes.Equal(kept, cut) {
				t.Fatalf("the cut file was not kept byte for byte at %s (%d bytes, %v)", s.Recovered, len(kept), err)
			}
			checkFresh(t, s)
		})
	}
	t.Run("a file cut after its last used page opens in place with every message", func(t *testing.T) {
		if int64(len(good)) == used {
			t.Skip("the file has no room after its last used page")
		}
		path := filepath.Join(t.TempDir(), "h.db")
		if err := os.WriteFile(path, good[:used], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Recovered != "" {
			t.Fatalf("a usable file was moved aside to %s", s.Recovered)
		}
		if got, err := s.Query(Query{}); err != nil || len(got) != 3000 {
			t.Fatalf("read %d messages (%v), want 3000", len(got), err)
		}
	})
}

// activeMeta reads, from a bbolt file's two meta pages, the root and freelist page ids
// of the one with the higher transaction id. The offsets are bbolt's meta layout after
// its 16-byte page header: root at 32, freelist at 48, txid at 64.
func activeMeta(data []byte, page int) (root, freelist int64) {
	var txid uint64
	for i := range 2 {
		m := data[i*page:]
		if id := binary.LittleEndian.Uint64(m[64:]); id >= txid {
			txid = id
			root = int64(binary.LittleEndian.Uint64(m[32:]))
			freelist = int64(binary.LittleEndian.Uint64(m[48:]))
		}
	}
	return root, freelist
}

func TestAFileWithADamagedPageIsMovedAside(t *testing.T) {
	_, good, _ := goodFile(t, 3000)
	const page = 4096
	root, freelist := activeMeta(good, page)
	for _, c := range []struct {
		name  string
		pages []int64
	}{
		{"a file whose two meta pages are zeroed is moved aside", []int64{0, 1}},
		{"a file whose root page is zeroed is moved aside", []int64{root}},
		{"a file whose freelist page is zeroed is moved aside", []int64{freelist}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Clone(good)
			for _, p := range c.pages {
				clear(bad[p*page : (p+1)*page])
			}
			path := filepath.Join(t.TempDir(), "h.db")
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			if s.Recovered == "" {
				t.Fatal("the damaged file was not moved aside")
			}
			kept, err := os.ReadFile(s.Recovered)
			if err != nil || !bytes.Equal(kept, bad) {
				t.Fatalf("the damaged file was not kept byte for byte at %s: %v", s.Recovered, err)
			}
			checkFresh(t, s)
		})
	}
}

func TestDamagedFilesMovedAsideInTheSameSecondAllSurvive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	kept := map[string][]byte{} // aside path -> the bytes moved there
	stamps := map[string]int{}  // the time part of the aside names, and how often it came
	collided := false
	for i := 0; i < 100 && !collided; i++ {
		garbage := bytes.Repeat(fmt.Appendf(nil, "damaged file number %d ", i), 500)
		if err := os.WriteFile(path, garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		aside := s.Recovered
		s.Close()
		if _, dup := kept[aside]; dup || aside == "" {
			t.Fatalf("damaged file %d was moved to %q, a name already used", i, aside)
		}
		kept[aside] = garbage
		stamp, _, _ := strings.Cut(strings.TrimPrefix(aside, path+".corrupt-"), "-")
		stamps[stamp]++
		collided = stamps[stamp] > 1
	}
	if !collided {
		t.Fatal("no two files were moved aside within the same second")
	}
	for aside, want := range kept {
		if got, err := os.ReadFile(aside); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s does not hold the file moved there (%v)", aside, err)
		}
	}
}

func TestMoveAsideNeverReplacesAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	taken := path + ".corrupt-20260102T030405Z"
	for _, c := range []struct {
		name     string
		existing []string
		want     string
	}{
		{"a free name is used as it is", nil, taken},
		{"a taken name gets a counter", []string{taken}, taken + "-2"},
		{"the counter goes on past taken names", []string{taken, taken + "-2", taken + "-3"}, taken + "-4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.Remove(filepath.Join(dir, e.Name()))
			}
			for _, name := range c.existing {
				os.WriteFile(name, []byte("earlier "+name), 0o600)
			}
			os.WriteFile(path, []byte("damaged"), 0o600)
			got, err := moveAside(path, at)
			if err != nil || got != c.want {
				t.Fatalf("moved to %q (%v), want %q", got, err, c.want)
			}
			if data, _ := os.ReadFile(got); string(data) != "damaged" {
				t.Fatalf("%s holds %q", got, data)
			}
			for _, name := range c.existing {
				if data, _ := os.ReadFile(name); string(data) != "earlier "+name {
					t.Fatalf("%s was replaced: it holds %q", name, data)
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s is still there: %v", path, err)
			}
		})
	}
}
