package engine_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/testdb"
)

// BenchmarkTriggerToFinished measures an on-demand run of a 10-row table
// (a full load each time) from Trigger to the end of Wait, with wharf
// serve's engine in the same process but reached only through the state
// database, as `wharf trigger --wait` reaches it (default poll interval).
func BenchmarkTriggerToFinished(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var url string
			if backend == "sqlite" {
				url = "sqlite:" + filepath.Join(b.TempDir(), "state.db")
			} else {
				dsn, _ := testdb.PostgresSchema(b)
				url = dsn
			}
			f := newFixture(b, url, "ten")
			spec := f.spec("ten", catalog.Schedule{Kind: catalog.OnDemand})
			spec.Workflow.Cursor = "" // a full load of the 10 rows every time
			if err := f.st.ApplyDeploy(b.Context(), state.DeployChanges{Update: []state.Deployed{deployed(spec)}}); err != nil {
				b.Fatal(err)
			}
			serve(b, f.engine(engine.Config{PollInterval: engine.DefaultPollInterval}))
			client := f.engine(engine.Config{Role: engine.RoleClient})
			b.ResetTimer()
			for b.Loop() {
				qs, err := client.Trigger(b.Context(), "ten")
				if err != nil {
					b.Fatal(err)
				}
				out, err := client.Wait(b.Context(), qs, 5*time.Millisecond)
				if err != nil {
					b.Fatal(err)
				}
				if r := out[0].Run; r.Status != state.StatusSucceeded || r.Rows != 10 {
					b.Fatalf("run %+v", r)
				}
				// River records the job complete up to 250 ms after the run
				// ended (its batch completer); the next trigger would wait for
				// that (see awaitCompletion). Not part of the measured time:
				// this measures one trigger, not back-to-back triggers.
				b.StopTimer()
				for {
					st, err := client.JobState(b.Context(), qs[0].JobID)
					if err != nil {
						b.Fatal(err)
					}
					if st == rivertype.JobStateCompleted {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				b.StartTimer()
			}
		})
	}
}
