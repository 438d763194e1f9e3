package engine_test

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/wharf-data/wharf/internal/state/statesqlite"

	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestPeriodicTicks deploys a workflow firing every 2 seconds (a schedule
// the catalog does not offer, built by hand) and checks that River's
// periodic job fires it, that the fire times are kept in the state, and
// that a tick finding the previous run still going records a skipped run.
func TestPeriodicTicks(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		every := catalog.Schedule{Kind: catalog.Rate, Expr: "every 2s (test)", Every: 2 * time.Second}
		if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{deployed(f.spec("orders", every))}}); err != nil {
			t.Fatal(err)
		}
		opened, release := f.gate.hold("orders")
		defer release()
		serve(t, f.engine(engine.Config{}))
		<-opened // the first tick's run is running, held
		waitFor(t, "a skipped scheduled run", func() bool {
			runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
			for _, r := range runs {
				if r.Status == state.StatusSkipped && r.Trigger == state.TriggerSchedule {
					return true
				}
			}
			return false
		})
		release()
		waitFor(t, "a succeeded scheduled run", func() bool {
			runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
			for _, r := range runs {
				if r.Status == state.StatusSucceeded && r.Trigger == state.TriggerSchedule {
					return true
				}
			}
			return false
		})
		d, err := f.st.DeployedWorkflow(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		if d.LastFireAt.IsZero() || !d.NextFireAt.After(d.LastFireAt) || d.NextFireAt.Sub(d.LastFireAt)%(2*time.Second) != 0 {
			t.Fatalf("fire times last %s next %s, want next a multiple of 2s after last", d.LastFireAt, d.NextFireAt)
		}
	})
}

// TestCatchUp checks the missed-tick policy. The scheduler was down for
// hours: workflow "early" missed three fire times but a tick covering its
// first one is still queued (it was enqueued, not missed); "late" missed
// fire times no tick was ever enqueued for. Both get one run with
// --catch-up=one; with --catch-up=none only "early" runs (its tick), and
// both fire times move on to the next hour.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	// The fire times are whole hours around now, and the scheduler is
	// expected to move them to the next hour: an hour boundary passed while
	// the test runs (up to ~40 s) moves them one hour further and adds that
	// hour's tick (a CI run across 15:00 UTC failed so). Started
	// within two minutes of the next hour, the test first waits it out.
	if wait := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); wait < 2*time.Minute {
		t.Logf("waiting %s for the hour to pass", wait.Round(time.Second))
		time.Sleep(wait + time.Second)
	}
	for _, policy := range []string{engine.CatchUpOne, engine.CatchUpNone} {
		t.Run(policy, func(t *testing.T) {
			f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "early", "late")
			hourly, err := catalog.ParseSchedule("rate(1 hour)", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{
				deployed(f.spec("early", hourly)), deployed(f.spec("late", hourly))}}); err != nil {
				t.Fatal(err)
			}
			hour := time.Now().UTC().Truncate(time.Hour)
			if err := f.st.SetFireTimes(t.Context(), "early", hour.Add(-4*time.Hour), hour.Add(-3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := f.st.SetFireTimes(t.Context(), "late", hour.Add(-2*time.Hour), hour.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			// The tick enqueued before the scheduler went down, not worked
			// yet (River makes it available in a few seconds: the catch-up
			// tick runs first).
			f.engine(engine.Config{Role: engine.RoleClient}) // migrates River's tables
			f.insertTick(engine.TickArgs{FireAt: hour.Add(-2 * time.Hour)}, time.Now().Add(2*time.Second))

			serve(t, f.engine(engine.Config{CatchUp: policy}))
			nextHour := hour.Add(time.Hour)
			waitFor(t, "the fire times to move on", func() bool {
				ds, err := f.st.DeployedWorkflows(t.Context())
				if err != nil {
					return false
				}
				for _, d := range ds {
					if !d.NextFireAt.Equal(nextHour) {
						return false
					}
				}
				return true
			})
			time.Sleep(300 * time.Millisecond)
			runs, err := f.st.Runs(t.Context(), state.RunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			per := map[string]int{}
			for _, r := range runs {
				if r.Trigger != state.TriggerSchedule {
					t.Fatalf("run %s of %s has trigger %s", r.ID, r.Workflow, r.Trigger)
				}
				per[r.Workflow]++
			}
			want := map[string]int{"early": 1, "late": 1}
			if policy == engine.CatchUpNone {
				want = map[string]int{"early": 1}
			}
			if !maps.Equal(per, want) {
				t.Fatalf("scheduled runs per workflow %v, want %v", per, want)
			}
		})
	}
}

// TestFleetFiresEachTickOnce runs two serve engines on one PostgreSQL state
// with a schedule firing every second: each tick runs once across them.
func TestFleetFiresEachTickOnce(t *testing.T) {
	t.Parallel()
	dsn, _ := testdb.PostgresSchema(t)
	f := newFixture(t, dsn, "orders")
	spec := f.spec("orders", catalog.Schedule{Kind: catalog.Rate, Expr: "every 1s (test)", Every: time.Second})
	spec.Workflow.Cursor = ""
	if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{deployed(spec)}}); err != nil {
		t.Fatal(err)
	}
	a, b := f.engine(engine.Config{}), f.engine(engine.Config{})
	stopA, stopB := serve(t, a), serve(t, b)
	start := time.Now()
	scheduled := func() []state.Run {
		runs, err := f.st.Runs(t.Context(), state.RunFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var sched []state.Run
		for _, r := range runs {
			if r.Trigger == state.TriggerSchedule {
				sched = append(sched, r)
			}
		}
		return sched
	}
	// Wait for the runs rather than a fixed time: on a loaded machine the
	// leader's election and the first tick can take longer than the 6 s
	// this test once slept (it saw 0 runs at load 9). The bound below
	// counts from the first scheduled run, not from start, so a slow
	// start-up does not widen it: six runs within 4 s of the first fail it.
	deadline := time.Now().Add(90 * time.Second)
	for len(scheduled()) < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("%d scheduled runs in %s, want 6", len(scheduled()), time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	sched := scheduled()
	first := sched[0].StartedAt
	for _, r := range sched {
		if r.StartedAt.Before(first) {
			first = r.StartedAt
		}
	}
	elapsed := time.Since(first)
	// One run per fire time (plus, at most, the catch-up of a fire time
	// that passed while the leader started): a tick worked by both
	// processes, or a fire time taken twice, would double the count.
	if max := int(elapsed/time.Second) + 2; len(sched) < 3 || len(sched) > max {
		t.Fatalf("%d scheduled runs in %s, want 3 to %d: one per fire time", len(sched), elapsed, max)
	}
}

// insertTick inserts a schedule tick into River's table of the fixture's
// SQLite state, as a scheduler that went down would have left it.
func (f *fixture) insertTick(a engine.TickArgs, at time.Time) {
	f.t.Helper()
	st, ok := f.st.(*statesqlite.Store)
	if !ok {
		f.t.Fatalf("insertTick needs a SQLite state, not %T", f.st)
	}
	client, err := river.NewClient(riversqlite.New(st.DB()), &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := client.Insert(f.t.Context(), a, &river.InsertOpts{Queue: engine.QueueTick, ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		f.t.Fatal(err)
	}
}

// TestScheduledRunTakesDeployedAttempts: a scheduled run is tried as often
// as its deployed workflow says (attempts 2), like a triggered one: the
// tick's process has no setting of its own.
func TestScheduledRunTakesDeployedAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	spec := f.spec("orders", catalog.Schedule{Kind: catalog.Rate, Expr: "every 2s (test)", Every: 2 * time.Second})
	spec.Workflow.Attempts = 2
	if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{deployed(spec)}}); err != nil {
		t.Fatal(err)
	}
	f.gate.fail("orders", 1000)
	serve(t, f.engine(engine.Config{RetryBackoff: 100 * time.Millisecond}))
	var first state.Run
	waitFor(t, "a scheduled run", func() bool {
		runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
		for _, r := range runs {
			if r.Trigger == state.TriggerSchedule && r.Status != state.StatusSkipped {
				first = r
				return true
			}
		}
		return false
	})
	jobID, _, err := f.st.RunJob(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.engine(engine.Config{Role: engine.RoleClient}).Wait(waitCtx(t), []engine.Queued{{Run: first, JobID: jobID}}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].JobState != rivertype.JobStateDiscarded || out[0].Run.Trigger != state.TriggerRetry {
		t.Fatalf("outcome %+v job %s; want a failed retry, discarded", out[0].Run, out[0].JobState)
	}
	runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
	n := 0
	for _, r := range runs {
		if id, _, err := f.st.RunJob(t.Context(), r.ID); err == nil && id == jobID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the scheduled job ran %d attempts, want the deployed 2", n)
	}
}
