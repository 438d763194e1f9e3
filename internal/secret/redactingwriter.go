package secret

import (
	"io"
	"sync"
)

// RedactingWriter passes writes on with every registered value replaced
// (see Register). A value split across two Write calls is still caught: the
// tail of a write that could begin a registered value is held back until
// the next Write or Flush. It is safe for concurrent use.
type RedactingWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
}

// NewRedactingWriter wraps w, e.g. the CLI's stdout/stderr or the writer of
// a slog handler. Call Flush before exiting to write any held-back tail.
func NewRedactingWriter(w io.Writer) *RedactingWriter {
	return &RedactingWriter{w: w}
}

// Write implements io.Writer. It reports len(p) on success even when part
// of p is held back.
func (r *RedactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data := append(r.pending, p...)
	set := redactions.active.Load()
	if set == nil {
		r.pending = nil
		if _, err := r.w.Write(data); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	cut := len(data) - heldTail(data, set.values)
	out := set.replacer.Replace(string(data[:cut]))
	r.pending = append([]byte(nil), data[cut:]...)
	if out != "" {
		if _, err := io.WriteString(r.w, out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes the held-back tail, redacted.
func (r *RedactingWriter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil
	}
	out := RedactString(string(r.pending))
	r.pending = nil
	_, err := io.WriteString(r.w, out)
	return err
}

// heldTail returns the length of the longest suffix of data that is a
// proper prefix of some value: those bytes may be the start of a secret
// that the next write completes. No occurrence of a value can start before
// that suffix and end after data, so redacting the rest now is exact.
func heldTail(data []byte, values []string) int {
	longest := 0
	for _, v := range values {
		k := len(v) - 1
		if k > len(data) {
			k = len(data)
		}
		for ; k > longest; k-- {
			if string(data[len(data)-k:]) == v[:k] {
				longest = k
				break
			}
		}
	}
	return longest
}
