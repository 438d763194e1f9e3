package statetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/state"
)

// testDueAndClaimFires checks the scheduler's two primitives: the enabled
// workflows due by a time, and the conditional move of fire times that
// makes each fire time taken once.
func testDueAndClaimFires(t *testing.T, b Backend) {
	s := fresh(t, b)
	f := s
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("a"), deployed("b"), deployed("c"), deployed("off")}})
	apply(t, s, state.DeployChanges{Disable: []string{"off"}})
	at := base.UTC().Truncate(time.Minute)
	for name, next := range map[string]time.Time{"a": at.Add(-time.Hour), "b": at, "c": at.Add(time.Minute), "off": at} {
		if err := s.SetFireTimes(t.Context(), name, time.Time{}, next); err != nil {
			t.Fatal(err)
		}
	}
	names := func(at time.Time) []string {
		t.Helper()
		ds, err := f.DueWorkflows(t.Context(), at)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	if got := names(at); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("due by %s: %v, want [a b] (next fire time first; not c, later; not off, disabled)", at, got)
	}

	claims := []state.FireClaim{
		{Workflow: "a", Expect: at.Add(-time.Hour), Last: at, Next: at.Add(time.Hour)}, // takes it
		{Workflow: "b", Expect: at.Add(-time.Hour), Last: at, Next: at.Add(time.Hour)}, // b's next is not that
		{Workflow: "missing", Expect: at, Last: at, Next: at.Add(time.Hour)},
	}
	took, err := f.ClaimFires(t.Context(), claims)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(took, []bool{true, false, false}) {
		t.Fatalf("claims took %v, want [true false false]", took)
	}
	if d := mustDeployedOne(t, s, "a"); !d.LastFireAt.Equal(at) || !d.NextFireAt.Equal(at.Add(time.Hour)) {
		t.Errorf("a after its claim: last %s next %s", d.LastFireAt, d.NextFireAt)
	}
	if d := mustDeployedOne(t, s, "b"); !d.LastFireAt.IsZero() || !d.NextFireAt.Equal(at) {
		t.Errorf("b changed by a claim that did not take: last %s next %s", d.LastFireAt, d.NextFireAt)
	}
	// The same claim again finds the fire time taken.
	if took, err := f.ClaimFires(t.Context(), claims[:1]); err != nil || took[0] {
		t.Fatalf("second claim of a's fire time: took %v, %v", took, err)
	}
	// A zero Expect matches a workflow with no next fire time; a zero Next
	// clears it.
	if took, err := f.ClaimFires(t.Context(), []state.FireClaim{{Workflow: "b", Expect: at}}); err != nil || !took[0] {
		t.Fatalf("clear b: took %v, %v", took, err)
	}
	if took, err := f.ClaimFires(t.Context(), []state.FireClaim{{Workflow: "b", Next: at}}); err != nil || !took[0] {
		t.Fatalf("set b from none: took %v, %v", took, err)
	}
	if got := names(at.Add(-time.Minute)); len(got) != 0 {
		t.Fatalf("due by %s: %v, want none", at.Add(-time.Minute), got)
	}
}
