// Package secret resolves connection credentials and keeps them out of
// output. Credentials never sit in the catalog: a connection names a secret
// reference (env:VAR, file:PATH, or a bare name looked up through a secrets
// provider such as file:DIR), and Resolve turns it into Credentials.
//
// Secret values are typed: Secret and Credentials print, log and marshal as
// "<redacted>" or a redacted URL. Everything Resolve reads is also registered
// with a process-wide redactor, so RedactString and RedactingWriter can scrub
// a password that reached a string by another path (a driver error message,
// a panic, a log line).
package secret

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// RedactedValue is what a Secret shows instead of its value.
const RedactedValue = "<redacted>"

// Secret is a sensitive string. Every way of printing, logging or marshalling
// it shows "<redacted>"; only Reveal gives the value.
type Secret string

// Reveal returns the secret's value. Call it only where the value is handed
// to a driver or a provider, never for output.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return RedactedValue }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return RedactedValue }

// Format implements fmt.Formatter so that no verb (%d, %x, %q, ...) reaches
// the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(RedactedValue))
		return
	}
	_, _ = io.WriteString(f, RedactedValue)
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(RedactedValue)), nil }

// MarshalText implements encoding.TextMarshaler (used by slog's text handler,
// YAML and map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(RedactedValue), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(RedactedValue) }
