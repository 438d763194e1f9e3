// Package metrics exports wharf's Prometheus metrics
// (github.com/prometheus/client_golang). Counters count what this process
// landed (in a fleet every process exports its own); gauges read the state
// store at each scrape, so every process reports the same fleet-wide view.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// Metrics holds the collectors of one process.
type Metrics struct {
	Registry *prometheus.Registry
	rows     *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// QueueCounts returns the number of River jobs in each state.
type QueueCounts func(ctx context.Context) (map[string]int, error)

// New registers wharf's metrics, Go's and the process's in a new registry.
// store feeds the freshness gauges, queue (nil = none) wharf_queue_jobs.
func New(store state.Store, queue QueueCounts, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_rows_landed_total", Help: "Rows landed by this process's succeeded runs.",
		}, []string{"workflow"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_bytes_landed_total", Help: "Bytes of Parquet landed by this process's succeeded runs.",
		}, []string{"workflow"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_runs_total", Help: "Runs this process ended, by status.",
		}, []string{"workflow", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wharf_run_duration_seconds", Help: "Duration of the runs this process ended.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200},
		}, []string{"workflow"}),
	}
	m.Registry.MustRegister(m.rows, m.bytes, m.runs, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{store: store, queue: queue, log: log, now: time.Now})
	return m
}

// ObserveRun counts a run this process ended.
func (m *Metrics) ObserveRun(r state.Run) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(r.Workflow, string(r.Status)).Inc()
	if r.Status == state.StatusSucceeded {
		m.rows.WithLabelValues(r.Workflow).Add(float64(r.Rows))
		m.bytes.WithLabelValues(r.Workflow).Add(float64(r.Bytes))
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		m.duration.WithLabelValues(r.Workflow).Observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
}

var (
	freshnessDesc = prometheus.NewDesc("wharf_workflow_freshness_seconds",
		"Now minus the last successful run's upper watermark when it is a time, else its finish time.", []string{"workflow"}, nil)
	lastSuccessDesc = prometheus.NewDesc("wharf_workflow_last_success_timestamp_seconds",
		"When the workflow's last successful run finished (Unix time).", []string{"workflow"}, nil)
	queueDesc = prometheus.NewDesc("wharf_queue_jobs", "River jobs by state.", []string{"state"}, nil)
	upDesc    = prometheus.NewDesc("wharf_state_up", "1 when the last scrape could read the state store.", nil, nil)
)

// stateCollector reads the gauges from the state store at scrape time.
type stateCollector struct {
	store state.Store
	queue QueueCounts
	log   *slog.Logger
	now   func() time.Time
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- freshnessDesc
	ch <- lastSuccessDesc
	ch <- queueDesc
	ch <- upDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := c.now()
	up := 1.0
	ws, err := status.Workflows(ctx, c.store, now)
	if err != nil {
		c.log.Warn("metrics: read workflows", "err", err)
		up = 0
	}
	for _, w := range ws {
		if w.LastSucceeded == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(freshnessDesc, prometheus.GaugeValue, status.Freshness(*w.LastSucceeded, now).Seconds(), w.Workflow)
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue,
			float64(w.LastSucceeded.FinishedAt.UnixMicro())/1e6, w.Workflow)
	}
	if c.queue != nil {
		counts, err := c.queue(ctx)
		if err != nil {
			c.log.Warn("metrics: count jobs", "err", err)
			up = 0
		}
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), st)
		}
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
}
