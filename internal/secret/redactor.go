package secret

import (
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// redactedText replaces a registered value in RedactString output.
const redactedText = "xxxxx"

// MinRedactLen is the shortest value Register accepts: shorter strings are
// too common to scrub from output without mangling it. (Secret and
// Credentials still never print them.)
const MinRedactLen = 4

// redactions is the set of values scrubbed by RedactString and
// RedactingWriter: value → replacement.
var redactions = struct {
	mu     sync.Mutex
	repl   map[string]string
	active atomic.Pointer[redactionSet]
}{repl: map[string]string{}}

// redactionSet is an immutable snapshot of the registered values.
type redactionSet struct {
	replacer *strings.Replacer
	values   []string // longest first
}

// Register adds values to be replaced by "xxxxx" in everything RedactString
// and RedactingWriter pass on. Values shorter than MinRedactLen are ignored.
// Resolve registers passwords and connection URLs by itself.
func Register(values ...string) {
	pairs := make([][2]string, 0, len(values))
	for _, v := range values {
		pairs = append(pairs, [2]string{v, redactedText})
	}
	register(pairs...)
}

// RedactString replaces every registered value in s.
func RedactString(s string) string {
	set := redactions.active.Load()
	if set == nil {
		return s
	}
	return set.replacer.Replace(s)
}

func register(pairs ...[2]string) {
	redactions.mu.Lock()
	defer redactions.mu.Unlock()
	changed := false
	for _, p := range pairs {
		value, replacement := p[0], p[1]
		if len(value) < MinRedactLen || value == replacement {
			continue
		}
		if old, ok := redactions.repl[value]; ok && old == replacement {
			continue
		}
		redactions.repl[value] = replacement
		changed = true
	}
	if !changed {
		return
	}
	values := make([]string, 0, len(redactions.repl))
	for v := range redactions.repl {
		values = append(values, v)
	}
	// Longest first: strings.Replacer prefers earlier arguments at a given
	// position, so a whole URL wins over the password inside it.
	sort.Slice(values, func(i, j int) bool {
		if len(values[i]) != len(values[j]) {
			return len(values[i]) > len(values[j])
		}
		return values[i] < values[j]
	})
	args := make([]string, 0, 2*len(values))
	for _, v := range values {
		args = append(args, v, redactions.repl[v])
	}
	redactions.active.Store(&redactionSet{replacer: strings.NewReplacer(args...), values: values})
}

// registerCredentials registers the password (raw and as URLs escape it),
// and the URL and DSN forms (replaced by the redacted URL).
func registerCredentials(c *Credentials) {
	var pairs [][2]string
	if pw := c.Password.Reveal(); pw != "" {
		for _, v := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw),
			strings.TrimPrefix(url.UserPassword("", pw).String(), ":")} {
			pairs = append(pairs, [2]string{v, redactedText})
		}
	}
	red := c.Redacted()
	if raw := c.rawURL.Reveal(); raw != "" {
		pairs = append(pairs, [2]string{raw, red})
	}
	if c.NormalizedEngine() != "" && c.Password != "" {
		pairs = append(pairs, [2]string{c.DSN().Reveal(), red})
	}
	register(pairs...)
}

// RedactError returns err with RedactString applied to its text; errors.Is
// and errors.As still see err and what it wraps, so callers can tell a
// cause (a refused credential) by its sentinel.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: RedactString(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
