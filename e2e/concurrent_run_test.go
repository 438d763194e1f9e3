package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestSecondRunOfABusyWorkflowIsSkipped: while one wharf run lands a slow
// table, a second wharf run of the same workflow is skipped (exit 1, said so)
// and does not disturb the first, which lands every row once.
func TestSecondRunOfABusyWorkflowIsSkipped(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE items (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO items (id) SELECT g FROM generate_series(1, 1500) g`)
	// About 3 s to read: each row sleeps 2 ms.
	sqlExec(t, conn, `CREATE VIEW slow_items AS SELECT id, updated_at FROM items WHERE pg_sleep(0.002) IS NOT NULL`)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	cat := fmt.Sprintf("connections:\n  db: {engine: postgres, secret: env:DB_URL}\nlakes:\n  raw: {url: \"file://%s\"}\nworkflows:\n  - {name: items, table: %s.slow_items, cursor: updated_at}\n", lakeDir, schema)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}

	first := exec.Command(wharfBin, "run", "items")
	first.Dir, first.Env = dir, append(os.Environ(), env...)
	var out1 bytes.Buffer
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Process.Kill() })
	time.Sleep(time.Second) // the first run is reading the view by now

	r := wharf(t, dir, env, "run", "items")
	if r.code != 1 || !strings.Contains(r.stdout, "1 skipped (already running)") || !strings.Contains(r.stderr, "already running") {
		t.Errorf("second run: want exit 1 and a skipped run:\n%s", r)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out1.String())
	}
	files := parquetFiles(t, lakeDir)
	var rows int64
	for _, f := range files {
		rows += parquettest.ReadFile(t, filepath.Join(lakeDir, f)).NumRows()
	}
	if rows != 1500 {
		t.Errorf("lake holds %d rows in %v, want the 1500 rows once\nfirst run:\n%s", rows, files, out1.String())
	}
}
