package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"mfelab/scenarios"
	"mfelab/scenarios/asyncapi"
)

// cmdImportAsyncAPI writes a scenario file from AsyncAPI 3.0 documents, one per
// application. Exit 0 with the file written, 2 with file:line:col: what is wrong for each
// mistake in the documents.
func cmdImportAsyncAPI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mfelab import-asyncapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the scenario file here (default: standard output)")
	id := fs.String("id", "", "the scenario's id (default: the -o file's name, else asyncapi)")
	title := fs.String("title", "", "the scenario's title (default: made from the applications' titles)")
	var files []string
	for { // documents and flags in any order
		if err := fs.Parse(args); err != nil {
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "mfelab import-asyncapi: give one AsyncAPI 3.0 document per application, such as cart.yaml payment.yaml")
		return exitUsage
	}
	var srcs []asyncapi.Source
	for _, f := range files {
		data, err := readSpec(f)
		if err != nil {
			fmt.Fprintf(stderr, "mfelab import-asyncapi: %v\n", err)
			return exitUsage
		}
		srcs = append(srcs, asyncapi.Source{Name: f, Data: data})
	}
	opts := asyncapi.Options{ID: *id, Title: *title}
	if opts.ID == "" && *out != "" {
		opts.ID = idFromPath(*out)
	}
	data, err := asyncapi.Import(srcs, opts)
	if err != nil {
		var es asyncapi.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintf(stderr, "mfelab import-asyncapi: %v\n", err)
		}
		return exitUsage
	}
	// The file must load and set up as written; anything else is the importer's fault,
	// and nothing is written.
	name := *out
	if name == "" {
		name = "imported.yaml"
	}
	s, err := scenarios.Parse(name, data)
	if err == nil {
		_, err = scenarios.Start(s, 1, nil)
	}
	if err != nil {
		printLoadError(stderr, "mfelab import-asyncapi", err)
		fmt.Fprintln(stderr, "mfelab import-asyncapi: the scenario written from these documents does not load; nothing was written")
		return exitFail
	}
	if *out == "" {
		_, err = stdout.Write(data)
	} else {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mfelab import-asyncapi: %v\n", err)
		return exitFail
	}
	if *out != "" {
		fmt.Fprintf(stdout, "%s: %d apps from %d documents; mfelab run %s runs it\n", *out, len(s.Apps), len(srcs), *out)
	}
	return exitOK
}

// readSpec reads one document, refusing one too big to be a document before reading it.
func readSpec(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not an AsyncAPI document", path)
	}
	if fi.Size() > asyncapi.MaxDocSize {
		return nil, fmt.Errorf("%s: %d bytes; an AsyncAPI document may have at most %d", path, fi.Size(), asyncapi.MaxDocSize)
	}
	return os.ReadFile(path)
}

// idFromPath is a scenario id from the output file's name (shop.yaml is shop), or ""
// when the name makes none.
func idFromPath(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	id := strings.Trim(b.String(), "-")
	if id == "" || !(id[0] >= 'a' && id[0] <= 'z' || id[0] >= 'A' && id[0] <= 'Z') {
		return ""
	}
	return id
}
