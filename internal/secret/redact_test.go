package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// leakPassword is used only by the tests in this file; it contains
// characters that URLs escape.
const leakPassword = "Leak/Me:Not@42%"

func resolveLeakCreds(t *testing.T) *Credentials {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "leak.json", `{"engine":"postgres","host":"db","port":5432,"username":"app","password":"`+leakPassword+`","dbname":"hr"}`)
	c, err := Resolve(context.Background(), "leak", "file:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Password.Reveal() != leakPassword {
		t.Fatalf("password not read back")
	}
	return c
}

func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, form := range []string{leakPassword, "Leak%2FMe", "Leak/Me:Not"} {
		if strings.Contains(out, form) {
			t.Errorf("%s leaks the password (%q): %s", what, form, out)
		}
	}
}

func TestCredentialsNeverPrintPassword(t *testing.T) {
	c := resolveLeakCreds(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		assertNoLeak(t, "Sprintf("+verb+", *Credentials)", fmt.Sprintf(verb, c))
		assertNoLeak(t, "Sprintf("+verb+", Credentials)", fmt.Sprintf(verb, *c))
		assertNoLeak(t, "Sprintf("+verb+", Password)", fmt.Sprintf(verb, c.Password))
		assertNoLeak(t, "Sprintf("+verb+", DSN)", fmt.Sprintf(verb, c.DSN()))
	}
	// Inside another value, as callers will hold them.
	holder := struct {
		Name  string
		Creds *Credentials
		Value Credentials
		Pw    Secret
		List  []Secret
	}{"hr", c, *c, c.Password, []Secret{c.Password}}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assertNoLeak(t, "Sprintf("+verb+", holder)", fmt.Sprintf(verb, holder))
	}
	if got := fmt.Sprintf("%v", c); got != "postgres://app:xxxxx@db:5432/hr" {
		t.Errorf("%%v = %q", got)
	}
	if got := fmt.Sprintf("%#v", *c); got != `secret.Credentials{Engine:"postgres", Host:"db", Port:5432, Username:"app", Password:<redacted>, DBName:"hr"}` {
		t.Errorf("%%#v = %q", got)
	}
	if got := fmt.Sprint(c.Password); got != RedactedValue {
		t.Errorf("Sprint(Secret) = %q", got)
	}

	var jb bytes.Buffer
	enc := json.NewEncoder(&jb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(holder); err != nil {
		t.Fatal(err)
	}
	j := jb.String()
	assertNoLeak(t, "json.Marshal", j)
	if !strings.Contains(j, `"Pw":"<redacted>"`) || !strings.Contains(j, `"password":"<redacted>"`) {
		t.Errorf("json.Marshal = %s", j)
	}

	wrapped := fmt.Errorf("connect %v: %w", c, errors.New("refused"))
	assertNoLeak(t, "wrapped error", wrapped.Error())
}

func TestSlogNeverLogsPassword(t *testing.T) {
	c := resolveLeakCreds(t)
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(mk(&buf))
		log.Info("connecting", "creds", c, "value", *c, "password", c.Password, "dsn", c.DSN(),
			slog.Any("any", c), slog.Group("g", "pw", c.Password))
		out := buf.String()
		assertNoLeak(t, "slog "+name, out)
		if !strings.Contains(out, "postgres://app:xxxxx@db:5432/hr") || !strings.Contains(out, RedactedValue) {
			t.Errorf("slog %s output lacks the redacted forms: %s", name, out)
		}
	}
}

func TestRedactString(t *testing.T) {
	c := resolveLeakCreds(t)
	// A driver error that quotes the DSN, and one that quotes the password.
	msg := "failed to connect to `" + c.DSN().Reveal() + "`: password " + leakPassword + " rejected"
	got := RedactString(msg)
	assertNoLeak(t, "RedactString", got)
	want := "failed to connect to `postgres://app:xxxxx@db:5432/hr`: password xxxxx rejected"
	if got != want {
		t.Errorf("RedactString\n got %s\nwant %s", got, want)
	}
	Register("abc") // shorter than MinRedactLen: ignored
	if RedactString("abc") != "abc" {
		t.Errorf("a value shorter than MinRedactLen was registered")
	}
}

func TestRedactingWriterSplitWrites(t *testing.T) {
	resolveLeakCreds(t)
	line := "error: auth failed for app with " + leakPassword + " at db\n"
	want := "error: auth failed for app with xxxxx at db\n"

	// Every split point of the line into two writes, and byte-by-byte.
	for i := 0; i <= len(line); i++ {
		var buf bytes.Buffer
		w := NewRedactingWriter(&buf)
		for _, part := range []string{line[:i], line[i:]} {
			n, err := w.Write([]byte(part))
			if err != nil || n != len(part) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Fatalf("split at %d: got %q, want %q", i, buf.String(), want)
		}
	}
	var buf bytes.Buffer
	w := NewRedactingWriter(&buf)
	for i := 0; i < len(line); i++ {
		if _, err := w.Write([]byte{line[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Errorf("byte by byte: got %q, want %q", buf.String(), want)
	}

	// A tail that starts like the password but is not it is written at Flush.
	buf.Reset()
	w = NewRedactingWriter(&buf)
	_, _ = w.Write([]byte("ends with Leak/M"))
	if strings.Contains(buf.String(), "Leak") {
		t.Errorf("a possible password prefix was written before it could be checked: %q", buf.String())
	}
	_ = w.Flush()
	if buf.String() != "ends with Leak/M" {
		t.Errorf("after Flush: %q", buf.String())
	}
}

func TestRedactingWriterUnderSlog(t *testing.T) {
	c := resolveLeakCreds(t)
	var buf bytes.Buffer
	w := NewRedactingWriter(&buf)
	log := slog.New(slog.NewJSONHandler(w, nil))
	// A plain string that happens to hold the password, as a driver error might.
	log.Error("query failed", "err", "pq: password \""+c.Password.Reveal()+"\" is wrong")
	_ = w.Flush()
	assertNoLeak(t, "slog through RedactingWriter", buf.String())
	if !strings.Contains(buf.String(), `password \"xxxxx\" is wrong`) {
		t.Errorf("output: %s", buf.String())
	}
}

// RedactError hides registered values from an error's text and keeps its
// chain for errors.Is.
func TestRedactError(t *testing.T) {
	sentinel := errors.New("unauthorized")
	Register("tok-redact-error-1234")
	err := RedactError(fmt.Errorf("token tok-redact-error-1234 refused: %w", sentinel))
	if strings.Contains(err.Error(), "tok-redact-error-1234") || !errors.Is(err, sentinel) {
		t.Errorf("RedactError: %q, Is(sentinel) = %v", err, errors.Is(err, sentinel))
	}
	if RedactError(nil) != nil {
		t.Error("RedactError(nil) is not nil")
	}
}
