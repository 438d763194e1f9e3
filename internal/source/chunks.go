package source

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

const (
	// ChunksPerStream: a window read by N streams is cut into about 4N
	// chunks, so that a stream done early takes another instead of idling
	// while the last one reads a dense part of the table.
	ChunksPerStream = 4
	// MinChunkKeys is the narrowest chunk of a primary-key split.
	MinChunkKeys = 1024
)

// KeyChunks cuts the integer key range [lo, hi] into up to want ranges of
// equal width, none narrower than minWidth keys (at least one range), and
// returns one predicate per range on the quoted key column: the first is
// open below and the last open above, so together they cover every key.
func KeyChunks(ident string, lo, hi int64, want, minWidth int) []string {
	width := new(big.Int).Sub(big.NewInt(hi), big.NewInt(lo))
	width.Add(width, big.NewInt(1))
	n := max(want, 1)
	if per := new(big.Int).Div(width, big.NewInt(int64(max(minWidth, 1)))); per.IsInt64() && per.Int64() < int64(n) {
		n = int(max(per.Int64(), 1))
	}
	bound := func(k int) string { // lo + width*k/n
		b := new(big.Int).Mul(width, big.NewInt(int64(k)))
		b.Div(b, big.NewInt(int64(n)))
		return b.Add(b, big.NewInt(lo)).String()
	}
	preds := make([]string, n)
	for k := range n {
		var conds []string
		if k > 0 {
			conds = append(conds, ident+" >= "+bound(k))
		}
		if k < n-1 {
			conds = append(conds, ident+" < "+bound(k+1))
		}
		preds[k] = strings.Join(conds, " AND ")
	}
	return preds
}

// ReadChunks reads chunks 0..chunks-1 in up to streams goroutines, which
// take the chunks in turn, and returns the rows read. stream(ctx, i, read)
// runs stream i: it sets up what the stream reads with (stream 0 usually
// the connection that decided the window, the others new ones), calls read
// with its chunk reader, and tears down. The first error cancels the
// others' ctx and is returned, naming the chunk. chunkDone, if not nil, is
// called after each chunk with the chunks done and the total, one call at a
// time.
func ReadChunks(ctx context.Context, streams, chunks int, chunkDone func(done, total int),
	stream func(ctx context.Context, i int, read func(readChunk func(chunk int) (int64, error)) error) error) (int64, error) {
	var (
		next, rows atomic.Int64
		mu         sync.Mutex
		done       int
	)
	g, gctx := errgroup.WithContext(ctx)
	for i := range min(streams, chunks) {
		g.Go(func() error {
			return stream(gctx, i, func(readChunk func(chunk int) (int64, error)) error {
				for {
					k := int(next.Add(1)) - 1
					if k >= chunks {
						return nil
					}
					n, err := readChunk(k)
					if err != nil {
						if chunks > 1 {
							err = fmt.Errorf("chunk %d of %d: %w", k+1, chunks, err)
						}
						return err
					}
					rows.Add(n)
					if chunkDone != nil {
						mu.Lock()
						done++
						chunkDone(done, chunks)
						mu.Unlock()
					}
				}
			})
		})
	}
	err := g.Wait()
	return rows.Load(), err
}

// PlanBase is the part of a Plan that every source keeps alike: the
// window's Result and Shared part, and whether the plan is closed. A
// source's plan embeds it, checks CheckOpen before reading a chunk and
// ends its snapshot in Close only when Closing says so.
type PlanBase struct {
	Res    Result
	Share  SharedPlan
	closed bool
}

func (b *PlanBase) Result() Result     { return b.Res }
func (b *PlanBase) Shared() SharedPlan { return b.Share }

// CheckOpen is Read's error for chunk k of table ref once the plan is
// closed.
func (b *PlanBase) CheckOpen(ref TableRef, k int) error {
	if b.closed {
		return fmt.Errorf("extract table %s: chunk %d: the plan is closed", ref, k+1)
	}
	return nil
}

// Closing marks the plan closed and reports whether it was open: Close
// ends the snapshot only then, so that it may be called more than once.
func (b *PlanBase) Closing() bool {
	was := b.closed
	b.closed = true
	return !was
}

// Chunk returns chunk k's predicate, or an error naming table ref when
// the plan has no chunk k.
func (sp SharedPlan) Chunk(ref TableRef, k int) (string, error) {
	if k < 0 || k >= len(sp.Chunks) {
		return "", fmt.Errorf("extract table %s: chunk %d of a plan of %d chunks", ref, k+1, len(sp.Chunks))
	}
	return sp.Chunks[k], nil
}

// ExtractChunks is Parallel.ExtractParallel for a Chunked source, the way
// the chunks of a run are read by any process: it plans the window for
// len(sinks) streams; stream 0 reads on the plan's own connection, the
// others open their own (OpenChunks).
func ExtractChunks(ctx context.Context, cs Chunked, req Request, sinks []RecordSink, chunkDone func(done, total int)) (Result, error) {
	if _, err := req.CheckSinks(sinks); err != nil {
		return Result{}, err
	}
	p, err := cs.PlanChunks(ctx, req, len(sinks))
	if err != nil {
		return Result{}, err
	}
	defer p.Close(context.Background()) //nolint:errcheck // a no-op after the Close below
	res, shared := p.Result(), p.Shared()
	streams := min(len(sinks), len(shared.Chunks))
	res.Rows, err = ReadChunks(ctx, streams, len(shared.Chunks), chunkDone, func(ctx context.Context, i int, read func(func(int) (int64, error)) error) error {
		if i == 0 {
			return read(func(k int) (int64, error) { return p.Read(ctx, k, sinks[0]) })
		}
		r, err := cs.OpenChunks(ctx, req, shared)
		if err != nil {
			return fmt.Errorf("stream %d: %w", i+1, err)
		}
		defer r.Close()
		return read(func(k int) (int64, error) { return r.Read(ctx, k, sinks[i]) })
	})
	if err != nil {
		return Result{}, err
	}
	if err := p.Close(ctx); err != nil {
		return Result{}, err
	}
	return res, nil
}
