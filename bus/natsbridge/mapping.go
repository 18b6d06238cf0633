package natsbridge

import (
	"fmt"
	"strings"

	"mfelab/bus"
)

// SubjectFor maps a bus topic to the NATS subject it travels on. The two alphabets agree
// where it matters: a topic's segments ([A-Za-z0-9_-]) are valid subject tokens and `.`
// separates both, so the subject is the topic itself. A topic that is not valid (or is a
// pattern) is an error wrapping bus.ErrInvalidTopic.
func SubjectFor(topic string) (string, error) {
	if err := bus.ValidateTopic(topic); err != nil {
		return "", err
	}
	return topic, nil
}

// TopicFor maps a NATS subject back to a bus topic. Only subjects a topic could have been
// mapped to have one: no wildcards, no characters outside the topic alphabet, within the
// bus's length and depth limits. Anything else is an error wrapping bus.ErrInvalidTopic.
func TopicFor(subject string) (string, error) {
	if err := bus.ValidateTopic(subject); err != nil {
		return "", fmt.Errorf("NATS subject %q has no bus topic: %w", subject, err)
	}
	return subject, nil
}

// SubjectsFor maps a bus subscription pattern to the NATS subjects that, together, match
// exactly the topics the pattern matches, and no topic twice:
//
//   - `+` (one segment) is NATS `*`;
//   - `#` alone (every topic) is NATS `>`: topics are never empty;
//   - `x.#` (x and everything under it) is two subjects, `x` and `x.>`, because NATS `>`
//     stands for one or more tokens where the bus's `#` stands for zero or more.
//
// An invalid pattern is an error wrapping bus.ErrInvalidTopic.
func SubjectsFor(pattern string) ([]string, error) {
	if err := bus.ValidatePattern(pattern); err != nil {
		return nil, err
	}
	if pattern == "#" {
		return []string{">"}, nil
	}
	head, trailing := strings.CutSuffix(pattern, ".#")
	segs := strings.Split(head, ".")
	for i, s := range segs {
		if s == "+" {
			segs[i] = "*"
		}
	}
	subj := strings.Join(segs, ".")
	if !trailing {
		return []string{subj}, nil
	}
	return []string{subj, subj + ".>"}, nil
}

// subjectsForAll maps every pattern, in order, and drops repeated subjects.
func subjectsForAll(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range patterns {
		subs, err := SubjectsFor(p)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}
