package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// freeAddr returns a loopback HOST:PORT that nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveConsole starts wharf ARGS... --http on a free loopback port and
// waits until its /healthz answers; base is the console's URL.
func serveConsole(t *testing.T, dir string, env []string, args ...string) (d *daemon, base string) {
	t.Helper()
	addr := freeAddr(t)
	base = "http://" + addr
	d = startWharf(t, dir, env, append(args, "--http", addr)...)
	waitUntil(t, 60*time.Second, "/healthz", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d, base
}

// request sends method url with a bearer token ("" = none) and returns
// the status and the body.
func request(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// hookReceiver is a Slack-style incoming webhook: it keeps the text of
// every message posted to path.
type hookReceiver struct {
	t    *testing.T
	mu   sync.Mutex
	msgs []string
	srv  *httptest.Server
	path string
}

func newHookReceiver(t *testing.T, path string) *hookReceiver {
	h := &hookReceiver{t: t, path: path}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if r.URL.Path != path || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		text, ok := body["text"].(string)
		if !ok || len(body) != 1 {
			t.Errorf("webhook body %s: want exactly {\"text\": ...} (Slack's format)", b)
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, text)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// URL is the webhook's URL, its secret path included.
func (h *hookReceiver) URL() string { return h.srv.URL + h.path }

// with returns the messages that contain every one of parts.
func (h *hookReceiver) with(parts ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			out = append(out, m)
		}
	}
	return out
}

func (h *hookReceiver) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

// TestAlertsOncePerEvent deploys a catalog with an alerts section and runs
// wharf serve: a run that fails on every one of its 2 attempts (the
// deployed attempts, though wharf trigger queued it), a
// workflow past its freshness_sla and a run that lands a changed schema
// each post exactly one Slack-style message to the catalog's webhook.
func TestAlertsOncePerEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "q")
	hook := newHookReceiver(t, "/services/T1/B1/alert-hook-4c2e9a7f01")
	cat := filepath.Join(dir, "alerts.yaml")
	// down: a PostgreSQL server that refuses connections, a transient
	// error that every attempt meets.
	err := os.WriteFile(cat, []byte(fmt.Sprintf(`connections:
  hr: {engine: sqlite, secret: %q}
  down: {engine: postgres, secret: env:DOWN_URL}
lakes:
  local: {url: %q}
alerts:
  webhook: env:ALERT_HOOK
workflows:
  - {name: hr_regions, connection: hr, table: regions, cursor: "", freshness_sla: 5s}
  - {name: hr_countries, connection: hr, table: countries, cursor: updated_at}
  - {name: down_orders, connection: down, table: public.orders, attempts: 2}
`, "file:"+filepath.Join(dir, "q", "secrets", "hr.json"), "file://"+filepath.Join(dir, "lake"))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st := "sqlite:" + filepath.Join(dir, "state.db")
	env := []string{"ALERT_HOOK=" + hook.URL(), "DOWN_URL=postgres://wharf@127.0.0.1:1/none?sslmode=disable", "WHARF_STATE=" + st}
	r := mustWharf(t, dir, env, "plan", "-c", cat)
	if strings.Contains(r.stdout+r.stderr, "alert-hook-4c2e9a7f01") {
		t.Errorf("plan prints the webhook URL:\n%s", r)
	}
	mustWharf(t, dir, env, "deploy", "-c", cat)
	// Land both sqlite tables once before serve starts: hr_regions' data is
	// then as fresh as that run, and hr_countries has a schema to change.
	mustWharf(t, dir, env, "run", "-c", cat, "hr_regions", "hr_countries")

	d := startWharf(t, dir, env, "serve", "--retry-backoff", "100ms",
		"--freshness-check", "1s", "--poll-interval", "50ms")

	// 1. A run failing on both its attempts: one message, after the last.
	mustWharf(t, dir, env, "trigger", "down_orders")
	waitUntil(t, 90*time.Second, "2 failed attempts of down_orders", func() bool {
		failed := 0
		for _, r := range runsJSON(t, dir, env, "down_orders") {
			if r.Status == "failed" {
				failed++
			}
		}
		return failed == 2
	})
	// 2. A schema change: one message naming the workflow and the column.
	db, err := sql.Open("sqlite", filepath.Join(dir, "q", "source", "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE countries ADD COLUMN iso_code TEXT`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	mustWharf(t, dir, env, "trigger", "hr_countries", "--wait", "--timeout", "60s")

	// 3. hr_regions passes its 5s SLA while serve runs.
	waitUntil(t, 60*time.Second, "the three alerts", func() bool {
		return len(hook.with("down_orders")) > 0 && len(hook.with("hr_countries")) > 0 && len(hook.with("hr_regions")) > 0
	})
	// Any repeat would come within a few freshness checks and retries.
	time.Sleep(5 * time.Second)
	r = mustWharf(t, dir, env, "status", "--json")
	before := hook.all()
	// 4. A run that lands fresh data ends the breach: one "recovered".
	mustWharf(t, dir, env, "trigger", "hr_regions", "--wait", "--timeout", "60s")
	waitUntil(t, 30*time.Second, "the recovered message", func() bool { return len(hook.with("hr_regions recovered")) > 0 })
	d.stop(t, 30*time.Second)

	if got := hook.with("down_orders"); len(got) != 1 || !strings.Contains(got[0], "failed for good (attempt 2 of 2)") {
		t.Errorf("failed-run alerts = %q; want one, after attempt 3", got)
	}
	if got := hook.with("hr_countries"); len(got) != 1 || !strings.Contains(got[0], "landed a new schema") || !strings.Contains(got[0], "added iso_code") {
		t.Errorf("schema-change alerts = %q; want one naming iso_code", got)
	}
	if len(before) != 3 {
		t.Errorf("%d messages before the recovery, want 3: %q", len(before), before)
	}
	var late []string
	for _, m := range before {
		if strings.Contains(m, "hr_regions") {
			late = append(late, m)
		}
	}
	if len(late) != 1 || !strings.Contains(late[0], "hr_regions is late") || !strings.Contains(late[0], "freshness SLA of 5s") {
		t.Errorf("freshness alerts before the recovery = %q; want one", late)
	}
	if got := hook.with("hr_regions recovered"); len(got) != 1 {
		t.Errorf("recovered messages = %q; want one", got)
	}
	var status struct {
		Workflows []struct {
			Workflow   string   `json:"workflow"`
			Late       bool     `json:"late"`
			SLASeconds *float64 `json:"freshness_sla_seconds"`
		} `json:"workflows"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil {
		t.Fatal(err)
	}
	for _, w := range status.Workflows {
		wantLate := w.Workflow == "hr_regions"
		if w.Late != wantLate || (w.SLASeconds != nil) != wantLate {
			t.Errorf("status of %s: late %v, freshness_sla_seconds %v", w.Workflow, w.Late, w.SLASeconds)
		}
	}
	for _, out := range append(hook.all(), d.stderr.String(), r.stdout) {
		if strings.Contains(out, "alert-hook-4c2e9a7f01") {
			t.Errorf("the webhook URL leaked:\n%.400s", out)
		}
	}
}
