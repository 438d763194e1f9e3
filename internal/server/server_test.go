package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/metrics"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/server"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

const (
	adminTok = "admin-token-7f3a9c1e55"
	readTok  = "read-token-0b2d4e6f88"
	// dbPassword stands for a secret a run's error could carry.
	dbPassword = "s3cr3t-db-pa55word"
)

type fixture struct {
	t      *testing.T
	st     state.Store
	srv    *httptest.Server
	failed *state.Run
	ok     *state.Run
}

func spec(name string, schedule catalog.Schedule) catalog.Resolved {
	return catalog.Resolved{
		Workflow:   catalog.Workflow{Name: name, Connection: "shop", Table: "public." + name, Lake: "raw", Blueprint: "landing", Format: "parquet", Schedule: schedule},
		Connection: catalog.Connection{Name: "shop", Engine: "sqlite", Secret: "env:SHOP_DB"},
		Lake:       catalog.Lake{Name: "raw", URL: "file:///tmp/wharf-server-test-lake"},
	}
}

// newFixture deploys orders (with a succeeded and a failed run), idle (no
// runs) and gone (disabled) on a SQLite state, and serves the console over
// it with an insert-only engine.
func newFixture(t *testing.T, mod func(*server.Config)) *fixture {
	t.Helper()
	t.Parallel()
	secret.Register(adminTok, readTok, dbPassword)
	ctx := t.Context()
	st, err := stateurl.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	daily := catalog.Schedule{Kind: catalog.Cron, Expr: "cron(10 21 * * ? *)", Dialect: "aws"}
	if err := st.ApplyDeploy(ctx, state.DeployChanges{Create: []state.Deployed{
		{Name: "orders", Spec: catalog.EncodeSpec(spec("orders", daily))},
		{Name: "idle", Spec: catalog.EncodeSpec(spec("idle", catalog.Schedule{Kind: catalog.OnDemand}))},
		{Name: "gone", Spec: catalog.EncodeSpec(spec("gone", daily))},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyDeploy(ctx, state.DeployChanges{Disable: []string{"gone"}}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st}
	start := time.Now().Add(-time.Hour).UTC()
	f.ok = &state.Run{ID: uuid.Must(uuid.NewV7()).String(), Workflow: "orders", Trigger: state.TriggerSchedule, StartedAt: start}
	if err := st.StartRun(ctx, f.ok); err != nil {
		t.Fatal(err)
	}
	f.ok.Rows, f.ok.Bytes, f.ok.FinishedAt = 42, 4096, start.Add(3*time.Second)
	wm := &coltype.Watermark{Kind: coltype.TimestampTZ, Text: start.Add(-time.Minute).Format(coltype.TimestampTZLayout)}
	f.ok.WatermarkTo = wm
	if err := st.CommitRun(ctx, f.ok, []state.File{{Path: "shop/orders/part-1.parquet", Rows: 42, Bytes: 4096}}, wm, "updated_at"); err != nil {
		t.Fatal(err)
	}
	f.failed = &state.Run{ID: uuid.Must(uuid.NewV7()).String(), Workflow: "orders", Trigger: state.TriggerManual, StartedAt: start.Add(time.Minute)}
	if err := st.StartRun(ctx, f.failed); err != nil {
		t.Fatal(err)
	}
	f.failed.Status, f.failed.Error = state.StatusFailed, "connect postgres://app:"+dbPassword+"@db/shop: refused"
	if err := st.FinishRun(ctx, f.failed); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(ctx, st, engine.Config{Role: engine.RoleClient})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(st, e.JobCounts, nil)
	cfg := server.Config{Store: st, Ops: e, AdminToken: adminTok, ReadToken: readTok, Metrics: m.Registry}
	if mod != nil {
		mod(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request with token ("" = none) and returns status and body;
// every body is checked for secrets.
func (f *fixture) do(method, path, token string, hdr ...string) (int, string, http.Header) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	noSecrets(f.t, method+" "+path, string(b))
	return resp.StatusCode, string(b), resp.Header
}

func noSecrets(t *testing.T, where, body string) {
	t.Helper()
	for _, s := range []string{adminTok, readTok, dbPassword} {
		if strings.Contains(body, s) {
			t.Errorf("%s: the response holds a secret (%s…)", where, s[:4])
		}
	}
}

func (f *fixture) json(method, path, token string, want int, into any) {
	f.t.Helper()
	code, body, hdr := f.do(method, path, token)
	if code != want {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, code, body, want)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if into != nil {
		if err := json.Unmarshal([]byte(body), into); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
}

type apiErr struct {
	Error string `json:"error"`
}

func TestRolesAndErrors(t *testing.T) {
	f := newFixture(t, nil)
	orders := "/api/v1/workflows/orders"
	for _, tc := range []struct {
		method, path, token string
		want                int
		msg                 string
	}{
		{"GET", "/api/v1/workflows", "", 401, "sign in"},
		{"GET", "/api/v1/workflows", "wrong-token-xxxxxxxx", 401, "sign in"},
		{"GET", "/api/v1/runs", "", 401, "sign in"},
		{"GET", "/api/v1/runs/x", "", 401, "sign in"},
		{"GET", orders, "", 401, "sign in"},
		{"POST", orders + "/trigger", "", 401, "sign in"},
		{"POST", orders + "/trigger", readTok, 403, "admin token"},
		{"POST", "/api/v1/runs/x/cancel", readTok, 403, "admin token"},
		{"GET", "/api/v1/workflows/nope", readTok, 404, "workflow nope is not deployed"},
		{"GET", "/api/v1/runs/nope", readTok, 404, "run nope not found"},
		{"POST", "/api/v1/workflows/nope/trigger", adminTok, 404, "workflow nope is not deployed"},
		{"POST", "/api/v1/runs/nope/cancel", adminTok, 404, "run nope not found"},
		{"GET", "/api/v1/runs?limit=0", readTok, 400, `limit "0"`},
		{"GET", "/api/v1/runs?limit=x", readTok, 400, `limit "x"`},
		{"GET", "/api/v1/runs?status=done", readTok, 400, `status "done"`},
		{"GET", "/api/v1/runs?before=nope", readTok, 400, `before "nope"`},
		{"POST", "/api/v1/workflows/gone/trigger", adminTok, 409, "disabled"},
		{"POST", "/api/v1/runs/" + f.ok.ID + "/cancel", adminTok, 409, "already ended (succeeded)"},
		{"GET", "/api/v1/nothing", readTok, 404, "no such API endpoint"},
		{"GET", "/metrics", "", 401, "sign in"},
	} {
		var e apiErr
		f.json(tc.method, tc.path, tc.token, tc.want, &e)
		if !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s %s: error %q, want it to say %q", tc.method, tc.path, e.Error, tc.msg)
		}
	}
	if code, body, _ := f.do("GET", "/healthz", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, _, _ := f.do("GET", "/metrics", readTok); code != 200 {
		t.Errorf("/metrics with the read token = %d", code)
	}
	// Pages send people to the sign-in form, keeping where they were going.
	code, _, hdr := f.do("GET", "/workflows/orders?x=1", "")
	if code != http.StatusSeeOther || hdr.Get("Location") != "/login?next="+url.QueryEscape("/workflows/orders?x=1") {
		t.Errorf("page without a token = %d to %q", code, hdr.Get("Location"))
	}
	if code, body, _ := f.do("GET", "/workflows/nope", readTok); code != 404 || !strings.Contains(body, "workflow nope is not deployed") {
		t.Errorf("page of an unknown workflow = %d %s", code, body)
	}
	if code, _, _ := f.do("POST", "/workflows/orders/trigger", readTok); code != 403 {
		t.Errorf("Run now with the read token = %d, want 403", code)
	}
}

func TestReadAPI(t *testing.T) {
	f := newFixture(t, nil)
	var ws struct {
		Workflows []map[string]any `json:"workflows"`
	}
	f.json("GET", "/api/v1/workflows", readTok, 200, &ws)
	if len(ws.Workflows) != 3 {
		t.Fatalf("workflows = %v", ws.Workflows)
	}
	byName := map[string]map[string]any{}
	for _, w := range ws.Workflows {
		byName[w["workflow"].(string)] = w
	}
	o := byName["orders"]
	last := o["last_run"].(map[string]any)
	if o["table"] != "public.orders" || o["enabled"] != true || o["schedule"] != "cron(10 21 * * ? *)" ||
		last["id"] != f.failed.ID || last["status"] != "failed" || o["watermark"] == nil {
		t.Errorf("orders = %v", o)
	}
	// Freshness: from the last success's upper watermark, a minute before it started.
	if fr, _ := o["freshness_seconds"].(float64); fr < 3660 || fr > 3700 {
		t.Errorf("orders freshness_seconds = %v, want about 3661", o["freshness_seconds"])
	}
	if byName["idle"]["last_run"] != nil || byName["idle"]["freshness_seconds"] != nil || byName["gone"]["enabled"] != false {
		t.Errorf("idle/gone = %v / %v", byName["idle"], byName["gone"])
	}

	var one struct {
		Workflow map[string]any   `json:"workflow"`
		Runs     []map[string]any `json:"runs"`
	}
	f.json("GET", "/api/v1/workflows/orders", readTok, 200, &one)
	if one.Workflow["workflow"] != "orders" || len(one.Runs) != 2 || one.Runs[0]["id"] != f.failed.ID || one.Runs[1]["rows"] != 42.0 {
		t.Errorf("workflow orders = %v", one)
	}
	if !strings.Contains(one.Runs[0]["error"].(string), "xxxxx") {
		t.Errorf("failed run's error %q: want its password redacted", one.Runs[0]["error"])
	}

	var page struct {
		Runs       []map[string]any `json:"runs"`
		NextBefore *string          `json:"next_before"`
	}
	f.json("GET", "/api/v1/runs?limit=1", readTok, 200, &page)
	if len(page.Runs) != 1 || page.Runs[0]["id"] != f.failed.ID || page.NextBefore == nil || *page.NextBefore != f.failed.ID {
		t.Fatalf("runs page 1 = %+v", page)
	}
	f.json("GET", "/api/v1/runs?limit=1&before="+*page.NextBefore, readTok, 200, &page)
	if len(page.Runs) != 1 || page.Runs[0]["id"] != f.ok.ID {
		t.Fatalf("runs page 2 = %+v", page)
	}
	f.json("GET", "/api/v1/runs?status=failed&workflow=orders", readTok, 200, &page)
	if len(page.Runs) != 1 || page.Runs[0]["id"] != f.failed.ID || page.NextBefore != nil {
		t.Errorf("failed runs = %+v", page)
	}
	f.json("GET", "/api/v1/runs?workflow=idle", readTok, 200, &page)
	if len(page.Runs) != 0 {
		t.Errorf("runs of idle = %+v", page)
	}

	var run struct {
		ID       string           `json:"id"`
		Status   string           `json:"status"`
		Rows     int64            `json:"rows"`
		To       *string          `json:"watermark_to"`
		FullLoad bool             `json:"full_load"`
		Files    []map[string]any `json:"files_landed"`
	}
	f.json("GET", "/api/v1/runs/"+f.ok.ID, readTok, 200, &run)
	if run.ID != f.ok.ID || run.Status != "succeeded" || run.Rows != 42 || run.To == nil ||
		len(run.Files) != 1 || run.Files[0]["path"] != "shop/orders/part-1.parquet" || run.Files[0]["rows"] != 42.0 {
		t.Errorf("run = %+v", run)
	}
}

func TestTriggerAndCancel(t *testing.T) {
	f := newFixture(t, nil)
	var q server.TriggerResult
	f.json("POST", "/api/v1/workflows/idle/trigger", adminTok, 202, &q)
	if q.RunID == "" || q.Status != "queued" {
		t.Fatalf("trigger = %+v", q)
	}
	r, err := f.st.Run(t.Context(), q.RunID)
	if err != nil || r.Status != state.StatusQueued || r.Workflow != "idle" || r.Trigger != state.TriggerManual {
		t.Fatalf("queued run = %+v, %v", r, err)
	}
	// No worker runs it: a second trigger finds it queued.
	var e apiErr
	f.json("POST", "/api/v1/workflows/idle/trigger", adminTok, 409, &e)
	if !strings.Contains(e.Error, "already queued or running (run "+q.RunID+")") {
		t.Errorf("second trigger: %q", e.Error)
	}
	var c server.TriggerResult
	f.json("POST", "/api/v1/runs/"+q.RunID+"/cancel", adminTok, 202, &c)
	if c.RunID != q.RunID || c.Status != "cancelled" {
		t.Errorf("cancel = %+v", c)
	}
	if r, _ := f.st.Run(t.Context(), q.RunID); r.Status != state.StatusCancelled {
		t.Errorf("cancelled run is %s", r.Status)
	}
}

func TestSessionAndCSRF(t *testing.T) {
	f := newFixture(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(tok, next string) *http.Response {
		resp, err := client.PostForm(f.srv.URL+"/login", url.Values{"token": {tok}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		noSecrets(t, "POST /login", string(b))
		return resp
	}
	if resp := form("nope-not-a-token", "/"); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("sign-in with a wrong token = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp := form(readTok, "//evil.example/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("sign-in = %d to %q; want / (never another site)", resp.StatusCode, resp.Header.Get("Location"))
	}
	readCookie := resp.Cookies()[0]
	if readCookie.Name != "wharf_session" || !readCookie.HttpOnly || readCookie.SameSite != http.SameSiteStrictMode || strings.Contains(readCookie.Value, readTok) {
		t.Errorf("session cookie = %+v", readCookie)
	}
	adminCookie := form(adminTok, "/workflows/orders").Cookies()[0]
	get := func(c *http.Cookie, method, path string, hdr ...string) int {
		req, _ := http.NewRequest(method, f.srv.URL+path, nil)
		req.AddCookie(c)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		noSecrets(t, method+" "+path, string(b))
		return resp.StatusCode
	}
	if code := get(readCookie, "GET", "/"); code != 200 {
		t.Errorf("/ with the read session = %d", code)
	}
	if code := get(readCookie, "POST", "/workflows/idle/trigger"); code != 403 {
		t.Errorf("Run now with the read session = %d, want 403", code)
	}
	// A forged cookie (read session relabelled admin) is refused.
	forged := *readCookie
	forged.Value = "admin" + strings.TrimPrefix(readCookie.Value, "read")
	if code := get(&forged, "GET", "/api/v1/workflows"); code != 401 {
		t.Errorf("forged session = %d, want 401", code)
	}
	// A cross-site form post with the admin session is refused (CSRF).
	if code := get(adminCookie, "POST", "/workflows/idle/trigger", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); code != 403 {
		t.Errorf("cross-site Run now = %d, want 403", code)
	}
	if runs, _ := f.st.Runs(t.Context(), state.RunFilter{Workflow: "idle"}); len(runs) != 0 {
		t.Fatalf("a refused request queued %v", runs)
	}
	if code := get(adminCookie, "POST", "/workflows/idle/trigger", "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Errorf("same-origin Run now = %d, want 303 to the run", code)
	}
	if runs, _ := f.st.Runs(t.Context(), state.RunFilter{Workflow: "idle"}); len(runs) != 1 {
		t.Errorf("Run now queued %d runs, want 1", len(runs))
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, nil)
	code, body, _ := f.do("GET", "/?q=ord", readTok)
	if code != 200 || !strings.Contains(body, `href="/workflows/orders"`) || strings.Contains(body, `href="/workflows/idle"`) {
		t.Errorf("filtered table = %d:\n%s", code, body)
	}
	if strings.Contains(body, "Run now") || strings.Contains(body, "/river/") {
		t.Error("the read role sees admin controls")
	}
	_, body, _ = f.do("GET", "/?sort=rows&dir=desc&status=failed", readTok)
	if !strings.Contains(body, "1 of 3 workflows") {
		t.Errorf("status filter: %s", body)
	}
	_, body, _ = f.do("GET", "/workflows/orders", adminTok)
	for _, want := range []string{"Run now", "<svg", `href="/runs/` + f.ok.ID + `"`, "42 rows", "xxxxx"} {
		if !strings.Contains(body, want) {
			t.Errorf("workflow page lacks %q", want)
		}
	}
	_, body, _ = f.do("GET", "/runs/"+f.ok.ID, readTok)
	if !strings.Contains(body, "shop/orders/part-1.parquet") || strings.Contains(body, `id="cancel"`) {
		t.Errorf("run page: %s", body)
	}
}

func TestManyWorkflowsPaginate(t *testing.T) {
	f := newFixture(t, nil)
	var ds []state.Deployed
	for i := range 1200 {
		n := fmt.Sprintf("wf_%04d", i)
		ds = append(ds, state.Deployed{Name: n, Spec: catalog.EncodeSpec(spec(n, catalog.Schedule{Kind: catalog.OnDemand}))})
	}
	if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Create: ds}); err != nil {
		t.Fatal(err)
	}
	_, body, _ := f.do("GET", "/?page=2", readTok)
	if got := strings.Count(body, `<a href="/workflows/`); got != 100 || !strings.Contains(body, "page 2 of 13") || !strings.Contains(body, "/workflows/wf_0097") {
		t.Errorf("page 2 has %d rows:\n%.2000s", got, body)
	}
}

func TestOpenOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		tok  bool
		ok   bool
	}{
		{"127.0.0.1:8080", false, true}, {"localhost:8080", false, true}, {"[::1]:8080", false, true},
		{"0.0.0.0:8080", false, false}, {":8080", false, false}, {"10.1.2.3:8080", false, false},
		{"0.0.0.0:8080", true, true}, {"nonsense", true, false},
	} {
		err := server.CheckAddr(tc.addr, tc.tok)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%q, token %v) = %v", tc.addr, tc.tok, err)
		}
	}
}

func TestMetricsPublic(t *testing.T) {
	f := newFixture(t, func(c *server.Config) { c.MetricsPublic = true })
	code, body, _ := f.do("GET", "/metrics", "")
	if code != 200 || !strings.Contains(body, `wharf_workflow_last_success_timestamp_seconds{workflow="orders"}`) ||
		!strings.Contains(body, `wharf_workflow_freshness_seconds{workflow="orders"}`) || !strings.Contains(body, `wharf_queue_jobs{state="available"} 0`) {
		t.Errorf("public /metrics = %d:\n%s", code, body)
	}
}
