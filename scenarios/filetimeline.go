package scenarios

import (
	"fmt"
	"strings"
	"time"
)

// A scenario file's timeline (its acts and repeated events) and its expected outcomes.
func (fr *fileRun) setupTimeline() error {
	total := 0
	for i := range fr.doc.Timeline {
		e := &fr.doc.Timeline[i]
		sc := scope{}
		at := time.Duration(0)
		if e.At.set {
			d, err := fr.duration(e.At, sc, true)
			if err != nil {
				return err
			}
			at = d
		}
		n, every := 1, time.Duration(0)
		if e.Every.set {
			d, err := fr.duration(e.Every, sc, true)
			if err != nil {
				return err
			}
			c, err := fr.number(e.Count, sc, true)
			if err != nil {
				return err
			}
			if d <= 0 || c < 0 || c > maxRepeat {
				return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col,
					Msg: fmt.Sprintf("every %v, count %s: want a positive interval and a count from 0 to %d", d, formatNumber(c), maxRepeat)}
			}
			n, every = int(c), d
		}
		if total += n; total > maxRepeat {
			return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col,
				Msg: fmt.Sprintf("the timeline fires more than %d times in all", maxRepeat)}
		}
		for k := range n {
			isc := sc.with("i", float64(k))
			if e.When.set {
				v, err := fr.eval(e.When, isc, true)
				if err != nil {
					return err
				}
				if !truthy(v) {
					continue
				}
			}
			t := at + time.Duration(k)*every
			if t < 0 {
				return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col, Msg: fmt.Sprintf("at %v is before the start", t)}
			}
			do := e.Do
			fire := func() { fr.do(isc, do) }
			if e.Act.set {
				name, err := fr.text(e.Act, isc, true)
				if err != nil {
					return err
				}
				fr.r.At(t, name, fire)
			} else {
				fr.r.Bus.After(t, fire)
			}
		}
	}
	return nil
}

func (fr *fileRun) setupChecks() error {
	for i := range fr.doc.Checks {
		ch := &fr.doc.Checks[i]
		if ch.When.set {
			v, err := fr.eval(ch.When, scope{}, true)
			if err != nil {
				return err
			}
			if !truthy(v) {
				continue
			}
		}
		name, err := fr.text(ch.Name, scope{}, true)
		if err != nil {
			return err
		}
		fr.r.Expect(name, func() (bool, string) { return fr.check(ch) })
	}
	fr.r.Expect("the file runs within its publish limits and every expression evaluates", func() (bool, string) {
		if fr.limitHit != "" {
			return false, fr.limitHit
		}
		if len(fr.errs) > 0 {
			return false, strings.Join(fr.errs, "; ")
		}
		return true, fmt.Sprintf("%d published", fr.r.Published())
	})
	return nil
}

func (fr *fileRun) check(ch *fileCheck) (bool, string) {
	sc := scope{}
	if ch.That.set {
		v, err := fr.eval(ch.That, sc, false)
		if err != nil {
			return false, err.Error()
		}
		detail := ""
		if ch.Detail.set {
			if detail, err = fr.text(ch.Detail, sc, false); err != nil {
				detail = err.Error()
			}
		}
		return truthy(v), detail
	}
	got, err := fr.eval(ch.Expect, sc, false)
	if err != nil {
		return false, err.Error()
	}
	want, err := fr.eval(ch.Equals, sc, false)
	if err != nil {
		return false, err.Error()
	}
	g, _ := render(got)
	w, _ := render(want)
	if ch.Detail.set {
		d, err := fr.text(ch.Detail, sc, false)
		if err != nil {
			d = err.Error()
		}
		return equal(got, want), d
	}
	if equal(got, want) {
		return true, g
	}
	return false, fmt.Sprintf("got %s, want %s", g, w)
}
