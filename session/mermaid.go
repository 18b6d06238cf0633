package session

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMermaid writes the diagram as a Mermaid sequenceDiagram: one line per row, in
// order, with the row's label, so the file draws what the window draws. Participants get
// aliases, since app names may hold dots; a mark on one lifeline is a note over it.
func (d *Diagram) WriteMermaid(w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	apps := d.Apps()
	bw.WriteString("sequenceDiagram\n")
	for i, app := range apps {
		fmt.Fprintf(bw, "    participant p%d as %s\n", i+1, mermaidText(app))
	}
	n := d.Len()
	for from := 0; from < n; from += 1024 {
		for _, a := range d.Arrows(from, from+1024) {
			bw.WriteString(MermaidLine(a))
			bw.WriteByte('\n')
		}
	}
	return n, bw.Flush()
}

// MermaidLine is the diagram line of one arrow (without its newline).
func MermaidLine(a Arrow) string {
	from, to := fmt.Sprintf("p%d", a.From+1), fmt.Sprintf("p%d", a.To+1)
	label := mermaidText(a.Label())
	if a.From == a.To && a.Kind != ArrowTimeout {
		return fmt.Sprintf("    Note over %s: %s", from, label)
	}
	return fmt.Sprintf("    %s%s%s: %s", from, mermaidArrows[a.Kind], to, label)
}

// mermaidArrows is the Mermaid arrow for each kind that goes from one lifeline to
// another: solid for messages, dotted for answers and what did not get through, a cross
// where the message ended.
var mermaidArrows = [ArrowKinds]string{
	ArrowEvent:        "->>",
	ArrowRequest:      "->>",
	ArrowReply:        "-->>",
	ArrowErrorReply:   "--x",
	ArrowCompensation: "->>",
	ArrowFailed:       "-x",
	ArrowRetry:        "-x",
	ArrowDeadLetter:   "-x",
	ArrowSkipped:      "--)",
	ArrowRejected:     "-x",
	ArrowRateLimited:  "-x",
	ArrowTimeout:      "--x",
	ArrowPublish:      "->>",
}

// mermaidText keeps labels from breaking the diagram's syntax.
func mermaidText(s string) string {
	return strings.NewReplacer(";", ",", "#", "no.", "\n", " ", "\r", " ").Replace(s)
}
