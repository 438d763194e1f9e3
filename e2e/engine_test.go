package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a background process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// daemon is a wharf serve/worker process running in the background.
type daemon struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

// startWharf starts wharf in the background; the process is killed when
// the test ends if it is still running.
func startWharf(t *testing.T, dir string, env []string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(wharfBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	d := &daemon{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wharf %v: %v", args, err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("wharf %s (pid %d) output:\n%s", strings.Join(args, " "), cmd.Process.Pid, d.stderr)
		}
	})
	return d
}

// stop sends SIGTERM and waits up to limit for a clean exit.
func (d *daemon) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("wharf exited with %v after SIGTERM:\n%s", err, d.stderr)
		}
	case <-time.After(limit):
		t.Fatalf("wharf did not stop within %s of SIGTERM:\n%s", limit, d.stderr)
	}
}

// runJSON mirrors the `wharf runs --json` contract.
type runJSON struct {
	ID            string  `json:"id"`
	Workflow      string  `json:"workflow"`
	Trigger       string  `json:"trigger"`
	Status        string  `json:"status"`
	StartedAt     *string `json:"started_at"`
	FinishedAt    *string `json:"finished_at"`
	Rows          int64   `json:"rows"`
	Bytes         int64   `json:"bytes"`
	Files         int     `json:"files"`
	WatermarkFrom *string `json:"watermark_from"`
	WatermarkTo   *string `json:"watermark_to"`
	Error         string  `json:"error"`
	// Left out when the run recorded no schema / none changed.
	SchemaHash   string          `json:"schema_hash"`
	SchemaChange json.RawMessage `json:"schema_change"`
}

func runsJSON(t *testing.T, dir string, env []string, args ...string) []runJSON {
	t.Helper()
	r := mustWharf(t, dir, env, append([]string{"runs", "--json"}, args...)...)
	var out []runJSON
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, r)
	}
	return out
}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestServeTriggerRuns deploys the quickstart catalog, runs wharf serve in
// the background, triggers two workflows with --wait, and checks the
// runs --json and status --json contracts and a clean SIGTERM stop.
func TestServeTriggerRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	env := []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "engine.db"), "WHARF_CATALOG=" + filepath.Join(dir, "qs", "wharf.yaml")}
	mustWharf(t, dir, env, "deploy")
	serve := startWharf(t, dir, env, "serve", "--poll-interval", "50ms")

	r := mustWharf(t, dir, env, "trigger", "hr_regions", "hr_employees", "--wait", "--timeout", "60s")
	ids := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(ids) != 2 || !uuidLine.MatchString(ids[0]) || !uuidLine.MatchString(ids[1]) {
		t.Fatalf("trigger printed %q, want two run IDs", r.stdout)
	}
	for _, want := range []string{"hr_regions " + ids[0] + ": succeeded, 4 rows, 1 files", "hr_employees " + ids[1] + ": succeeded, 107 rows, 1 files"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("trigger --wait stderr lacks %q:\n%s", want, r)
		}
	}

	runs := runsJSON(t, dir, env)
	if len(runs) != 2 {
		t.Fatalf("runs --json: %d runs, want 2: %+v", len(runs), runs)
	}
	byID := map[string]runJSON{runs[0].ID: runs[0], runs[1].ID: runs[1]}
	for i, wf := range []string{"hr_regions", "hr_employees"} {
		got := byID[ids[i]]
		if got.Workflow != wf || got.Trigger != "manual" || got.Status != "succeeded" || got.StartedAt == nil ||
			got.FinishedAt == nil || got.Files != 1 || got.Bytes <= 0 || got.WatermarkFrom != nil || got.WatermarkTo == nil || got.Error != "" {
			t.Fatalf("run %s: %+v", ids[i], got)
		}
	}
	if byID[ids[0]].Rows != 4 || byID[ids[1]].Rows != 107 {
		t.Fatalf("rows %d and %d, want 4 and 107", byID[ids[0]].Rows, byID[ids[1]].Rows)
	}
	// The exact keys of the contract, in order.
	raw := mustWharf(t, dir, env, "runs", "--json", "--limit", "1").stdout
	keys := regexp.MustCompile(`(?m)^    "([a-z_]+)":`).FindAllStringSubmatch(raw, -1)
	var got []string
	for _, k := range keys {
		got = append(got, k[1])
	}
	// A succeeded run records the schema it landed (schema_change appears
	// only when it differs from the previous run's).
	want := []string{"id", "workflow", "trigger", "status", "started_at", "finished_at", "rows", "bytes", "files", "watermark_from", "watermark_to", "error", "schema_hash"}
	if !slices.Equal(got, want) {
		t.Fatalf("runs --json keys %v, want %v", got, want)
	}
	if one := runsJSON(t, dir, env, "hr_regions"); len(one) != 1 || one[0].ID != ids[0] {
		t.Fatalf("runs hr_regions --json = %+v", one)
	}

	// A second trigger of hr_regions lands nothing new, from the watermark.
	r = mustWharf(t, dir, env, "trigger", "hr_regions", "--wait", "--timeout", "60s")
	if !strings.Contains(r.stderr, ": succeeded, 0 rows, 0 files") {
		t.Fatalf("second trigger: %s", r)
	}

	var status struct {
		Workflows []struct {
			Workflow         string   `json:"workflow"`
			Enabled          bool     `json:"enabled"`
			Schedule         string   `json:"schedule"`
			LastRun          *runJSON `json:"last_run"`
			Watermark        *string  `json:"watermark"`
			FreshnessSeconds *float64 `json:"freshness_seconds"`
		} `json:"workflows"`
		Workers []struct {
			Role  string `json:"role"`
			Alive bool   `json:"alive"`
		} `json:"workers"`
	}
	sr := mustWharf(t, dir, env, "status", "--json")
	if err := json.Unmarshal([]byte(sr.stdout), &status); err != nil {
		t.Fatalf("status --json: %v\n%s", err, sr)
	}
	if len(status.Workflows) != 7 || len(status.Workers) != 1 || !status.Workers[0].Alive || status.Workers[0].Role != "serve" {
		t.Fatalf("status: %+v", status)
	}
	for _, w := range status.Workflows {
		switch w.Workflow {
		case "hr_regions":
			if w.LastRun == nil || w.LastRun.Status != "succeeded" || w.Watermark == nil || w.FreshnessSeconds == nil || w.Schedule != "on demand" {
				t.Fatalf("status of hr_regions: %+v", w)
			}
		case "hr_jobs":
			if w.LastRun != nil || w.Watermark != nil || w.FreshnessSeconds != nil {
				t.Fatalf("status of never-run hr_jobs: %+v", w)
			}
		}
	}
	if st := mustWharf(t, dir, env, "status").stdout; !strings.Contains(st, "7 workflow(s); 1 wharf process(es) alive") {
		t.Fatalf("status:\n%s", st)
	}

	// Errors: unknown workflow, unknown run.
	if r := wharf(t, dir, env, "trigger", "nope"); r.code != 1 || !strings.Contains(r.stderr, "no workflow nope is deployed") || r.stdout != "" {
		t.Fatalf("trigger nope: %s", r)
	}
	if r := wharf(t, dir, env, "cancel", "01234567-89ab-7def-8123-456789abcdef"); r.code != 1 || !strings.Contains(r.stderr, "no run 01234567-89ab-7def-8123-456789abcdef (wharf runs lists run IDs)") {
		t.Fatalf("cancel unknown run: %s", r)
	}
	if r := wharf(t, dir, env, "cancel", ids[0]); r.code != 1 || !strings.Contains(r.stderr, "it is succeeded") {
		t.Fatalf("cancel finished run: %s", r)
	}

	serve.stop(t, 20*time.Second)
	if !strings.Contains(serve.stderr.String(), "engine stopped") {
		t.Fatalf("serve output lacks a clean stop:\n%s", serve.stderr)
	}
	var after struct {
		Workers []struct {
			Alive bool `json:"alive"`
		} `json:"workers"`
	}
	if err := json.Unmarshal([]byte(mustWharf(t, dir, env, "status", "--json").stdout), &after); err != nil || len(after.Workers) != 1 || after.Workers[0].Alive {
		t.Fatalf("after stop, workers = %+v (%v); want one, not alive", after.Workers, err)
	}
}

// waitUntil polls cond every 100ms up to limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
