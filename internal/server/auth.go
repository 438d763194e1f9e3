package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/secret"
)

// role is what a request may do; higher includes lower.
type role int

const (
	roleNone  role = iota
	roleRead       // views, the API's GETs, /metrics
	roleAdmin      // also trigger, cancel, River's UI
)

func (r role) String() string {
	switch r {
	case roleAdmin:
		return "admin"
	case roleRead:
		return "read"
	}
	return "none"
}

const (
	sessionCookie = "wharf_session"
	sessionTTL    = 12 * time.Hour
)

// open reports whether the server runs without authentication (loopback).
func (s *Server) open() bool { return s.cfg.AdminToken == "" && s.cfg.ReadToken == "" }

// tokenRole is the role a presented token grants (roleNone: no match).
func (s *Server) tokenRole(tok string) role {
	match := func(want secret.Secret) bool {
		return want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want.Reveal())) == 1
	}
	switch {
	case match(s.cfg.AdminToken):
		return roleAdmin
	case match(s.cfg.ReadToken):
		return roleRead
	}
	return roleNone
}

// roleOf authenticates r: an Authorization: Bearer header, else the
// session cookie.
func (s *Server) roleOf(r *http.Request) role {
	if s.open() {
		return roleAdmin
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return roleNone
		}
		return s.tokenRole(strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return s.sessionRole(c.Value)
	}
	return roleNone
}

// sessionKey is the HMAC key of a role's sessions: derived from its token,
// so every process of a fleet with the same tokens accepts the same
// sessions, and changing a token ends its sessions.
func (s *Server) sessionKey(ro role) []byte {
	tok := s.cfg.ReadToken
	if ro == roleAdmin {
		tok = s.cfg.AdminToken
	}
	if tok == "" {
		return nil
	}
	k := sha256.Sum256([]byte("wharf console session\x00" + tok.Reveal()))
	return k[:]
}

func (s *Server) sessionMAC(ro role, payload string) string {
	m := hmac.New(sha256.New, s.sessionKey(ro))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession is a cookie value: role.expiry.mac.
func (s *Server) newSession(ro role) string {
	payload := ro.String() + "." + strconv.FormatInt(s.cfg.Now().Add(sessionTTL).Unix(), 10)
	return payload + "." + s.sessionMAC(ro, payload)
}

func (s *Server) sessionRole(v string) role {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return roleNone
	}
	var ro role
	switch parts[0] {
	case "admin":
		ro = roleAdmin
	case "read":
		ro = roleRead
	default:
		return roleNone
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.cfg.Now().Unix() >= exp || s.sessionKey(ro) == nil {
		return roleNone
	}
	want := s.sessionMAC(ro, parts[0]+"."+parts[1])
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return roleNone
	}
	return ro
}

// require serves h to requests with at least role min: others get 401
// (not signed in) or 403 (signed in with the read role), as JSON under
// /api/, as a redirect to the sign-in form for pages.
func (s *Server) require(min role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := s.roleOf(r)
		if got >= min {
			h.ServeHTTP(w, r.WithContext(withRole(r.Context(), got)))
			return
		}
		page := !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/metrics"
		switch {
		case got == roleNone && page && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case got == roleNone:
			w.Header().Set("WWW-Authenticate", `Bearer realm="wharf"`)
			s.fail(w, r, errUnauthorized)
		default:
			s.fail(w, r, errForbidden)
		}
	})
}

func (s *Server) mountAuth(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "login", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		next := safeNext(r.PostFormValue("next"))
		ro := s.tokenRole(r.PostFormValue("token"))
		if s.open() {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		if ro == roleNone {
			s.log.Info("console: sign-in refused", "remote", r.RemoteAddr)
			s.render(w, r, http.StatusUnauthorized, "login", loginPage{Next: next, Error: "That token is not valid."})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.newSession(ro), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL.Seconds())})
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: -1})
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
