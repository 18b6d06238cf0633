package history

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ReadFile imports an exported log from path, as ReadFrom does.
func ReadFile(path string) (ImportResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return ImportResult{}, fmt.Errorf("%w; choose an exported log", &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR})
	}
	return ReadFrom(path, f)
}

// ReadBytes is ReadFrom for data already read; name is used in errors.
func ReadBytes(name string, data []byte) (ImportResult, error) {
	return ReadFrom(name, bytes.NewReader(data))
}

// ReadFrom imports an exported log from r, telling NDJSON from a CloudEvents batch by its
// first byte that is not white space: a batch starts with '['. It reads r as a stream, holding one line or element at a time
// besides the good envelopes, so the file dialog's reader or a large file need not fit in
// memory. It fails when r cannot be read or not one line of it is a message; otherwise the
// bad lines are in the result's Errors. name is used in errors.
func ReadFrom(name string, r io.Reader) (ImportResult, error) {
	return readFrom(name, r, maxLine)
}

// readFrom is ReadFrom with limit in place of maxLine, so that tests and fuzzing reach
// over-long lines with small inputs.
func readFrom(name string, r io.Reader, limit int) (ImportResult, error) {
	in := newInput(r)
	in.limit = limit
	f := NDJSON
	if err := in.skipSpace(); err != nil && err != io.EOF {
		return ImportResult{}, fmt.Errorf("%s: import: read line %d: %w", name, in.line, err)
	}
	if c, err := in.br.Peek(1); err == nil && c[0] == '[' {
		f = CloudEvents
	}
	var res ImportResult
	var err error
	if f == CloudEvents {
		res, err = in.cloudEvents()
	} else {
		res, err = in.ndjson()
	}
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
