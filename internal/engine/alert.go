package engine

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/wharf-data/wharf/internal/alert"
	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// River job kinds and queue of alerts.
const (
	KindAlert     = "wharf_alert"
	KindFreshness = "wharf_freshness"
	QueueAlert    = "wharf_alert"
)

// AlertArgs is one alert: post Text to the webhook that the secret
// reference Webhook names. Alerts are unique by Event in every state River
// keeps, so an event is sent once however many processes notice it; River
// retries a failed post with the engine's backoff.
type AlertArgs struct {
	Event    string `json:"event" river:"unique"`
	Workflow string `json:"workflow"`
	Text     string `json:"text"`
	Webhook  string `json:"webhook"` // a secret reference, never the URL
}

// Kind is the River job kind.
func (AlertArgs) Kind() string { return KindAlert }

func alertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: QueueAlert, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type alertWorker struct {
	river.WorkerDefaults[AlertArgs]
	e      *Engine
	client *http.Client
}

func (w *alertWorker) Timeout(*river.Job[AlertArgs]) time.Duration { return 30 * time.Second }

func (w *alertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	a := job.Args
	url, err := secret.Lookup(ctx, a.Webhook, w.e.cfg.Secrets)
	if err != nil {
		return fmt.Errorf("alert %s: webhook %s: %w", a.Event, a.Webhook, err)
	}
	secret.Register(url.Reveal())
	err = alert.Post(ctx, w.client, url, a.Text)
	if err != nil {
		w.e.log.Warn("alert not sent", "event", a.Event, "attempt", job.Attempt, "err", secret.RedactString(err.Error()))
		if errors.Is(err, alert.ErrRejected) {
			return river.JobCancel(err)
		}
		return err
	}
	w.e.log.Info("alert sent", "event", a.Event, "workflow", a.Workflow)
	return nil
}

// alertHook is the secret reference of the webhook that alerts on event
// for a deployed workflow: the catalog's alerts section deployed with it,
// else --alert-webhook (every event); "" = no alert.
func (e *Engine) alertHook(spec *catalog.Resolved, event string) string {
	if spec.Alerts.Webhook != "" {
		if spec.Alerts.Wants(event) {
			return spec.Alerts.Webhook
		}
		return ""
	}
	return e.cfg.AlertWebhook
}

// freshnessHook is the webhook of spec's freshness alerts, "" when it has
// no freshness SLA or no such alert: the workflows the freshness check
// watches and a recovery is announced for.
func (e *Engine) freshnessHook(spec *catalog.Resolved) string {
	if spec.Workflow.FreshnessSLA <= 0 {
		return ""
	}
	return e.alertHook(spec, catalog.AlertFreshness)
}

// runEnded reports a run this process ended: to Config.OnRunEnd (metrics);
// as an alert when it failed for good (final: its job will not try again,
// so attempts: 3 sends one message, not three); and as an alert when it
// landed a schema that differs from the previous run's. It never fails the
// run: an alert that cannot be queued is logged.
func (e *Engine) runEnded(ctx context.Context, spec *catalog.Resolved, run *state.Run, res *blueprint.Result, final bool, attempt, attempts int) {
	if e.cfg.OnRunEnd != nil {
		e.cfg.OnRunEnd(*run)
	}
	switch {
	case run.Status == state.StatusFailed && final:
		e.queueAlert(ctx, e.alertHook(spec, catalog.AlertFailure), AlertArgs{Event: "run_failed:" + run.ID, Workflow: run.Workflow,
			Text: fmt.Sprintf("wharf: run %s of workflow %s failed for good (attempt %d of %d) after %s: %s", run.ID, run.Workflow, attempt, attempts,
				run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond), run.Error)})
	case run.Status == state.StatusSucceeded && res != nil && res.SchemaChange != nil:
		e.queueAlert(ctx, e.alertHook(spec, catalog.AlertSchemaChange), AlertArgs{Event: "schema_change:" + run.ID, Workflow: run.Workflow,
			Text: fmt.Sprintf("wharf: workflow %s landed a new schema in run %s: %s", run.Workflow, run.ID, res.SchemaChange)})
	}
}

// queueAlert queues an alert job for webhook ("" = none).
func (e *Engine) queueAlert(ctx context.Context, webhook string, a AlertArgs) {
	if webhook == "" {
		return
	}
	a.Webhook = webhook
	a.Text = secret.RedactString(a.Text)
	if _, err := e.q.insert(context.WithoutCancel(ctx), a, alertOpts()); err != nil {
		e.log.Warn("queue alert", "event", a.Event, "err", err)
	}
}

// Freshness SLAs.
//
// River's leader queues a freshness check every FreshnessInterval (and one
// when it becomes leader); any process working the alert queue runs it. A
// check alerts each late workflow once per breach: the alert's event names
// the workflow and the time its data's age counts from, so River's
// uniqueness drops the same breach noticed again, and a run that lands new
// data starts a new one. River forgets completed alerts after a day
// (CompletedJobRetentionPeriod), so clock checks announce only breaches
// younger than alertMemory; the first check of a leadership term announces
// older ones too (a fleet that was down when the breach began), which can
// repeat a breach older than a day once per new leader.

// alertMemory is how old a breach a clock check still announces: less than
// River's retention of completed jobs, so the first announcement is still
// there to make the next one a duplicate.
const alertMemory = 23 * time.Hour

// FreshnessArgs is one freshness check at At; First marks the check of a
// new leadership term.
type FreshnessArgs struct {
	At    time.Time `json:"at" river:"unique"`
	First bool      `json:"first,omitempty" river:"unique"`
}

// Kind is the River job kind.
func (FreshnessArgs) Kind() string { return KindFreshness }

func freshnessOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: QueueAlert, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// freshnessJobs are the periodic freshness checks: one per
// FreshnessInterval, and one when this process becomes leader.
func (e *Engine) freshnessJobs() []*river.PeriodicJob {
	every := e.cfg.FreshnessInterval
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return FreshnessArgs{At: e.now().UTC().Truncate(every)}, freshnessOpts()
		}, nil),
		river.NewPeriodicJob(never{}, func() (river.JobArgs, *river.InsertOpts) {
			return FreshnessArgs{At: e.now().UTC().Truncate(time.Microsecond), First: true}, freshnessOpts()
		}, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

type freshnessWorker struct {
	river.WorkerDefaults[FreshnessArgs]
	e *Engine
}

// Work alerts the late workflows whose breach is new (see alertMemory).
// It watches the enabled workflows with a freshness SLA and a webhook for
// freshness alerts, listed again only after a deploy; with none, a check
// is one query.
func (w *freshnessWorker) Work(ctx context.Context, job *river.Job[FreshnessArgs]) error {
	e := w.e
	ds, err := e.watched.get(ctx, e.store, func(all iter.Seq2[*deploy.Workflow, error]) ([]deploy.Workflow, error) {
		var out []deploy.Workflow
		for d, err := range all {
			if err != nil {
				return nil, err
			}
			if d.Enabled && e.freshnessHook(&d.Spec) != "" {
				out = append(out, *d)
			}
		}
		return out, nil
	})
	if err != nil || len(ds) == 0 {
		return err
	}
	last, err := e.store.LastRuns(ctx)
	if err != nil {
		return err
	}
	now := e.now()
	for i := range ds {
		d := &ds[i]
		hook := e.freshnessHook(&d.Spec)
		since, late := status.Late(d, last[d.Name].LastSucceeded, now)
		sla := d.Spec.Workflow.FreshnessSLA
		if !late || (now.Sub(since.Add(sla)) >= alertMemory && !job.Args.First) {
			continue
		}
		what := "its newest data is from " + since.UTC().Format(time.RFC3339)
		if last[d.Name].LastSucceeded == nil {
			what = "it has landed nothing since it was deployed at " + since.UTC().Format(time.RFC3339)
		}
		e.queueAlert(ctx, hook, AlertArgs{Event: "late:" + d.Name + ":" + since.UTC().Format(time.RFC3339Nano), Workflow: d.Name,
			Text: fmt.Sprintf("wharf: workflow %s is late: %s, %s old, past its freshness SLA of %s", d.Name, what,
				status.Duration(now.Sub(since)), status.Duration(sla))})
	}
	return nil
}

// announcedLate reports whether deployed workflow d is late now and has
// been for at least a freshness check interval (so a check has announced
// it): the condition for a "recovered" message after its next run. It
// costs a query only for workflows with a freshness SLA and a freshness
// alert.
func (e *Engine) announcedLate(ctx context.Context, d *deploy.Workflow) bool {
	if e.freshnessHook(&d.Spec) == "" {
		return false
	}
	prev, err := e.store.Runs(ctx, state.RunFilter{Workflow: d.Name, Status: state.StatusSucceeded, Limit: 1})
	if err != nil {
		e.log.Warn("read the last succeeded run for the freshness alert", "workflow", d.Name, "err", err)
		return false
	}
	var last *state.Run
	if len(prev) > 0 {
		last = &prev[0]
	}
	now := e.now()
	since, late := status.Late(d, last, now)
	return late && !since.Add(d.Spec.Workflow.FreshnessSLA).After(now.Add(-e.cfg.FreshnessInterval))
}

// recovered posts one "recovered" message when run ended the breach of a
// workflow that was announced late (wasLate): it succeeded and its data is
// within the SLA.
func (e *Engine) recovered(ctx context.Context, d *deploy.Workflow, run *state.Run, wasLate bool) {
	if !wasLate || run.Status != state.StatusSucceeded {
		return
	}
	if _, late := status.Late(d, run, e.now()); late {
		return
	}
	sla := d.Spec.Workflow.FreshnessSLA
	e.queueAlert(ctx, e.freshnessHook(&d.Spec), AlertArgs{Event: "recovered:" + run.ID, Workflow: d.Name,
		Text: fmt.Sprintf("wharf: workflow %s recovered: run %s landed data from %s, within its freshness SLA of %s", d.Name, run.ID,
			run.DataTime().UTC().Format(time.RFC3339), sla)})
}
