package history

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"mfelab/bus"
)

// ExportTrace writes the envelopes published in a run's trace, each with the deliveries
// the trace shows for it, to path in format f, atomically. It serves runs that were never
// stored: the command line's run -export and the desktop app's export dialog.
func ExportTrace(path string, f Format, events []bus.TraceEvent) (int, error) {
	deliveries := map[uint64][]Delivery{}
	var envs []*bus.Envelope
	for _, e := range events {
		if e.Kind == bus.TracePublished {
			envs = append(envs, e.Env)
		} else if d, ok := DeliveryOf(e); ok {
			deliveries[d.Seq] = append(deliveries[d.Seq], d)
		}
	}
	return WriteFileAtomic(path, func(w io.Writer) (int, error) {
		ex, err := NewExporter(w, f)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, env := range envs {
			if err := ex.Write(env, deliveries[env.Seq]); err != nil {
				return n, err
			}
			n++
		}
		return n, ex.Close()
	})
}

// ReadFile imports an exported log from path, telling NDJSON from a CloudEvents batch by
// its first character. It fails when the file cannot be read or not one line of it is a
// message; otherwise the bad lines are in the result's Errors.
func ReadFile(path string) (ImportResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ImportResult{}, err
	}
	return ReadBytes(path, data)
}

// ReadBytes is ReadFile for data already read; name is used in errors.
func ReadBytes(name string, data []byte) (ImportResult, error) {
	f := NDJSON
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		f = CloudEvents
	}
	res, err := Import(bytes.NewReader(data), f)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if len(res.Envelopes) == 0 {
		if len(res.Errors) > 0 {
			return res, fmt.Errorf("%s: no message could be read (first problem: %v)", name, res.Errors[0])
		}
		return res, fmt.Errorf("%s: the file holds no messages", name)
	}
	return res, nil
}
