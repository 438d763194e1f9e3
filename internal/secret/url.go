package secret

import (
	"net/url"
	"strings"
)

// secretParams are query parameter names (lowercased substrings) whose
// values RedactURL masks: password, sslpassword, secret, token, sig, ...
var secretParams = []string{"password", "secret", "token", "key", "sig", "signature", "credential"}

// IsSecretParam reports whether a URL query parameter named k holds a
// secret (its value is masked when the URL is printed).
func IsSecretParam(k string) bool {
	lk := strings.ToLower(k)
	for _, s := range secretParams {
		if strings.Contains(lk, s) {
			return true
		}
	}
	return false
}

// RedactURL returns s, any URL wharf prints (state store, lake, connection),
// with its password and every secret-looking query value replaced by
// "xxxxx". It is the one place where wharf turns a URL into something safe
// to print. A URL that does not parse is reduced to its scheme
// ("postgres://(unparseable URL)"): where a malformed URL's password ends is
// guesswork. A URL with nothing to hide is returned as written.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || strings.ContainsAny(s, " \t\r\n") {
		if scheme, _, ok := strings.Cut(s, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, ":@/?#% \t") {
			return scheme + "://(unparseable URL)"
		}
		return "(unparseable URL)"
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedText)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q, masked := u.Query(), false
		for k := range q {
			if IsSecretParam(k) {
				q[k] = []string{redactedText}
				masked = true
			}
		}
		if masked {
			u.RawQuery = q.Encode()
			changed = true
		}
	}
	out := s
	if changed {
		out = u.String()
	}
	// What a user meant as a password may not be where net/url looks for one
	// ("postgres://u:1234/pw@host" parses with the password in the path; an
	// opaque "mysql:u:pw@h" has no user info at all): mask those too.
	return ScrubURL(out, s)
}

// ScrubURL replaces, in msg (typically a driver's error about the URL s),
// every password candidate of s: the password as net/url, libpq and a person
// would read it, raw and unescaped, and secret query values.
func ScrubURL(msg, s string) string {
	for _, p := range urlPasswords(s) {
		if len(p) == 0 || p == redactedText {
			continue
		}
		msg = strings.ReplaceAll(msg, p, redactedText)
		if esc, err := url.PathUnescape(p); err == nil && esc != "" && esc != redactedText {
			msg = strings.ReplaceAll(msg, esc, redactedText)
		}
	}
	return msg
}

// RegisterURL registers the password candidates of the URL s with the
// process-wide redactor (see Register), and s itself, replaced by its
// RedactURL form, so that the URL is scrubbed from every output even where
// it is printed whole. The CLI registers the state URL it was given.
func RegisterURL(s string) {
	var pairs [][2]string
	for _, p := range urlPasswords(s) {
		pairs = append(pairs, [2]string{p, redactedText})
		if esc, err := url.PathUnescape(p); err == nil {
			pairs = append(pairs, [2]string{esc, redactedText})
		}
	}
	if len(pairs) > 0 {
		pairs = append(pairs, [2]string{s, RedactURL(s)})
	}
	register(pairs...)
}

// urlPasswords extracts password candidates from a possibly malformed URL:
// the user info ends at the last '@' before the path (as libpq and pgx
// read it) or at the last '@' of the whole URL (as a person who forgot to
// escape a '/', '?' or '#' in the password meant it), and the password
// follows its first ':'. Secret query values are candidates too.
func urlPasswords(s string) []string {
	var out []string
	rests := []string{s} // no scheme: user:password@host
	if _, after, ok := strings.Cut(s, "://"); ok {
		rests = []string{after}
	} else if _, after, ok := strings.Cut(s, ":"); ok {
		rests = []string{after, s} // opaque: scheme:user:password@host
	}
	userinfo := func(upTo string) {
		if at := strings.LastIndex(upTo, "@"); at >= 0 {
			if user, pw, ok := strings.Cut(upTo[:at], ":"); ok && pw != "" && !strings.Contains(user, "/") {
				out = append(out, pw)
			}
		}
	}
	for _, rest := range rests {
		authority, _, _ := strings.Cut(rest, "?")
		userinfo(authority) // up to the last '@' before the query: what a person meant
		if i := strings.IndexAny(authority, "/#"); i >= 0 {
			userinfo(authority[:i]) // up to the last '@' before the path: what libpq reads
		}
	}
	if _, query, ok := strings.Cut(s, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if IsSecretParam(k) && v != "" {
				out = append(out, v)
				if uv, err := url.QueryUnescape(v); err == nil && uv != v {
					out = append(out, uv)
				}
			}
		}
	}
	return out
}
