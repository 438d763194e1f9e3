package engine

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/riverqueue/river/riverdriver"
	"riverqueue.com/riverui"
)

// JobCounts returns how many River jobs are in each state (for
// wharf_queue_jobs).
func (e *Engine) JobCounts(ctx context.Context) (map[string]int, error) { return e.q.counts(ctx) }

// RiverUI builds River's own job UI (riverqueue.com/riverui) over this
// engine's River client, to be served under prefix. It runs until ctx is
// done.
func (e *Engine) RiverUI(ctx context.Context, prefix string, log *slog.Logger) (http.Handler, error) {
	return e.q.riverUI(ctx, prefix, log)
}

func (q *riverQueue) counts(ctx context.Context) (map[string]int, error) {
	m, err := q.client.Executor().JobCountByAllStates(ctx, &riverdriver.JobCountByAllStatesParams{Schema: q.client.Schema()})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(m))
	for st, n := range m {
		out[string(st)] = n
	}
	return out, nil
}

func (q *riverQueue) riverUI(ctx context.Context, prefix string, log *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: q.client.UIEndpoints(),
		Logger:    log,
		Prefix:    prefix,
	})
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, err
	}
	return h, nil
}
