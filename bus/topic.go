package bus

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Topic limits. A topic is at most MaxTopicLen bytes and MaxTopicSegments segments.
const (
	MaxTopicLen      = 255
	MaxTopicSegments = 32
)

// ErrInvalidTopic is wrapped by every topic and pattern validation error, so callers can test
// with errors.Is and still show the precise reason from the *TopicError.
var ErrInvalidTopic = errors.New("invalid topic")

// TopicError says which topic (or pattern) was rejected and why.
type TopicError struct {
	Topic  string
	Reason string
}

func (e *TopicError) Error() string {
	return fmt.Sprintf("invalid topic %q: %s", e.Topic, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidTopic) true.
func (e *TopicError) Unwrap() error { return ErrInvalidTopic }

// segByte reports which bytes may appear in a topic segment: [A-Za-z0-9_-].
var segByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['-'] = true, true
	return t
}()

// ValidateTopic checks a concrete topic, one that can be published to: no wildcards.
func ValidateTopic(topic string) error {
	if plainTopic(topic) {
		return nil
	}
	return validate(topic, false)
}

// plainTopic is the publish path's quick yes: one pass that accepts exactly the valid
// topics, leaving validate to explain what is wrong with the rest.
func plainTopic(s string) bool {
	if len(s) == 0 || len(s) > MaxTopicLen {
		return false
	}
	dots, afterDot := 0, true // afterDot: the segment so far is empty
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if afterDot {
				return false
			}
			dots++
			afterDot = true
		case segByte[c]:
			afterDot = false
		default:
			return false
		}
	}
	return !afterDot && dots < MaxTopicSegments
}

// ValidatePattern checks a subscription pattern: like a topic, but a segment may be `+`
// (exactly one segment) and the last segment may be `#` (zero or more segments).
func ValidatePattern(pattern string) error {
	return validate(pattern, true)
}

func validate(s string, wildcards bool) error {
	if s == "" {
		return &TopicError{s, "empty"}
	}
	if len(s) > MaxTopicLen {
		return &TopicError{s, fmt.Sprintf("%d bytes, longer than the %d allowed", len(s), MaxTopicLen)}
	}
	segs := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		segs++
		if segs > MaxTopicSegments {
			return &TopicError{s, fmt.Sprintf("more than %d segments", MaxTopicSegments)}
		}
		seg := s[start:i]
		if seg == "" {
			return &TopicError{s, fmt.Sprintf("empty segment at byte %d", start)}
		}
		if seg == "+" || seg == "#" {
			if !wildcards {
				return &TopicError{s, fmt.Sprintf("wildcard %q is only allowed in subscription patterns, not in a published topic", seg)}
			}
			if seg == "#" && i != len(s) {
				return &TopicError{s, "`#` must be the last segment"}
			}
		} else {
			for j := start; j < i; j++ {
				if !segByte[s[j]] {
					return &TopicError{s, fmt.Sprintf("%s at byte %d is not allowed (use A-Z a-z 0-9 _ -)", describeAt(s, j), j)}
				}
			}
		}
		start = i + 1
	}
	return nil
}

// IsPattern reports whether s contains a wildcard segment.
func IsPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] == '+' || s[i] == '#') && (i == 0 || s[i-1] == '.') && (i+1 == len(s) || s[i+1] == '.') {
			return true
		}
	}
	return false
}

// MatchTopic reports whether a valid topic matches a valid pattern. It is the single-pattern
// form of what the subscription trie does for many patterns at once; use it where there is
// one pattern to test (history queries, retention scans).
func MatchTopic(pattern, topic string) bool {
	p, t := 0, 0
	for {
		if p > len(pattern) {
			return t > len(topic)
		}
		pseg, pnext := nextSeg(pattern, p)
		if pseg == "#" {
			return true
		}
		if t > len(topic) {
			return false
		}
		tseg, tnext := nextSeg(topic, t)
		if pseg != "+" && pseg != tseg {
			return false
		}
		p, t = pnext, tnext
	}
}

// nextSeg returns the segment of s that starts at byte i (i <= len(s)) and the index just
// past the dot that ends it; after the last segment that index is len(s)+1, which callers
// read as "exhausted".
func nextSeg(s string, i int) (seg string, next int) {
	j := i
	for j < len(s) && s[j] != '.' {
		j++
	}
	return s[i:j], j + 1
}

// PatternCovers reports whether every topic matched by the pattern inner is also matched by
// the pattern outer. ACLs use it: an app allowed to subscribe to `cart.#` may subscribe to
// `cart.+.added`, but not to `#`.
func PatternCovers(outer, inner string) bool {
	o, i := 0, 0
	for {
		if o > len(outer) {
			return i > len(inner)
		}
		oseg, onext := nextSeg(outer, o)
		if oseg == "#" {
			return true
		}
		if i > len(inner) {
			return false
		}
		iseg, inext := nextSeg(inner, i)
		if iseg == "#" {
			// inner matches any remainder; outer has no `#` here, so it cannot cover that,
			// except for the whole pattern `#`: topics are never empty, so `+.#` covers it.
			return i == 0 && outer == "+.#"
		}
		if oseg != "+" && oseg != iseg {
			return false
		}
		o, i = onext, inext
	}
}

// describeAt names the character at byte i of s that a topic may not hold: the whole
// character when s holds valid UTF-8 there, else the byte by its value, never a
// character that the byte is only part of.
func describeAt(s string, i int) string {
	if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
		return fmt.Sprintf("character %q", r)
	}
	return fmt.Sprintf("byte 0x%02X", s[i])
}
