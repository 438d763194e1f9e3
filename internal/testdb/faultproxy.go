package testdb

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a TCP proxy for fault-injection tests: put it between wharf
// and a real server (the PostgreSQL state, an object store) and make the
// network fail under a running process. Faults:
//
//   - Down: every open connection is reset and new ones are accepted and
//     reset at once (the server is unreachable), until Up;
//   - Latency: each chunk forwarded either way waits this long first;
//   - ResetAfter: the next connection that carries more than n bytes
//     towards the server after the call is reset mid-stream (an upload cut
//     off half-way).
//
// A reset closes both sides with SO_LINGER 0, so peers see "connection reset
// by peer", not a clean end of stream.
type FaultProxy struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	conns      map[*proxied]struct{}
	down       bool
	latency    time.Duration
	resetAfter int64 // 0: off
	accepted   int
	resets     int
	refused    int
}

type proxied struct {
	client, server net.Conn
	sent           int64 // bytes towards the server since ResetAfter was armed
}

// StartFaultProxy listens on a free loopback port and forwards every
// connection to target (host:port). It stops at the test's end.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, target: target, conns: map[*proxied]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Down()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Down resets every connection and refuses new ones until Up.
func (p *FaultProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		p.reset(c)
	}
}

// Up lets connections through again.
func (p *FaultProxy) Up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// Latency delays every chunk forwarded, either way, by d (0: none).
func (p *FaultProxy) Latency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// ResetAfter arms one reset: the first connection to carry more than n
// bytes towards the server from now on is reset.
func (p *FaultProxy) ResetAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetAfter = n
	for c := range p.conns {
		c.sent = 0
	}
}

// Stats says how many connections were accepted, reset by ResetAfter or
// Down, and refused while down.
func (p *FaultProxy) Stats() (accepted, resets, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted, p.resets, p.refused
}

func (p *FaultProxy) String() string {
	a, r, f := p.Stats()
	return fmt.Sprintf("proxy %s -> %s: %d connections, %d reset, %d refused", p.Addr(), p.target, a, r, f)
}

func (p *FaultProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.refused++
			p.mu.Unlock()
			abort(client)
			continue
		}
		p.accepted++
		p.mu.Unlock()
		go p.handle(client)
	}
}

func (p *FaultProxy) handle(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		abort(client)
		return
	}
	c := &proxied{client: client, server: server}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		abort(client)
		abort(server)
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pipe(c, client, server, true); done <- struct{}{} }()
	go func() { p.pipe(c, server, client, false); done <- struct{}{} }()
	<-done
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pipe copies src to dst chunk by chunk, applying the faults armed at the
// time of each chunk.
func (p *FaultProxy) pipe(c *proxied, src, dst net.Conn, toServer bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			delay := p.latency
			cut := false
			if toServer && p.resetAfter > 0 {
				c.sent += int64(n)
				if c.sent > p.resetAfter {
					p.resetAfter = 0
					cut = true
					p.reset(c)
				}
			}
			p.mu.Unlock()
			if cut {
				return
			}
			if delay > 0 {
				time.Sleep(delay)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				abort(src)
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite() // pass the end of stream on; the other way may go on
			} else {
				abort(dst)
			}
			return
		}
	}
}

// reset aborts both sides of c; p.mu is held.
func (p *FaultProxy) reset(c *proxied) {
	p.resets++
	abort(c.client)
	abort(c.server)
}

// abort closes conn with a TCP reset.
func abort(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// HTTPFaults is a reverse proxy in front of an HTTP server (an object
// store) that answers chosen requests with an error status instead of
// forwarding them, as a throttled or failing service does.
type HTTPFaults struct {
	srv *http.Server
	ln  net.Listener

	mu     sync.Mutex
	fail   int // requests left to fail
	status int
	match  func(*http.Request) bool
	failed []string
}

// StartHTTPFaults listens on a free loopback port and forwards to target
// (http://host:port). It stops at the test's end.
func StartHTTPFaults(t testing.TB, target string) *HTTPFaults {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &HTTPFaults{ln: ln}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a client hanging up mid-request is expected here
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.take(r) {
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("Connection", "close")
			w.WriteHeader(h.status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected by the test's fault proxy</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = h.srv.Serve(ln) }()
	t.Cleanup(func() { h.srv.Close() })
	return h
}

// Addr is the proxy's host:port.
func (h *HTTPFaults) Addr() string { return h.ln.Addr().String() }

// Fail answers the next n requests for which match returns true (any
// request when match is nil) with status.
func (h *HTTPFaults) Fail(n, status int, match func(*http.Request) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail, h.status, h.match = n, status, match
}

// Failed lists the requests answered with an error ("METHOD path?query").
func (h *HTTPFaults) Failed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.failed...)
}

func (h *HTTPFaults) take(r *http.Request) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail == 0 || (h.match != nil && !h.match(r)) {
		return false
	}
	h.fail--
	h.failed = append(h.failed, r.Method+" "+r.URL.RequestURI())
	return true
}
