package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// TestOnSchemaChange: between two runs a column is added with a default,
// one is dropped and an integer is widened to bigint; each policy does
// what docs/catalog.md says, and each file says what it landed.
func TestOnSchemaChange(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"evolve", "freeze", "ignore_new"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			conn, schema, _ := pgSource(t)
			sqlExec(t, conn, `CREATE TABLE added (id int PRIMARY KEY, v integer)`)
			sqlExec(t, conn, `CREATE TABLE dropped (id int PRIMARY KEY, v integer, gone text)`)
			sqlExec(t, conn, `CREATE TABLE widened (id int PRIMARY KEY, v integer)`)
			for _, tbl := range []string{"added", "dropped", "widened"} {
				sqlExec(t, conn, `INSERT INTO `+tbl+` (id, v) VALUES (1, 1)`)
			}
			dir := t.TempDir()
			lakeDir := filepath.Join(dir, "lake")
			var wfs strings.Builder
			for _, tbl := range []string{"added", "dropped", "widened"} {
				fmt.Fprintf(&wfs, "  - {name: %s, table: %s.%s, on_schema_change: %s}\n", tbl, schema, tbl, policy)
			}
			catPath := writeCatalog(t, dir, lakeDir, "", wfs.String())
			env := []string{"DB_URL=" + testdb.PostgresURL()}
			run := []string{"run", "-c", catPath, "--state", "sqlite:" + filepath.Join(dir, "state.db"), "--all"}
			mustWharf(t, dir, env, run...)

			sqlExec(t, conn, `ALTER TABLE added ADD COLUMN extra text NOT NULL DEFAULT 'x'`)
			sqlExec(t, conn, `ALTER TABLE dropped DROP COLUMN gone`)
			sqlExec(t, conn, `ALTER TABLE widened ALTER COLUMN v TYPE bigint`)
			sqlExec(t, conn, `INSERT INTO widened VALUES (2, 1099511627776)`)
			r := wharf(t, dir, env, run...)

			duck := duckread.Open(t)
			columns := func(tbl string) []string { // one "name type ..." line per file, oldest first
				var out []string
				for _, f := range parquetFiles(t, filepath.Join(lakeDir, "postgres", schema+"."+tbl)) {
					rows := duckread.Strings(t, duck, fmt.Sprintf(`SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * EXCLUDE (ingestion_timestamp) FROM read_parquet('%s', hive_partitioning = false))`,
						filepath.Join(lakeDir, "postgres", schema+"."+tbl, f)))
					out = append(out, *rows[0][0])
				}
				return out
			}
			changed := func(tbl, what string) string {
				return fmt.Sprintf("on_schema_change %s: table %s.%s changed since run ", policy, schema, tbl) + what
			}
			switch policy {
			case "evolve":
				if r.code != 0 {
					t.Fatalf("evolve: want exit 0:\n%s", r)
				}
				for _, want := range []string{"schema changed: added extra", "schema changed: dropped gone", "schema changed: changed v integer → bigint"} {
					if !strings.Contains(r.stdout+r.stderr, want) {
						t.Errorf("the run should report %q:\n%s", want, r)
					}
				}
				for tbl, want := range map[string]string{
					"added":   "id INTEGER, v INTEGER, extra VARCHAR",
					"dropped": "id INTEGER, v INTEGER",
					"widened": "id INTEGER, v BIGINT",
				} {
					if got := columns(tbl); len(got) != 2 || !contains(got, want) {
						t.Errorf("%s: files hold %q, want one with %q", tbl, got, want)
					}
				}
				// The run records its schema; runs --json says what changed.
				for tbl, want := range map[string]string{
					"added":   `{"added":["extra"],"dropped":[],"changed":[]}`,
					"dropped": `{"added":[],"dropped":["gone"],"changed":[]}`,
					"widened": `{"added":[],"dropped":[],"changed":[{"column":"v","from":"integer","to":"bigint"}]}`,
				} {
					out := mustWharf(t, dir, env, "runs", tbl, "--json", "--state", "sqlite:"+filepath.Join(dir, "state.db"))
					var runs []struct {
						SchemaHash   string          `json:"schema_hash"`
						SchemaChange json.RawMessage `json:"schema_change"`
					}
					if err := json.Unmarshal([]byte(out.stdout), &runs); err != nil || len(runs) != 2 {
						t.Fatalf("%s: runs --json: %v\n%s", tbl, err, out)
					}
					if runs[0].SchemaHash == "" || runs[1].SchemaHash == "" || runs[0].SchemaHash == runs[1].SchemaHash {
						t.Errorf("%s: schema hashes %q (newest) and %q: want two different ones", tbl, runs[0].SchemaHash, runs[1].SchemaHash)
					}
					var got bytes.Buffer
					if err := json.Compact(&got, runs[0].SchemaChange); err != nil || got.String() != want || runs[1].SchemaChange != nil {
						t.Errorf("%s: schema_change %s (newest) and %s, want %s and none", tbl, got.String(), runs[1].SchemaChange, want)
					}
				}
			case "freeze":
				if r.code != 1 {
					t.Fatalf("freeze: want exit 1:\n%s", r)
				}
				for tbl, what := range map[string]string{"added": "added extra", "dropped": "dropped gone", "widened": "changed v integer → bigint"} {
					if !strings.Contains(r.stderr, changed(tbl, "")) || !strings.Contains(r.stderr, ": "+what+"; nothing was written") {
						t.Errorf("%s: the error should list %q:\n%s", tbl, what, r)
					}
					if got := columns(tbl); len(got) != 1 {
						t.Errorf("%s: freeze wrote files: %q", tbl, got)
					}
				}
			case "ignore_new":
				if r.code != 1 {
					t.Fatalf("ignore_new: want exit 1 (dropped and widened fail):\n%s", r)
				}
				if !strings.Contains(r.stdout+r.stderr, "new columns left out (on_schema_change: ignore_new): extra") {
					t.Errorf("the run should say extra was left out:\n%s", r)
				}
				if got := columns("added"); len(got) != 2 || got[0] != got[1] || got[0] != "id INTEGER, v INTEGER" {
					t.Errorf("added: files hold %q, want two without extra", got)
				}
				for tbl, what := range map[string]string{"dropped": "dropped gone", "widened": "changed v integer → bigint"} {
					if !strings.Contains(r.stderr, ": "+what+"; nothing was written") {
						t.Errorf("%s: the error should list %q:\n%s", tbl, what, r)
					}
					if got := columns(tbl); len(got) != 1 {
						t.Errorf("%s: wrote files: %q", tbl, got)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestColumnChoicesAreNotDrift: editing a workflow's own column choices
// changes what lands, but not the table: no policy fails on it, and the
// change is reported. Under ignore_new a new source column stays left out
// on every later run, while a column the workflow chooses again lands.
func TestColumnChoicesAreNotDrift(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"evolve", "freeze", "ignore_new"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			conn, schema, _ := pgSource(t)
			sqlExec(t, conn, `CREATE TABLE chosen (id int PRIMARY KEY, v integer, w text)`)
			sqlExec(t, conn, `INSERT INTO chosen VALUES (1, 1, 'a')`)
			dir := t.TempDir()
			lakeDir := filepath.Join(dir, "lake")
			env := []string{"DB_URL=" + testdb.PostgresURL()}
			run := []string{"run", "-c", filepath.Join(dir, "wharf.yaml"), "--state", "sqlite:" + filepath.Join(dir, "state.db"), "--all"}
			catalogWith := func(choices string) {
				writeCatalog(t, dir, lakeDir, "", fmt.Sprintf("  - {name: chosen, table: %s.chosen, cursor: id, on_schema_change: %s%s}\n", schema, policy, choices))
			}
			catalogWith("")
			mustWharf(t, dir, env, run...)

			catalogWith(", exclude_columns: [w], cast: {v: string}")
			sqlExec(t, conn, `INSERT INTO chosen VALUES (2, 2, 'b')`)
			r := mustWharf(t, dir, env, run...)
			if want := "schema changed: dropped w; changed v integer → string"; !strings.Contains(r.stdout+r.stderr, "schema changed: ") ||
				!strings.Contains(r.stdout+r.stderr, "dropped w") {
				t.Errorf("the run should report the choices' change (%q):\n%s", want, r)
			}
			if policy != "ignore_new" {
				return
			}
			// A new source column is left out now and on the next run.
			sqlExec(t, conn, `ALTER TABLE chosen ADD COLUMN extra text NOT NULL DEFAULT 'x'`)
			for i := 3; i <= 4; i++ {
				sqlExec(t, conn, fmt.Sprintf(`INSERT INTO chosen VALUES (%d, %d, 'c')`, i, i))
				r := mustWharf(t, dir, env, run...)
				if !strings.Contains(r.stdout+r.stderr, "new columns left out (on_schema_change: ignore_new): extra") {
					t.Errorf("run %d should leave extra out:\n%s", i, r)
				}
			}
			// Choosing w again is the workflow's choice, not drift: it lands.
			catalogWith(", cast: {v: string}")
			sqlExec(t, conn, `INSERT INTO chosen VALUES (5, 5, 'd')`)
			r = mustWharf(t, dir, env, run...)
			if out := r.stdout + r.stderr; !strings.Contains(out, "added w") || !strings.Contains(out, "left out (on_schema_change: ignore_new): extra") {
				t.Errorf("run 5 should land w again and still leave extra out:\n%s", r)
			}
		})
	}
}
