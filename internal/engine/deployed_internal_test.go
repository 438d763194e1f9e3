package engine

import (
	"iter"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
)

// TestDeployedViewRebuildsAfterDeploysOnly: the scheduler and the freshness
// check read the deployed specs again only when a deploy changed them, and
// then see the change.
func TestDeployedViewRebuildsAfterDeploysOnly(t *testing.T) {
	t.Parallel()
	st, err := statesqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	spec := func(name string, sla time.Duration) state.Deployed {
		r := catalog.Resolved{
			Workflow:   catalog.Workflow{Name: name, Connection: "c", Table: name, Lake: "l", Blueprint: "landing", Format: "parquet"},
			Connection: catalog.Connection{Name: "c", Engine: "sqlite", Secret: "file:/nowhere"},
			Lake:       catalog.Lake{Name: "l", URL: "file:///nowhere"},
		}
		r.Workflow.FreshnessSLA = sla
		return state.Deployed{Name: name, Spec: catalog.EncodeSpec(r)}
	}
	apply := func(c state.DeployChanges) {
		t.Helper()
		if err := st.ApplyDeploy(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	apply(state.DeployChanges{Create: []state.Deployed{spec("a", 0), spec("b", time.Hour)}})

	var v deployedView[[]string]
	builds := 0
	withSLA := func() []string {
		t.Helper()
		got, err := v.get(t.Context(), st, func(all iter.Seq2[*deploy.Workflow, error]) ([]string, error) {
			builds++
			var out []string
			for d, err := range all {
				if err != nil {
					return nil, err
				}
				if d.Enabled && d.Spec.Workflow.FreshnessSLA > 0 {
					out = append(out, d.Name)
				}
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	check := func(when string, wantBuilds int, want ...string) {
		t.Helper()
		got := withSLA()
		if builds != wantBuilds || len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
			t.Errorf("%s: %d builds, workflows with an SLA %q; want %d builds, %q", when, builds, got, wantBuilds, want)
		}
	}
	check("first read", 1, "b")
	check("no deploy since", 1, "b")
	apply(state.DeployChanges{Update: []state.Deployed{spec("a", 30*time.Minute), spec("b", 0)}})
	check("after an update", 2, "a")
	check("no deploy since", 2, "a")
	apply(state.DeployChanges{Disable: []string{"a"}})
	check("after a disable", 3)
}
