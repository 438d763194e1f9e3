package statesqlite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
)

const (
	helperEnv   = "WHARF_STATESQLITE_HELPER_FILE"
	runsPerSide = 150
)

// TestTwoProcessesShareOneFile runs commits from this process and from a
// child process (this test binary re-executed) on one state file at once:
// SQLite's file locks, not just in-process ones, must keep them apart.
func TestTwoProcessesShareOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := statesqlite.Open(t.Context(), path) // migrate before the race
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		out <- b
		errc <- err
	}()
	// Start committing once the child has, so that the two overlap.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		runs, err := s.Runs(t.Context(), state.RunFilter{Workflow: "child", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper process committed nothing within 30s")
		}
	}
	if err := commitRuns(t, s, "parent"); err != nil {
		t.Error(err)
	}
	if runs, err := s.Runs(t.Context(), state.RunFilter{Workflow: "child", Limit: 2 * runsPerSide}); err == nil {
		t.Logf("the child had started %d of %d runs when the parent finished", len(runs), runsPerSide)
	}
	if err := <-errc; err != nil {
		t.Fatalf("helper process: %v\n%s", err, <-out)
	}
	for _, side := range []string{"parent", "child"} {
		runs, err := s.Runs(t.Context(), state.RunFilter{Workflow: side, Limit: 2 * runsPerSide})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != runsPerSide {
			t.Fatalf("workflow %s has %d runs, want %d", side, len(runs), runsPerSide)
		}
		for _, r := range runs {
			fs, err := s.Files(t.Context(), r.ID)
			if err != nil || r.Status != state.StatusSucceeded || len(fs) != 1 {
				t.Errorf("run %s: status %s, files %d, %v", r.ID, r.Status, len(fs), err)
			}
		}
		wm, _, err := s.Watermark(t.Context(), side)
		if err != nil || wm == nil || wm.Text != strconv.Itoa(runsPerSide-1) {
			t.Errorf("watermark of %s = %+v, %v; want %d", side, wm, err, runsPerSide-1)
		}
	}
}

// TestHelperProcess is the child of TestTwoProcessesShareOneFile; it does
// nothing when run normally.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestTwoProcessesShareOneFile")
	}
	s, err := statesqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := commitRuns(t, s, "child"); err != nil {
		t.Fatal(err)
	}
}

func commitRuns(t *testing.T, s state.Store, workflow string) error {
	for i := range runsPerSide {
		r := &state.Run{ID: fmt.Sprintf("%s-%03d", workflow, i), Workflow: workflow, Trigger: state.TriggerSchedule,
			StartedAt: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC)}
		if err := s.StartRun(t.Context(), r); err != nil {
			return err
		}
		files := []state.File{{Path: fmt.Sprintf("%s/%d.parquet", workflow, i), Rows: 1, Bytes: 1}}
		wm := &coltype.Watermark{Kind: coltype.Int64, Text: strconv.Itoa(i)}
		if err := s.CommitRun(t.Context(), r, files, wm, "id"); err != nil {
			return err
		}
	}
	return nil
}
