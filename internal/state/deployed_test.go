package state

import (
	"strings"
	"testing"
	"time"
)

func TestPrepareDeploy(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 999, time.FixedZone("X", 3600))
	res := func(name string) []byte { return []byte(`{"workflow":{"name":"` + name + `"}}`) }
	p, err := DeployChanges{
		Create:         []Deployed{{Name: "a", Spec: res("a"), Enabled: false}},
		Update:         []Deployed{{Name: "b", Spec: res("b"), SpecHash: HashSpec(res("b"))}},
		Disable:        []string{"c"},
		Delete:         []string{"d"},
		ResetWatermark: []string{"b", "b"},
	}.Prepare(now)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Create[0]
	if c.Name != "a" || !c.Enabled || len(c.ID) != 36 || c.CreatedAt != Time(now) || c.UpdatedAt != Time(now) ||
		c.SpecHash != HashSpec(res("a")) || string(c.Spec) != string(res("a")) {
		t.Errorf("prepared create = %+v", c)
	}
	if u := p.Update[0]; !u.CreatedAt.IsZero() || u.UpdatedAt != Time(now) || !u.Enabled {
		t.Errorf("prepared update = %+v", u)
	}
	if strings.Join(p.ResetWatermark, ",") != "b" || strings.Join(p.Disable, ",") != "c" || strings.Join(p.Delete, ",") != "d" {
		t.Errorf("prepared names = %+v", p)
	}
	for _, tc := range []struct {
		c    DeployChanges
		want string
	}{
		{DeployChanges{Create: []Deployed{{}}}, "deploy: create workflow: empty name"},
		{DeployChanges{Disable: []string{"a\x00"}}, `deploy: disable workflow "a\x00": the name must be valid UTF-8 without NUL`},
		{DeployChanges{Update: []Deployed{{Name: "a", Spec: []byte("{")}}}, `deploy: update workflow a: its spec must be JSON`},
		{DeployChanges{Create: []Deployed{{Name: "a", Spec: res("a")}}, Delete: []string{"a"}}, "deploy: workflow a is listed twice (create and delete)"},
		{DeployChanges{Disable: []string{"a", "a"}}, "deploy: workflow a is listed twice (disable and disable)"},
		{DeployChanges{Delete: []string{"a"}, ResetWatermark: []string{"a"}}, "deploy: workflow a is listed twice (delete and reset watermark)"},
		{DeployChanges{ResetWatermark: []string{""}}, `deploy: reset watermark of workflow "": the name must be non-empty valid UTF-8 without NUL`},
		{DeployChanges{Create: []Deployed{{Name: "a", Spec: res("a"), SpecHash: "x"}}}, "deploy: create workflow a: SpecHash x does not match its spec"},
	} {
		_, err := tc.c.Prepare(now)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Prepare(%+v) error = %v\nwant prefix %s", tc.c, err, tc.want)
		}
	}
}
