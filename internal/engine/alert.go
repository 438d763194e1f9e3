package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/wharf-data/wharf/internal/alert"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

// River job kind and queue of alerts.
const (
	KindAlert  = "wharf_alert"
	QueueAlert = "wharf_alert"
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

// runEnded reports a run this process ended: to Config.OnRunEnd (metrics),
// and as an alert when it failed. It never fails the run: an alert that
// cannot be queued is logged.
func (e *Engine) runEnded(ctx context.Context, run *state.Run) {
	if e.cfg.OnRunEnd != nil {
		e.cfg.OnRunEnd(*run)
	}
	if run.Status != state.StatusFailed {
		return
	}
	e.queueAlert(ctx, AlertArgs{Event: "run_failed:" + run.ID, Workflow: run.Workflow,
		Text: fmt.Sprintf("wharf: run %s of workflow %s failed after %s: %s", run.ID, run.Workflow,
			run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond), run.Error)})
}

// queueAlert queues an alert job when an alert webhook is configured.
func (e *Engine) queueAlert(ctx context.Context, a AlertArgs) {
	if e.cfg.AlertWebhook == "" {
		return
	}
	a.Webhook = e.cfg.AlertWebhook
	a.Text = secret.RedactString(a.Text)
	if _, err := e.q.insert(context.WithoutCancel(ctx), a, alertOpts()); err != nil {
		e.log.Warn("queue alert", "event", a.Event, "err", err)
	}
}
