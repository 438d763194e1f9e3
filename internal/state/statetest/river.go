package statetest

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/wharf-data/wharf/internal/state"
)

type riverArgs struct{ N int }

func (riverArgs) Kind() string { return "statetest" }

// testRiverQueueRun checks Store.River: its client inserts a job in the
// transaction QueueRun hands to enqueue, so the run and its job are
// recorded together or not at all; River's tables are migrated; any other
// transaction type is refused with an error naming both types.
func testRiverQueueRun(t *testing.T, b Backend) {
	s, f := freshFleet(t, b)
	ctx := t.Context()
	c, err := s.River(ctx, &river.Config{SkipUnknownJobCheck: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("River: %v", err)
	}
	r := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual}
	if err := s.QueueRun(ctx, r, func(tx any) (int64, string, error) {
		res, err := c.InsertTx(ctx, tx, riverArgs{N: 1}, nil)
		if err != nil {
			return 0, "", err
		}
		return res.Job.ID, "", nil
	}); err != nil {
		t.Fatalf("QueueRun: %v", err)
	}
	jobID, _, err := f.RunJob(ctx, r.ID)
	if err != nil || jobID == 0 {
		t.Fatalf("RunJob = %d, %v; want the inserted job", jobID, err)
	}
	if job, err := c.JobGet(ctx, jobID); err != nil || job.Kind != "statetest" {
		t.Fatalf("JobGet(%d) = %v, %v", jobID, job, err)
	}
	// A failing enqueue, after River inserted its job, leaves neither.
	failed := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual}
	boom := errors.New("boom")
	if err := s.QueueRun(ctx, failed, func(tx any) (int64, string, error) {
		if _, err := c.InsertTx(ctx, tx, riverArgs{N: 2}, nil); err != nil {
			return 0, "", err
		}
		return 0, "", boom
	}); !errors.Is(err, boom) {
		t.Fatalf("QueueRun with a failing enqueue: %v, want boom", err)
	}
	if _, err := s.Run(ctx, failed.ID); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("the run of a failed enqueue was stored: %v", err)
	}
	jobs, err := c.JobList(ctx, river.NewJobListParams())
	if err != nil || len(jobs.Jobs) != 1 {
		t.Fatalf("JobList = %v, %v; want only the first job", jobs, err)
	}
	if _, err := c.InsertTx(ctx, "not a tx", riverArgs{}, nil); err == nil || !strings.Contains(err.Error(), "string") {
		t.Fatalf("InsertTx of a string: %v, want an error naming the type", err)
	}
}
