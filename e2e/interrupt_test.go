package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestInterruptedRun: SIGINT or SIGTERM while wharf run waits on its source
// exits 130 or 143, says nothing landed and to run again, prints no summary,
// and records the run cancelled.
func TestInterruptedRun(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (id integer PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO regions (id) VALUES (1), (2)`)
	dir := t.TempDir()
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(fmt.Sprintf(`connections:
  hr: {engine: postgres, secret: env:HR_DB_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: regions, table: %s.regions, cursor: updated_at}
`, dir, schema)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HR_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath,
		"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}

	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		// Another session holds the table: the run waits on it.
		ctx := context.Background()
		locker, err := pgx.Connect(ctx, testdb.PostgresURL())
		if err != nil {
			t.Fatal(err)
		}
		tx, err := locker.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{schema, "regions"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(wharfBin, "run", "regions")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the run is waiting on the lock: a lock on this test's
		// table not granted (pg_stat_activity is the whole server's, and
		// other tests have tables named regions).
		deadline := time.Now().Add(20 * time.Second)
		for {
			var waiting int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE relation = $1::regclass AND NOT granted`,
				pgx.Identifier{schema, "regions"}.Sanitize()).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the run never waited on the locked table:\n%s%s", out.String(), errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Signal(tc.sig)
		err = cmd.Wait()
		_ = tx.Rollback(ctx)
		locker.Close(ctx)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
			t.Fatalf("%s: exit %v, want %d\n%s%s", tc.sig, err, tc.code, out.String(), errb.String())
		}
		if !strings.Contains(errb.String(), "interrupted: nothing landed for regions, run again") || strings.Contains(out.String(), "workflow(s)") {
			t.Errorf("%s: want the interrupted message and no summary:\nstdout %s\nstderr %s", tc.sig, out.String(), errb.String())
		}
	}
	r := mustWharf(t, dir, env, "runs", "regions")
	if strings.Count(r.stdout, "cancelled") != 2 {
		t.Errorf("both runs should be recorded cancelled:\n%s", r)
	}
}
