// Package server is wharf's operator's console: a JSON API under /api/v1,
// server-rendered web pages, Prometheus metrics at /metrics, River's own
// job UI under /river/, and /healthz, behind bearer-token authentication
// with an admin and a read role. See docs/api.md.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

// Ops queues and cancels runs: an *engine.Engine (serve's own, or an
// insert-only client engine for wharf console).
type Ops interface {
	Trigger(ctx context.Context, workflows ...string) ([]engine.Queued, error)
	Cancel(ctx context.Context, runID string) (*state.Run, error)
}

// Config configures a Server.
type Config struct {
	Store state.Store
	// Ops triggers and cancels runs; nil = those requests answer 409.
	Ops Ops
	// AdminToken may read, trigger and cancel; ReadToken may only read.
	// Both empty = no authentication (allowed on loopback addresses only).
	AdminToken, ReadToken secret.Secret
	// MetricsPublic serves /metrics without a token.
	MetricsPublic bool
	// Metrics is what /metrics serves; nil = no /metrics.
	Metrics prometheus.Gatherer
	// River is River's job UI, mounted under /river/ for admins; nil = none.
	River  http.Handler
	Logger *slog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Server serves the console.
type Server struct {
	cfg     Config
	log     *slog.Logger
	pages   *pages
	handler http.Handler
}

type roleKey struct{}

func withRole(ctx context.Context, r role) context.Context {
	return context.WithValue(ctx, roleKey{}, r)
}

// roleFrom is the role require found for the request (roleNone outside it).
func roleFrom(ctx context.Context) role {
	r, _ := ctx.Value(roleKey{}).(role)
	return r
}

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no state store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AdminToken != "" && cfg.AdminToken == cfg.ReadToken {
		return nil, errors.New("--http-token and --http-read-token are the same secret: the read role would be admin")
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	ui, err := newPages()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	s.mountAuth(mux)
	s.mountAPI(mux)
	s.mountPages(mux, ui)
	if cfg.Metrics != nil {
		h := promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{ErrorLog: slogPromLogger{s.log}})
		if cfg.MetricsPublic {
			mux.Handle("GET /metrics", h)
		} else {
			mux.Handle("GET /metrics", s.require(roleRead, h))
		}
	}
	if cfg.River != nil {
		mux.Handle("/river/", s.require(roleAdmin, cfg.River))
	}
	// Cross-origin state-changing requests (CSRF) are refused by Go's
	// own check of Sec-Fetch-Site and Origin; cookies are SameSite=Strict.
	csrf := http.NewCrossOriginProtection()
	s.handler = secureHeaders(csrf.Handler(mux))
	return s, nil
}

// Handler is the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// CheckAddr refuses to serve without a token on an address other machines
// can reach. addr is host:port; an empty host means every interface.
func CheckAddr(addr string, haveToken bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: want HOST:PORT, e.g. 127.0.0.1:8080", addr)
	}
	if haveToken || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("--http %s is not a loopback address: set --http-token (and --http-read-token) so that not everyone who can reach it may trigger and cancel runs", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.DeployedWorkflows(ctx); err != nil {
		s.log.Warn("healthz: state store", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "state store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if len(r.URL.Path) < 7 || r.URL.Path[:7] != "/river/" {
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		}
		h.ServeHTTP(w, r)
	})
}

// slogPromLogger routes promhttp's errors to the logger.
type slogPromLogger struct{ log *slog.Logger }

func (l slogPromLogger) Println(v ...any) { l.log.Warn("metrics", "err", fmt.Sprint(v...)) }
