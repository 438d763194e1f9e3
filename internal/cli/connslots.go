package cli

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/wharf-data/wharf/internal/catalog"
)

// connSlots keeps the runs of one `wharf run` within each connection's
// max_parallel: a run waits for a slot for its first stream (first), and a
// run read in parallel takes what is free for the others
// (blueprint.Lander.StreamSlots: more). serve and worker do the same
// across the fleet with leases in the state database (internal/engine).
type connSlots struct {
	log  *slog.Logger
	mu   sync.Mutex
	sems map[string]*semaphore.Weighted
}

// sem returns conn's semaphore, nil when conn has no cap.
func (s *connSlots) sem(conn *catalog.Connection) *semaphore.Weighted {
	limit := conn.StreamCap(0)
	if limit == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sems == nil {
		s.sems = map[string]*semaphore.Weighted{}
	}
	w := s.sems[conn.Name]
	if w == nil {
		w = semaphore.NewWeighted(int64(limit))
		s.sems[conn.Name] = w
	}
	return w
}

// first waits for a slot of conn for a run's first stream of workflow wf,
// and returns what gives it back.
func (s *connSlots) first(ctx context.Context, conn *catalog.Connection, wf string) (release func(), err error) {
	w := s.sem(conn)
	if w == nil {
		return func() {}, nil
	}
	if !w.TryAcquire(1) {
		s.log.Info("waiting for a slot: the connection is at its max_parallel", "workflow", wf, "connection", conn.Name, "max_parallel", conn.MaxParallel)
		if err := w.Acquire(ctx, 1); err != nil {
			return nil, err
		}
	}
	return func() { w.Release(1) }, nil
}

// more takes up to want further slots of conn without waiting
// (blueprint.Lander.StreamSlots).
func (s *connSlots) more(_ context.Context, conn *catalog.Connection, _ string, want int) (int, func()) {
	w := s.sem(conn)
	if w == nil {
		return want, func() {}
	}
	got := 0
	for got < want && w.TryAcquire(1) {
		got++
	}
	return got, func() { w.Release(int64(got)) }
}
