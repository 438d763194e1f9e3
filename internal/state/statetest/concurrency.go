package statetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

func testMigrationIdempotent(t *testing.T, b Backend) {
	url := b.NewURL(t)
	s1 := open(t, b, url)
	r := startRun(t, s1, "wf", base)
	wm := &coltype.Watermark{Kind: coltype.Int64, Text: "5"}
	if err := s1.CommitRun(t.Context(), r, []state.File{{Path: "f", Rows: 1, Bytes: 2}}, wm, "id"); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again (twice, one store left open) migrates nothing and loses nothing.
	s2 := open(t, b, url)
	s3 := open(t, b, url)
	for _, s := range []state.Store{s2, s3} {
		checkRun(t, s, r)
		checkWatermark(t, s, "wf", wm, "id")
		if fs := mustFiles(t, s, r.ID); len(fs) != 1 {
			t.Fatalf("files after reopening = %+v", fs)
		}
	}
}

func testConcurrentOpen(t *testing.T, b Backend) {
	url := b.NewURL(t)
	const n = 4
	stores := make([]state.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = b.Open(t.Context(), url) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent Open %d of a fresh database: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		t.FailNow()
	}
	r := startRun(t, stores[0], "wf", base)
	for i, s := range stores {
		if got := mustRun(t, s, r.ID); got.ID != r.ID {
			t.Errorf("store %d sees run %s", i, got.ID)
		}
	}
}

// testConcurrentCommits has two stores on one database run and commit
// runs from several goroutines each, every goroutine on its own workflow
// and all of them also on one shared workflow.
func testConcurrentCommits(t *testing.T, b Backend) {
	url := b.NewURL(t)
	stores := []state.Store{open(t, b, url), open(t, b, url)}
	const workers, perWorker = 3, 8
	type result struct {
		run   *state.Run
		files []state.File
	}
	results := make([][]result, len(stores)*workers)
	errs := make(chan error, len(stores)*workers)
	var wg sync.WaitGroup
	for si, s := range stores {
		for w := range workers {
			slot := si*workers + w
			wf := fmt.Sprintf("wf_%d", slot)
			wg.Go(func() {
				for i := range perWorker {
					for _, workflow := range []string{wf, "shared"} {
						r := &state.Run{ID: newID(), Workflow: workflow, Trigger: state.TriggerSchedule,
							StartedAt: base.Add(time.Duration(i) * time.Second)}
						if err := s.StartRun(t.Context(), r); err != nil {
							errs <- fmt.Errorf("store %d worker %d: %w", si, w, err)
							return
						}
						files := []state.File{
							{Path: fmt.Sprintf("%s/%s/a.parquet", workflow, r.ID), Rows: int64(i), Bytes: 10},
							{Path: fmt.Sprintf("%s/%s/b.parquet", workflow, r.ID), Rows: 1, Bytes: 20},
						}
						r.Rows, r.Bytes = int64(i)+1, 30
						wm := &coltype.Watermark{Kind: coltype.Int64, Text: strconv.Itoa(slot*1000 + i)}
						if err := s.CommitRun(t.Context(), r, files, wm, "id"); err != nil {
							errs <- fmt.Errorf("store %d worker %d: %w", si, w, err)
							return
						}
						if workflow == wf {
							results[slot] = append(results[slot], result{r, files})
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	s := stores[0]
	for slot, rs := range results {
		wf := fmt.Sprintf("wf_%d", slot)
		if len(rs) != perWorker {
			t.Fatalf("workflow %s committed %d runs, want %d", wf, len(rs), perWorker)
		}
		// Each worker committed in order, so its last watermark stands.
		checkWatermark(t, stores[1], wf, &coltype.Watermark{Kind: coltype.Int64, Text: strconv.Itoa(slot*1000 + perWorker - 1)}, "id")
		for _, res := range rs {
			checkRun(t, s, res.run)
			if fs := mustFiles(t, s, res.run.ID); len(fs) != len(res.files) {
				t.Errorf("run %s has %d files, want %d", res.run.ID, len(fs), len(res.files))
			}
		}
	}
	shared, err := s.Runs(t.Context(), state.RunFilter{Workflow: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != len(stores)*workers*perWorker {
		t.Fatalf("shared workflow has %d runs, want %d", len(shared), len(stores)*workers*perWorker)
	}
	for _, r := range shared {
		if r.Status != state.StatusSucceeded || r.Files != 2 {
			t.Errorf("shared run %s: status %s files %d", r.ID, r.Status, r.Files)
		}
	}
	// The shared watermark is the one written by the last commit: some
	// worker's final value, never a mix.
	wm, cursor, err := s.Watermark(t.Context(), "shared")
	if err != nil || wm == nil || cursor != "id" || wm.Kind != coltype.Int64 {
		t.Fatalf("shared watermark = %+v %q %v", wm, cursor, err)
	}
	v, _ := strconv.Atoi(wm.Text)
	if v%1000 >= perWorker || v/1000 >= len(stores)*workers {
		t.Errorf("shared watermark %s is no worker's value", wm.Text)
	}
	if stale, err := s.StaleRuns(t.Context(), ""); err != nil || len(stale) != 0 {
		t.Errorf("stale runs after all commits: %d, %v", len(stale), err)
	}
}

// testCommitRacesFinish has one store commit a run while another marks it
// failed (a cleanup that thinks its process crashed): exactly one wins,
// and the loser changes nothing.
func testCommitRacesFinish(t *testing.T, b Backend) {
	url := b.NewURL(t)
	worker, cleaner := open(t, b, url), open(t, b, url)
	var want *coltype.Watermark // the workflow's watermark so far
	commits, finishes := 0, 0
	for i := range 12 {
		r := startRun(t, worker, "wf", base.Add(time.Duration(i)*time.Second))
		mine, theirs := *r, *r
		theirs.Status, theirs.Error = state.StatusFailed, "abandoned"
		wm := &coltype.Watermark{Kind: coltype.Int64, Text: strconv.Itoa(i)}
		files := []state.File{{Path: fmt.Sprintf("wf/%d.parquet", i), Rows: 1, Bytes: 1}}
		var commitErr, finishErr error
		var wg sync.WaitGroup
		wg.Go(func() { commitErr = worker.CommitRun(t.Context(), &mine, files, wm, "id") })
		wg.Go(func() { finishErr = cleaner.FinishRun(t.Context(), &theirs) })
		wg.Wait()
		switch {
		case commitErr == nil && errors.Is(finishErr, state.ErrNotRunning):
			commits++
			want = wm
			checkRun(t, cleaner, &mine)
			if fs := mustFiles(t, cleaner, r.ID); len(fs) != 1 {
				t.Fatalf("run %d: commit won but files = %+v", i, fs)
			}
		case finishErr == nil && errors.Is(commitErr, state.ErrNotRunning):
			finishes++
			checkRun(t, worker, &theirs)
			if fs := mustFiles(t, worker, r.ID); len(fs) != 0 {
				t.Fatalf("run %d: finish won but files = %+v", i, fs)
			}
		default:
			t.Fatalf("run %d: commit error %v, finish error %v; want exactly one to fail with ErrNotRunning", i, commitErr, finishErr)
		}
		wantCursor := ""
		if want != nil {
			wantCursor = "id"
		}
		checkWatermark(t, worker, "wf", want, wantCursor)
	}
	t.Logf("commit won %d times, finish won %d times", commits, finishes)
}
