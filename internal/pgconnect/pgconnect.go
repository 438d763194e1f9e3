// Package pgconnect makes pgx's connection failures lead with their cause.
//
// With sslmode=prefer (the default) pgx tries TLS, then plaintext, and
// reports every attempt in order, so a wrong password reads "tls error:
// server refused TLS connection" first. Explain puts the attempt that
// explains the failure first: the server's own refusal (a *pgconn.PgError:
// bad password, unknown role or database), else the last attempt.
package pgconnect

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Explain returns err with its message reordered to lead with the cause, or
// err unchanged when it is not a pgx connection failure. errors.Is and
// errors.As see the original chain.
func Explain(err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	joined, ok := ce.Unwrap().(interface{ Unwrap() []error })
	var attempts []error
	if ok {
		attempts = joined.Unwrap()
	} else if inner := ce.Unwrap(); inner != nil {
		attempts = []error{inner}
	}
	if len(attempts) == 0 {
		return err
	}
	lead := len(attempts) - 1
	for i, a := range attempts {
		var pe *pgconn.PgError
		if errors.As(a, &pe) {
			lead = i
			break
		}
	}
	msg := oneLine(attempts[lead].Error())
	var pe *pgconn.PgError
	if errors.As(attempts[lead], &pe) {
		msg = fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var others []string
	for i, a := range attempts {
		if t := oneLine(a.Error()); i != lead && t != oneLine(attempts[lead].Error()) && !slices.Contains(others, t) {
			others = append(others, t)
		}
	}
	if len(others) > 0 {
		msg += " (other attempts: " + strings.Join(others, "; ") + ")"
	}
	// Keep whatever the caller wrapped around the connect error.
	return &explained{msg: strings.Replace(err.Error(), ce.Error(), msg, 1), err: err}
}

type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// oneLine is an attempt's message on one line: pgx joins the failures of
// one attempt (a host name's lookups: "hostname resolving error: lookup
// x: no such host\nlookup x: no such host") with newlines, which would
// break a log line and repeat the cause. Lines are joined with "; ",
// each once.
func oneLine(msg string) string {
	if !strings.Contains(msg, "\n") {
		return msg
	}
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.ContainsFunc(lines, func(seen string) bool { return strings.HasSuffix(seen, l) }) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
