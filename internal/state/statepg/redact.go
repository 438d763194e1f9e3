package statepg

import (
	"net/url"
	"strings"
)

const mask = "xxxxx"

// RedactURL returns s, any URL, with its password (user info, or a
// password or sslpassword query parameter) replaced by xxxxx. An
// unparseable URL is reduced to its scheme; in an opaque one ("mysql:u:pw@h")
// whatever could be a password is masked.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, ":@/?#") {
			return scheme + "://(unparseable URL)"
		}
		return "(unparseable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), mask)
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretParam(k) {
			q[k] = []string{mask}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	// An opaque URL ("scheme:user:pw@host") keeps its user info unparsed.
	return scrub(u.String(), s)
}

// scrub replaces every password candidate found in the URL s (parsed
// leniently, since s may be malformed) inside msg.
func scrub(msg, s string) string {
	for _, p := range passwords(s) {
		if len(p) == 0 {
			continue
		}
		msg = strings.ReplaceAll(msg, p, mask)
		if esc, err := url.QueryUnescape(p); err == nil && esc != "" {
			msg = strings.ReplaceAll(msg, esc, mask)
		}
	}
	return msg
}

// passwords extracts password candidates from a possibly malformed URL the
// way libpq and pgx read it: the user info ends at the last '@' before the
// path, and the password follows its first ':'.
func passwords(s string) []string {
	var out []string
	rest := s
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	}
	authority := rest
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
			out = append(out, pw)
		}
	}
	if _, query, ok := strings.Cut(s, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if secretParam(k) {
				out = append(out, v)
			}
		}
	}
	return out
}

func secretParam(k string) bool {
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")
}
