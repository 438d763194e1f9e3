package engine_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/testdb"
)

func TestNextFire(t *testing.T) {
	at := func(d, h, m, s int) time.Time { return time.Date(2026, 3, d, h, m, s, 0, time.UTC) }
	parse := func(expr, tz string) catalog.Schedule {
		s, err := catalog.ParseSchedule(expr, tz)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", expr, err)
		}
		return s
	}
	for _, tc := range []struct {
		expr, tz string
		from     time.Time
		want     time.Time
	}{
		// Rates fire at multiples of their period: the same in every process.
		{"rate(15 minutes)", "", at(4, 10, 7, 30), at(4, 10, 15, 0)},
		{"rate(15 minutes)", "", at(4, 10, 15, 0), at(4, 10, 30, 0)}, // strictly after
		{"rate(1 hour)", "", at(4, 10, 59, 59), at(4, 11, 0, 0)},
		{"rate(1 day)", "", at(4, 10, 0, 0), at(5, 0, 0, 0)},
		// AWS cron examples (EventBridge docs), from Wednesday 2026-03-04.
		{"cron(0 10 * * ? *)", "", at(4, 9, 0, 0), at(4, 10, 0, 0)},        // 10:00 every day
		{"cron(15 12 * * ? *)", "", at(4, 12, 15, 0), at(5, 12, 15, 0)},    // 12:15 every day
		{"cron(0 18 ? * MON-FRI *)", "", at(6, 18, 0, 0), at(9, 18, 0, 0)}, // Friday 18:00 -> Monday
		{"cron(0 8 1 * ? *)", "", at(4, 9, 0, 0), time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)},
		{"cron(0/15 * * * ? *)", "", at(4, 9, 50, 0), at(4, 10, 0, 0)},
		{"cron(0/10 * ? * MON-FRI *)", "", at(6, 23, 55, 0), at(9, 0, 0, 0)},
		{"cron(0/5 8-17 ? * MON-FRI *)", "", at(4, 17, 56, 0), at(5, 8, 0, 0)},
		{"0 9 * * 1", "", at(4, 9, 0, 0), at(9, 9, 0, 0)}, // standard cron: Monday
		{"@hourly", "", at(4, 9, 30, 0), at(4, 10, 0, 0)},
		// A zone: 09:00 in Paris (UTC+1 in March) is 08:00 UTC.
		{"cron(0 9 * * ? *)", "Europe/Paris", at(4, 9, 0, 0), at(5, 8, 0, 0)},
		{"on_demand", "", at(4, 9, 0, 0), time.Time{}},
	} {
		got := engine.NextFire(parse(tc.expr, tc.tz), tc.from)
		if !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("NextFire(%q %s, %s) = %s, want %s (UTC)", tc.expr, tc.tz, tc.from.Format(time.RFC3339), got, tc.want)
		}
	}
}

// TestPeriodicTicks deploys a workflow firing every 2 seconds (a schedule
// the catalog does not offer, built by hand) and checks that River's
// periodic job fires it, that the fire times are kept in the state, and
// that a tick finding the previous run still going records a skipped run.
func TestPeriodicTicks(t *testing.T) {
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		every := catalog.Schedule{Kind: catalog.Rate, Expr: "every 2s (test)", Every: 2 * time.Second}
		if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{{Spec: f.spec("orders", every)}}}); err != nil {
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

// TestCatchUp checks the missed-tick policy: a next fire time that passed
// while no scheduler ran gives one catch-up run (--catch-up=one), or none.
func TestCatchUp(t *testing.T) {
	for _, policy := range []string{engine.CatchUpOne, engine.CatchUpNone} {
		t.Run(policy, func(t *testing.T) {
			f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
			hourly, err := catalog.ParseSchedule("rate(1 hour)", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{{Spec: f.spec("orders", hourly)}}}); err != nil {
				t.Fatal(err)
			}
			// The scheduler was down for three hours: three ticks missed.
			missed := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
			if err := f.st.SetFireTimes(t.Context(), "orders", missed.Add(-time.Hour), missed); err != nil {
				t.Fatal(err)
			}
			serve(t, f.engine(engine.Config{CatchUp: policy}))
			nextHour := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
			waitFor(t, "the fire times to move on", func() bool {
				d, err := f.st.DeployedWorkflow(t.Context(), "orders")
				return err == nil && d.NextFireAt.Equal(nextHour)
			})
			time.Sleep(300 * time.Millisecond)
			runs, err := f.st.Runs(t.Context(), state.RunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if policy == engine.CatchUpNone {
				want = 0
			}
			if len(runs) != want {
				t.Fatalf("%d runs after three missed ticks, want %d", len(runs), want)
			}
			if want == 1 && runs[0].Trigger != state.TriggerSchedule {
				t.Fatalf("catch-up run trigger %s", runs[0].Trigger)
			}
			if policy == engine.CatchUpOne {
				d, _ := f.st.DeployedWorkflow(t.Context(), "orders")
				if !d.LastFireAt.Equal(missed) {
					t.Fatalf("last fire %s, want the missed tick %s", d.LastFireAt, missed)
				}
			}
		})
	}
}

// TestFleetFiresEachTickOnce runs two serve engines on one PostgreSQL state
// with a schedule firing every second: each tick runs once across them.
func TestFleetFiresEachTickOnce(t *testing.T) {
	dsn, _ := testdb.PostgresSchema(t)
	f := newFixture(t, dsn, "orders")
	spec := f.spec("orders", catalog.Schedule{Kind: catalog.Rate, Expr: "every 1s (test)", Every: time.Second})
	spec.Workflow.Cursor = ""
	if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{{Spec: spec}}}); err != nil {
		t.Fatal(err)
	}
	a, b := f.engine(engine.Config{}), f.engine(engine.Config{})
	stopA, stopB := serve(t, a), serve(t, b)
	start := time.Now()
	time.Sleep(6 * time.Second)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
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
	if max := int(elapsed/time.Second) + 1; len(sched) < 3 || len(sched) > max {
		t.Fatalf("%d scheduled runs in %s, want 3 to %d: one per tick", len(sched), elapsed, max)
	}
	for i := 1; i < len(sched); i++ {
		if gap := sched[i-1].StartedAt.Sub(sched[i].StartedAt); gap < 500*time.Millisecond {
			t.Fatalf("scheduled runs %s and %s started %s apart: a tick ran twice", sched[i].ID, sched[i-1].ID, gap)
		}
	}
}
