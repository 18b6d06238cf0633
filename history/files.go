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
	f, err := openLog(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer f.Close()
	return ReadFrom(path, f)
}

// openLog opens the exported log at path, or says that it is a directory.
func openLog(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%w; choose an exported log", &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR})
	}
	return f, nil
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
	var res ImportResult
	err := in.read(name, (*resultSink)(&res))
	return res, err
}
