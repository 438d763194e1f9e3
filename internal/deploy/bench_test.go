package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// benchCatalog writes a catalog of n workflows (varied schedules, one
// connection and lake, defaults) and returns its path; workflow 0's
// schedule is sched0.
func benchCatalog(b *testing.B, dir string, n int, sched0 string) string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("version: 1\nconnections:\n  hr: {engine: postgres, secret: env:HR_DB_URL}\n")
	sb.WriteString("lakes:\n  raw: {url: \"file:///data/lake\", compression: zstd}\n")
	sb.WriteString("defaults: {cursor: updated_at, lookback: 5m, schedule: \"cron(10 21 * * ? *)\"}\nworkflows:\n")
	for i := range n {
		sched := []string{"rate(15 minutes)", "@hourly", "cron(0/30 * * * ? *)", "*/5 * * * *"}[i%4]
		if i == 0 {
			sched = sched0
		}
		fmt.Fprintf(&sb, "  - name: wf_%04d\n    table: public.table_%04d\n    schedule: %q\n", i, i, sched)
	}
	path := filepath.Join(dir, fmt.Sprintf("catalog-%s.yaml", strings.NewReplacer("(", "", ")", "", " ", "_").Replace(sched0)))
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// deployFile is what `wharf deploy -c FILE` does after flag parsing: load
// the catalog, open the state, plan, apply.
func deployFile(ctx context.Context, catalogPath, stateURL string) (*Plan, error) {
	cat, err := catalog.Load(catalogPath)
	if err != nil {
		return nil, err
	}
	s, err := stateurl.Open(ctx, stateURL)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	p, _, err := Compute(ctx, s, cat, nil, Options{})
	if err != nil {
		return nil, err
	}
	return p, Apply(ctx, s, p, false)
}

// BenchmarkDeploy1000Empty deploys a 1,000-workflow catalog into a new,
// empty SQLite state (creating and migrating it included).
func BenchmarkDeploy1000Empty(b *testing.B) {
	dir := b.TempDir()
	path := benchCatalog(b, dir, 1000, "@daily")
	i := 0
	for b.Loop() {
		i++
		p, err := deployFile(b.Context(), path, fmt.Sprintf("sqlite:%s/state-%d.db", dir, i))
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Create) != 1000 {
			b.Fatalf("created %d", len(p.Create))
		}
	}
}

// BenchmarkRedeploy1000OneChange redeploys a deployed 1,000-workflow
// catalog in which one workflow's schedule changed.
func BenchmarkRedeploy1000OneChange(b *testing.B) {
	dir := b.TempDir()
	paths := []string{benchCatalog(b, dir, 1000, "@daily"), benchCatalog(b, dir, 1000, "@weekly")}
	url := "sqlite:" + filepath.Join(dir, "state.db")
	if _, err := deployFile(b.Context(), paths[0], url); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		p, err := deployFile(b.Context(), paths[i%2], url)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Update) != 1 || len(p.Unchanged) != 999 {
			b.Fatalf("plan: %s", p.Summary())
		}
	}
}
