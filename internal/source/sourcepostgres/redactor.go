package sourcepostgres

import (
	"net/url"
	"regexp"
	"strings"
)

// redactor removes every known form of the connection's password from
// error messages. pgx already redacts what it can, but an unparseable
// connection string can reach messages (for example inside a *url.Error), so
// every error leaving this package passes through wrap.
type redactor struct {
	secrets []string
}

const redacted = "xxxxx"

var kvPassword = regexp.MustCompile(`(?i)(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|'.*$|[^\s]+)`)

// newRedactor collects password candidates from dsn without trusting it to
// parse: URL userinfo, URL query values and keyword/value settings.
func newRedactor(dsn string) redactor {
	var r redactor
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		// userinfo ends at the last '@' before the path.
		auth := rest
		if i := strings.IndexAny(auth, "/?"); i >= 0 && strings.LastIndex(auth[:i], "@") >= 0 {
			auth = auth[:i]
		}
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(auth[:at], ":"); ok {
				r.add(pw)
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for _, kv := range strings.Split(query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
					r.add(v)
				}
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		r.add(v)
		switch {
		case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
			inner := v[1 : len(v)-1]
			r.add(inner)
			r.add(strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner))
		case v[0] == '\'':
			// Unterminated quote: the rest of the string may be the
			// password, and other layers may already have masked its
			// first word, so mask every word of it.
			r.add(v[1:])
			for _, w := range strings.Fields(v) {
				r.add(w)
				r.add(strings.TrimPrefix(w, "'"))
			}
		}
	}
	return r
}

// add registers a secret and its URL-decoded and URL-encoded forms.
func (r *redactor) add(s string) {
	if s == "" {
		return
	}
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	if u, err := url.PathUnescape(s); err == nil {
		forms = append(forms, u)
	}
	if u, err := url.QueryUnescape(s); err == nil {
		forms = append(forms, u)
	}
	for _, f := range forms {
		if f != "" && f != redacted && !contains(r.secrets, f) {
			r.secrets = append(r.secrets, f)
		}
	}
	// Replace longer forms first so a short one never leaves a tail behind.
	for i := 1; i < len(r.secrets); i++ {
		for j := i; j > 0 && len(r.secrets[j]) > len(r.secrets[j-1]); j-- {
			r.secrets[j], r.secrets[j-1] = r.secrets[j-1], r.secrets[j]
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wrap returns err unchanged when its message holds no secret, and otherwise
// an error with the same chain whose message has every secret masked.
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.clean(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

func (r redactor) clean(msg string) string {
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}

// redactedError keeps the wrapped chain for errors.Is/As but never prints it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
