package statetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/state"
)

// testChunks checks state.Chunks: chunks are recorded with their jobs
// (both or neither), claimed by one live process at a time, claimed again
// from a dead one, put back by a failure, and done with their files.
func testChunks(t *testing.T, b Backend) {
	s, f := freshFleet(t, b)
	ctx := t.Context()
	w := state.Worker{ID: "w", Host: "h", PID: 1, Role: "serve", DeadAfter: time.Hour}
	dead := state.Worker{ID: "dead", Host: "h", PID: 2, Role: "worker"} // trusted 45s
	for _, x := range []*state.Worker{&w, &dead} {
		if err := f.Heartbeat(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	run := startRun(t, s, "orders", now)

	var native any
	if err := s.RecordChunks(ctx, run.ID, "orders", 3, func(tx any) error { native = tx; return nil }); err != nil {
		t.Fatalf("RecordChunks: %v", err)
	}
	if native == nil {
		t.Fatal("RecordChunks did not hand its transaction to enqueue")
	}
	// A failing enqueue records no chunk.
	other := startRun(t, s, "orders", now)
	boom := errors.New("boom")
	if err := s.RecordChunks(ctx, other.ID, "orders", 2, func(any) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("RecordChunks with a failing enqueue: %v, want boom", err)
	}
	if cs, err := s.RunChunks(ctx, other.ID); err != nil || len(cs) != 0 {
		t.Fatalf("chunks of a failed RecordChunks: %+v, %v; want none", cs, err)
	}
	if err := s.RecordChunks(ctx, newID(), "orders", 2, nil); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("RecordChunks of a missing run: %v, want ErrNotFound", err)
	}
	if err := s.RecordChunks(ctx, other.ID, "customers", 2, nil); !errors.Is(err, state.ErrNotRunning) {
		t.Fatalf("RecordChunks naming another workflow: %v, want ErrNotRunning", err)
	}

	claim := func(chunk int, worker string, at time.Time, want int) {
		t.Helper()
		got, err := s.ClaimChunk(ctx, run.ID, chunk, worker, at)
		if err != nil || got != want {
			t.Fatalf("ClaimChunk(%d, %s) = %d, %v; want attempt %d", chunk, worker, got, err, want)
		}
	}
	claim(0, "w", now, 1)
	claim(0, "dead", now, 0) // running on a live process
	claim(1, "dead", now, 1)
	claim(1, "w", now, 0)
	claim(1, "w", now.Add(time.Minute), 2) // dead is past its dead-after
	if err := s.FinishChunk(ctx, run.ID, 1, "dead", 5, nil); !errors.Is(err, state.ErrChunkLost) {
		t.Fatalf("FinishChunk by the process it was taken from: %v, want ErrChunkLost", err)
	}
	if err := s.FailChunk(ctx, run.ID, 0, "w", "connection reset"); err != nil {
		t.Fatal(err)
	}
	claim(0, "w", now, 2)
	files := []state.File{{Path: "db/t/part-x-c0000-00000.parquet", Rows: 7, Bytes: 100}, {Path: "db/t/part-x-c0000-00001.parquet", Rows: 3, Bytes: 50}}
	if err := s.FinishChunk(ctx, run.ID, 0, "w", 10, files); err != nil {
		t.Fatal(err)
	}
	claim(0, "w", now.Add(time.Hour*2), 0) // done stays done
	if err := s.FailChunk(ctx, run.ID, 0, "w", "late"); !errors.Is(err, state.ErrChunkLost) {
		t.Fatalf("FailChunk of a done chunk: %v, want ErrChunkLost", err)
	}
	claim(9, "w", now, 0) // no such chunk

	cs, err := s.RunChunks(ctx, run.ID)
	if err != nil || len(cs) != 3 {
		t.Fatalf("RunChunks = %+v, %v; want 3", cs, err)
	}
	c0 := cs[0]
	if c0.Status != state.ChunkDone || c0.WorkerID != "w" || c0.Attempts != 2 || c0.Rows != 10 || c0.Bytes != 150 || c0.Error != "" ||
		!reflect.DeepEqual(c0.Files, []state.File{{Path: files[0].Path, Rows: 7, Bytes: 100}, {Path: files[1].Path, Rows: 3, Bytes: 50}}) {
		t.Fatalf("chunk 0 = %+v", c0)
	}
	if c1 := cs[1]; c1.Status != state.ChunkRunning || c1.WorkerID != "w" || c1.Attempts != 2 {
		t.Fatalf("chunk 1 = %+v, want running on w, attempt 2", c1)
	}
	if c2 := cs[2]; c2.Status != state.ChunkPending || c2.WorkerID != "" || c2.Attempts != 0 || c2.Chunk != 2 {
		t.Fatalf("chunk 2 = %+v, want pending", c2)
	}

	// Once the run ended, nothing is claimed.
	run.Status, run.Error = state.StatusFailed, "abandoned"
	if err := s.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	claim(2, "w", now, 0)
	if err := s.FinishChunk(ctx, run.ID, 1, "w", 5, nil); !errors.Is(err, state.ErrChunkLost) {
		t.Fatalf("FinishChunk of an ended run: %v, want ErrChunkLost", err)
	}
}
