package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestConsoleInABrowser drives wharf serve --http with Debian's chromium:
// sign in, see the workflow table, open a workflow, press Run now and see
// the run succeed; then checks the metrics show its rows, that one failed
// run sends exactly one alert, and that no page, API answer, metric or log
// line holds a secret. With WHARF_SCREENSHOTS=DIR it saves the table and
// the workflow page there as PNG (docs/ holds the ones in the README).
func TestConsoleInABrowser(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testdb.Unavailable(t, "chromium (apt-get install -y chromium; scripts/test-services.sh installs it)", err)
	}
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "q")
	// A state of its own: the quickstart's runs are not in it, so Run now
	// lands every row of hr_regions again.
	st := "sqlite:" + filepath.Join(dir, "state.db")
	mustWharf(t, dir, nil, "deploy", "-c", "q/wharf.yaml", "--state", st)

	const (
		admin    = "console-admin-5d1f0e2b7a"
		read     = "console-read-93c2a61d4e"
		hookPath = "/services/T000/B000/hook-secret-8e7d6c5b4a"
	)
	var mu sync.Mutex
	var alerts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != hookPath || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", 400)
			return
		}
		mu.Lock()
		alerts = append(alerts, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	env := []string{"CONSOLE_ADMIN=" + admin, "CONSOLE_READ=" + read, "CONSOLE_HOOK=" + hook.URL + hookPath}
	d, base := serveConsole(t, dir, env, "serve", "--state", st, "--http-token", "env:CONSOLE_ADMIN",
		"--http-read-token", "env:CONSOLE_READ", "--alert-webhook", "env:CONSOLE_HOOK", "--poll-interval", "50ms")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.WindowSize(1280, 860))
	actx, cancelA := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first call starts the browser, on a context without a timeout.
	if err := chromedp.Do(bctx); err != nil {
		testdb.Unavailable(t, "chromium", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	shots := os.Getenv("WHARF_SCREENSHOTS")
	var pages []string
	// look records the page's HTML (scanned for secrets at the end) and
	// saves a screenshot when asked.
	look := func(shot string) {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		pages = append(pages, h)
		if shots == "" || shot == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(shots, shot), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("browser: %s: %v\nwharf output:\n%s", what, err, d.stderr)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}

	do("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), admin), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#workflows")))
	table := text("#workflows tbody")
	look("")
	do("open hr_regions", chromedp.Click(chromedp.CSS(`a[href="/workflows/hr_regions"]`)), chromedp.WaitVisible(chromedp.CSS("#run-now")))
	look("")
	do("Run now", chromedp.Click(chromedp.CSS("#run-now")))
	// The run page reloads itself every 2 s until the run ends, so a query
	// can lose its node to a reload ("Could not find node with given id"):
	// ask again until the final page is there; it does not reload.
	for deadline := time.Now().Add(90 * time.Second); ; {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#run-status.succeeded") !== null`))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: Run now: the run page never showed a succeeded run (last error: %v)\nwharf output:\n%s", err, d.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	runStatus, rows := text("#run-status"), text("#run-rows")
	look("")
	do("back to hr_regions", chromedp.Click(chromedp.CSS(`a[href="/workflows/hr_regions"]`)), chromedp.WaitVisible(chromedp.CSS("#runs")))
	look("")
	for _, wf := range []string{"hr_regions", "hr_employees", "hr_job_history"} {
		if !strings.Contains(table, wf) {
			t.Errorf("workflow table lacks %s:\n%s", wf, table)
		}
	}
	if runStatus != "succeeded" || rows != "4" {
		t.Errorf("Run now: status %q, rows %q; want succeeded, 4", runStatus, rows)
	}

	// A failed run sends exactly one alert.
	db, err := sql.Open("sqlite", filepath.Join(dir, "q", "source", "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE jobs RENAME TO jobs_gone`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	get := func(path, token string) (int, string) {
		t.Helper()
		code, body := request(t, "GET", base+path, token)
		pages = append(pages, body)
		return code, body
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/workflows/hr_jobs/trigger", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("trigger hr_jobs: %v %v", resp, err)
	}
	resp.Body.Close()
	waitUntil(t, 30*time.Second, "an alert", func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) > 0 })
	time.Sleep(3 * time.Second) // a second message would come within this
	mu.Lock()
	if len(alerts) != 1 || !strings.Contains(alerts[0], `"text":"wharf: run `) || !strings.Contains(alerts[0], "of workflow hr_jobs failed") {
		t.Errorf("alerts = %q, want one about hr_jobs", alerts)
	}
	mu.Unlock()

	// Metrics show the rows of the run pressed in the browser, and the failure.
	if code, _ := get("/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token = %d", code)
	}
	_, m := get("/metrics", read)
	for _, re := range []string{`wharf_rows_landed_total\{workflow="hr_regions"\} 4\n`, `wharf_runs_total\{status="failed",workflow="hr_jobs"\} 1\n`,
		`wharf_workflow_last_success_timestamp_seconds\{workflow="hr_regions"\} \d`, `wharf_queue_jobs\{state="completed"\} \d`,
		`wharf_run_duration_seconds_count\{workflow="hr_regions"\} 1\n`} {
		if !regexp.MustCompile(re).MatchString(m) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
	get("/api/v1/workflows", read)
	get("/api/v1/runs?limit=50", read)
	if code, _ := get("/river/", read); code != http.StatusForbidden {
		t.Errorf("/river/ with the read token = %d, want 403", code)
	}
	if code, _ := get("/river/api/jobs?state=completed", admin); code != 200 {
		t.Errorf("River's job API with the admin token = %d", code)
	}
	// Two more runs of hr_regions (nothing new to land), then the pages
	// the README shows.
	for range 2 {
		do("Run now again", chromedp.Navigate(base+"/workflows/hr_regions"), chromedp.WaitVisible(chromedp.CSS("#run-now")),
			chromedp.Click(chromedp.CSS("#run-now")), chromedp.WaitVisible(chromedp.CSS("#run-status.succeeded")))
	}
	do("table", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#workflows")))
	look("console-workflows.png")
	do("workflow page", chromedp.Navigate(base+"/workflows/hr_regions"), chromedp.WaitVisible(chromedp.CSS("#runs")))
	look("console-workflow.png")
	d.stop(t, 30*time.Second)
	pages = append(pages, d.stderr.String())
	for i, p := range pages {
		for _, s := range []string{admin, read, "hook-secret-8e7d6c5b4a"} {
			if strings.Contains(p, s) {
				t.Errorf("output %d holds the secret %s…:\n%.500s", i, s[:8], p)
			}
		}
	}
	if t.Failed() {
		fmt.Println(d.stderr)
	}
}
