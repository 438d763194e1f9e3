package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestFileLakeDiskFull lands into a file lake on a small tmpfs of its own
// (mounting one needs root or CAP_SYS_ADMIN: without it the test skips
// locally and fails under CI). A ballast file leaves ~300 kB free: the
// first window (a few kB) lands, the second (~2.7 MB) fills the disk. That
// run must fail naming the file it could not write, leave the lake as it
// was and the watermark where it was; once the ballast is removed, the
// next run lands the window once.
func TestFileLakeDiskFull(t *testing.T) {
	t.Parallel()
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		testdb.Unavailable(t, "a tmpfs mount (root or CAP_SYS_ADMIN)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})

	const first, total = 100, 20100
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)`)
	insert := func(from, to int) {
		sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g,
			md5(g::text) || md5((g * 3)::text) || md5((g * 5)::text) || md5((g * 7)::text) ||
			md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) || md5((g * 19)::text),
			'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
			FROM generate_series(%d, %d) g`, from, to))
	}
	insert(1, first)
	dir := t.TempDir()
	lakeDir := filepath.Join(mnt, "lake")
	catalog := pgFileCatalog(t, dir, lakeDir, u, fmt.Sprintf("  - {name: events, table: %s.events, cursor: updated_at}\n", schema))
	env := []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), catalog}
	mustWharf(t, dir, env, "run", "events")

	ballast := filepath.Join(mnt, "ballast")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(mnt, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * fs.Bsize
	if err := os.WriteFile(ballast, make([]byte, free-300<<10), 0o600); err != nil {
		t.Fatalf("ballast: %v", err)
	}
	insert(first+1, total)
	landed := parquetFiles(t, lakeDir)
	r := wharf(t, dir, env, "run", "events")
	if r.code != 1 || !strings.Contains(r.stderr, "workflow events: ") || !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, lakeDir) {
		t.Fatalf("a full disk should fail the run, naming the workflow, the path and the cause:\n%s", r)
	}
	t.Logf("disk full: %s", strings.TrimSpace(r.stderr))
	checkNothingLanded(t, dir, env, lakeDir, landed)
	var stray []string
	for _, f := range allFiles(t, lakeDir) {
		if !strings.HasPrefix(f, "_wharf/") && !strings.HasSuffix(f, ".parquet") {
			stray = append(stray, f)
		}
	}
	if len(stray) > 0 {
		t.Errorf("the failed run left files in the lake: %v", stray)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	r = mustWharf(t, dir, env, "run", "events")
	if !strings.Contains(r.stdout, fmt.Sprint(total-first)) {
		t.Errorf("once space is freed the run should land the %d rows of the window:\n%s", total-first, r)
	}
	checkIDsOnce(t, lakeDir, total)
	if v := wharf(t, dir, env, "lake", "verify", "events"); v.code != 0 || !strings.Contains(v.stdout, "0 leftover file(s)") {
		t.Errorf("lake verify:\n%s", v)
	}
}
