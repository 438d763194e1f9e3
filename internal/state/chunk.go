package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ChunkStatus is where one chunk of a run read in parallel streams is.
type ChunkStatus string

// Chunk statuses.
const (
	ChunkPending ChunkStatus = "pending" // to be read (again)
	ChunkRunning ChunkStatus = "running" // a stream on WorkerID reads it
	ChunkDone    ChunkStatus = "done"    // read; its files are in the lake
)

// Chunk is one chunk of a run read in parallel streams (Chunks).
type Chunk struct {
	RunID    string
	Chunk    int
	Status   ChunkStatus
	WorkerID string // the process reading it, or that read it ("" = none yet)
	Attempts int    // how many times it was claimed
	Rows     int64
	Bytes    int64
	Files    []File // the files it wrote (done); RunID and Workflow left empty
	Error    string // why its last attempt failed ("" = none)
	Updated  time.Time
}

// ErrChunkLost is wrapped by FinishChunk and FailChunk errors when the chunk
// is not running on the caller's process any more: another process took it
// over (the caller was judged dead), or the run ended.
var ErrChunkLost = errors.New("chunk is not running on this process any more")

// Chunks keeps the chunks of runs read in parallel streams, so that the
// processes of a fleet share one run: each chunk is claimed by one
// stream at a time, a chunk of a dead process is claimed again, and the
// run commits when every chunk is done. Both backends implement it;
// package statetest's RunChunks checks them.
type Chunks interface {
	// RecordChunks records chunks 0..n-1 of running run runID as pending
	// and calls enqueue with the transaction (Tx.Native) in which they are
	// recorded, so that their River jobs are inserted with them or not at
	// all. It wraps ErrNotRunning when the run is not running.
	RecordChunks(ctx context.Context, runID, workflow string, n int, enqueue func(tx any) error) error
	// ClaimChunk marks the chunk running on workerID when it is pending, or
	// running on a process not alive at now (Worker.Alive), and its run is
	// running; it returns the attempt this claim starts (1 for the first),
	// or 0 when it claimed nothing (done, running on a live process, the
	// run ended, or no such chunk).
	ClaimChunk(ctx context.Context, runID string, chunk int, workerID string, now time.Time) (int, error)
	// FinishChunk records the chunk done with its files, rows and bytes, in
	// one transaction, provided it is still running on workerID and its run
	// is running (else it wraps ErrChunkLost and changes nothing: the
	// caller removes the chunk's files, which no commit will take).
	FinishChunk(ctx context.Context, runID string, chunk int, workerID string, rows int64, files []File) error
	// FailChunk puts the chunk back to pending with why, provided it is
	// still running on workerID (else it wraps ErrChunkLost).
	FailChunk(ctx context.Context, runID string, chunk int, workerID, why string) error
	// RunChunks lists the chunks of a run by number (none: not read in
	// chunks).
	RunChunks(ctx context.Context, runID string) ([]Chunk, error)
}

var _ Chunks = (*SQLStore)(nil)

// chunkFile is a chunk's file as the files column keeps it.
type chunkFile struct {
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// RecordChunks records a run's chunks as pending, with their jobs.
func (s *SQLStore) RecordChunks(ctx context.Context, runID, workflow string, n int, enqueue func(tx any) error) error {
	if n < 1 {
		return fmt.Errorf("record chunks of run %s: %d chunks", runID, n)
	}
	err := s.inTx(ctx, func(tx Tx) error {
		var status RunStatus
		var wf string
		found := false
		if err := queryEach(ctx, tx, func(rows Rows) error { found = true; return rows.Scan(&status, &wf) }, s.q.RunStatus, runID); err != nil {
			return err
		}
		if !found {
			return NotFound("record chunks of", runID)
		}
		if wf != workflow || status != StatusRunning {
			return NotRunning("record chunks of", runID, workflow, wf, string(status))
		}
		now := s.d.Time(s.Now())
		for k := range n {
			if _, err := tx.Exec(ctx, s.q.InsertChunk, runID, k, workflow, now); err != nil {
				return s.d.InterpretError(err)
			}
		}
		if enqueue != nil {
			if err := enqueue(tx.Native()); err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d chunks of run %s: %w", n, runID, err)
	}
	return nil
}

// ClaimChunk takes a chunk for a stream on workerID.
func (s *SQLStore) ClaimChunk(ctx context.Context, runID string, chunk int, workerID string, now time.Time) (int, error) {
	if workerID == "" {
		return 0, fmt.Errorf("claim chunk %d of run %s: no process ID", chunk, runID)
	}
	attempt := 0
	err := s.inTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, s.q.ClaimChunk, workerID, s.d.Time(s.Now()), runID, chunk, s.d.Time(Time(now)))
		if err != nil || n == 0 {
			return err
		}
		return queryEach(ctx, tx, func(rows Rows) error { return rows.Scan(&attempt) }, s.q.ChunkAttempts, runID, chunk)
	})
	if err != nil {
		return 0, fmt.Errorf("claim chunk %d of run %s: %w", chunk, runID, err)
	}
	return attempt, nil
}

// FinishChunk records a chunk done.
func (s *SQLStore) FinishChunk(ctx context.Context, runID string, chunk int, workerID string, rows int64, files []File) error {
	cf := make([]chunkFile, len(files))
	var bytes int64
	for i, f := range files {
		cf[i] = chunkFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes}
		bytes += f.Bytes
	}
	js, err := json.Marshal(cf)
	if err != nil {
		return err
	}
	n, err := s.d.Executor().Exec(ctx, s.q.FinishChunk, rows, bytes, string(js), s.d.Time(s.Now()), runID, chunk, workerID)
	if err != nil {
		return fmt.Errorf("record chunk %d of run %s done: %w", chunk, runID, err)
	}
	if n == 0 {
		return fmt.Errorf("record chunk %d of run %s done: %w", chunk, runID, ErrChunkLost)
	}
	return nil
}

// FailChunk puts a chunk back to pending.
func (s *SQLStore) FailChunk(ctx context.Context, runID string, chunk int, workerID, why string) error {
	n, err := s.d.Executor().Exec(ctx, s.q.FailChunk, why, s.d.Time(s.Now()), runID, chunk, workerID)
	if err != nil {
		return fmt.Errorf("record chunk %d of run %s failed: %w", chunk, runID, err)
	}
	if n == 0 {
		return fmt.Errorf("record chunk %d of run %s failed: %w", chunk, runID, ErrChunkLost)
	}
	return nil
}

// RunChunks lists a run's chunks.
func (s *SQLStore) RunChunks(ctx context.Context, runID string) ([]Chunk, error) {
	var out []Chunk
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		c := Chunk{RunID: runID}
		var worker *string
		var files string
		if err := rows.Scan(&c.Chunk, &c.Status, &worker, &c.Attempts, &c.Rows, &c.Bytes, &files, &c.Error, TimeDest(&c.Updated)); err != nil {
			return err
		}
		if worker != nil {
			c.WorkerID = *worker
		}
		var cf []chunkFile
		if err := json.Unmarshal([]byte(files), &cf); err != nil {
			return fmt.Errorf("chunk %d: files: %w", c.Chunk, err)
		}
		for _, f := range cf {
			c.Files = append(c.Files, File{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		}
		out = append(out, c)
		return nil
	}, s.q.Chunks, runID)
	if err != nil {
		return nil, fmt.Errorf("list chunks of run %s: %w", runID, err)
	}
	return out, nil
}
