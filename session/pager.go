package session

import (
	"slices"
	"sync"

	"mfelab/bus"
)

// Pages of events read back from a recording, and how many are kept at once.
const (
	pageLen  = 512
	maxPages = 16
)

// pager reads events that a Trace has let go of back from the run's recording, a page at
// a time, and keeps the last few pages it read: a window scrolling through old rows reads
// each page once. Without a recording the events are Gone.
type pager struct {
	mu    sync.Mutex
	fetch func(from, to int) ([]bus.TraceEvent, error) // nil: nothing to read from
	pages map[int][]bus.TraceEvent                     // page number -> its events
	order []int                                        // page numbers, least recently used first
}

func newPager() *pager { return &pager{pages: map[int][]bus.TraceEvent{}} }

// setSource makes fetch where let-go events are read from (nil: nowhere).
func (p *pager) setSource(fetch func(from, to int) ([]bus.TraceEvent, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetch = fetch
	clear(p.pages)
	p.order = p.order[:0]
}

// event reads event i back; Gone when it cannot.
func (p *pager) event(i int) bus.TraceEvent {
	gone := bus.TraceEvent{Kind: Gone}
	if i < 0 {
		return gone
	}
	n := i / pageLen
	p.mu.Lock()
	defer p.mu.Unlock()
	page, ok := p.pages[n]
	if ok {
		p.order = append(slices.DeleteFunc(p.order, func(x int) bool { return x == n }), n)
	} else {
		if p.fetch == nil {
			return gone
		}
		evs, err := p.fetch(n*pageLen, (n+1)*pageLen)
		if err != nil {
			return gone
		}
		page = evs
		if len(evs) == pageLen { // a page the recording has not finished is read again
			if len(p.order) == maxPages {
				delete(p.pages, p.order[0])
				p.order = p.order[1:]
			}
			p.pages[n] = evs
			p.order = append(p.order, n)
		}
	}
	if j := i % pageLen; j < len(page) {
		return page[j]
	}
	return gone
}
