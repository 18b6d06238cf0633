package history

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCloudEventsSequencesSortAsStrings(t *testing.T) {
	envs, _ := ndjsonLines(t, 12)
	s := openTemp(t, Options{})
	if err := s.Append(envs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Export(&buf, CloudEvents, Query{}); err != nil {
		t.Fatal(err)
	}
	var batch []struct{ Sequence string }
	if err := json.Unmarshal(buf.Bytes(), &batch); err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, e := range batch {
		seqs = append(seqs, e.Sequence)
	}
	t.Run("every sequence has the 20 digits of a uint64", func(t *testing.T) {
		for _, seq := range seqs {
			if len(seq) != 20 || strings.Trim(seq, "0123456789") != "" {
				t.Fatalf("sequence %q is not 20 digits", seq)
			}
		}
	})
	t.Run("sequences sorted as strings are in publish order", func(t *testing.T) {
		sorted := slices.Clone(seqs)
		slices.Sort(sorted)
		if !slices.Equal(sorted, seqs) || len(seqs) != 12 {
			t.Fatalf("sorted as strings: %v\nin publish order:   %v", sorted, seqs)
		}
	})
	t.Run("the padded sequences import as the numbers they were", func(t *testing.T) {
		res, err := Import(bytes.NewReader(buf.Bytes()), CloudEvents)
		if err != nil || len(res.Errors) != 0 || len(res.Envelopes) != 12 {
			t.Fatalf("import: %d envelopes, %v, %v", len(res.Envelopes), res.Errors, err)
		}
		for i, env := range res.Envelopes {
			if env.Seq != envs[i].Seq {
				t.Fatalf("envelope %d has seq %d, want %d", i, env.Seq, envs[i].Seq)
			}
		}
	})
	t.Run("unpadded sequences, as other tools write them, import too", func(t *testing.T) {
		ce := toCloudEvent(envs[9])
		ce.Sequence = strconv.FormatUint(envs[9].Seq, 10)
		data, _ := json.Marshal(ce)
		res, err := Import(bytes.NewReader([]byte("["+string(data)+"]")), CloudEvents)
		if err != nil || len(res.Envelopes) != 1 || res.Envelopes[0].Seq != envs[9].Seq {
			t.Fatalf("import of sequence %q: %+v, %v", ce.Sequence, res, err)
		}
	})
	t.Run("the CSV export keeps the plain number", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := s.Export(&out, CSV, Query{}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil || len(rows) != 13 || rows[10][0] != fmt.Sprint(envs[9].Seq) {
			t.Fatalf("csv rows %v (%v)", rows, err)
		}
	})
}

func TestExportsGetTheModeOfAnyFileAUserSaves(t *testing.T) {
	dir := t.TempDir()
	// The mode a new file gets here: 0644 less the umask.
	ref := filepath.Join(dir, "reference")
	f, err := os.OpenFile(ref, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, _ := os.Stat(ref)
	want := info.Mode().Perm()
	s, _ := recordedOrders(t, 1, 2)
	s.Flush()
	for _, c := range []struct {
		name  string
		write func(path string) error
	}{
		{"a file written by WriteFileAtomic", func(path string) error {
			_, err := WriteFileAtomic(path, func(w io.Writer) (int, error) { return w.Write([]byte("x")) })
			return err
		}},
		{"an export of the store", func(path string) error { _, err := s.ExportFile(path, NDJSON, Query{}); return err }},
	} {
		t.Run(c.name+" is readable as any saved file is", func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := c.write(path); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(path)
			if err != nil || info.Mode().Perm() != want {
				t.Fatalf("mode %v (%v), want %v", info.Mode().Perm(), err, want)
			}
		})
	}
}
