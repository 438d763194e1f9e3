package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/testdb"
)

// leakScan collects every place a wharf run printed or wrote something and
// reports each one that holds a password. Extend it with the places a new
// feature writes to (the console's pages and API, say): call Text for what
// you fetched, Dir for files, Postgres for a database schema.
type leakScan struct {
	t         *testing.T
	passwords []string
	scanned   int
}

func newLeakScan(t *testing.T, passwords ...string) *leakScan {
	return &leakScan{t: t, passwords: passwords}
}

// Text checks one output (what is names it in the failure).
func (s *leakScan) Text(what, text string) {
	s.t.Helper()
	s.scanned++
	for _, pw := range s.passwords {
		for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
			if strings.Contains(text, form) {
				s.t.Errorf("%s holds a password (%q)", what, form)
			}
		}
	}
}

// Dir checks every file under root, skipping the directories in skip
// (where the secrets themselves are kept).
func (s *leakScan) Dir(root string, skip ...string) {
	s.t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, sk := range skip {
			if p == sk {
				return filepath.SkipDir
			}
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s.Text("file "+p, string(b))
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// Postgres checks every row of every table in schema, as JSON text.
func (s *leakScan) Postgres(conn *pgx.Conn, schema string) {
	s.t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, schema)
	if err != nil {
		s.t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		s.t.Fatal(err)
	}
	if len(tables) == 0 {
		s.t.Fatalf("schema %s has no tables to scan", schema)
	}
	for _, tbl := range tables {
		ident := pgx.Identifier{schema, tbl}.Sanitize()
		var dump *string
		if err := conn.QueryRow(ctx, "SELECT string_agg(row_to_json(t)::text, E'\\n') FROM "+ident+" t").Scan(&dump); err != nil {
			s.t.Fatal(err)
		}
		if dump != nil {
			s.Text("state table "+ident, *dump)
		}
	}
}

// TestNoPasswordAnywhere lands a PostgreSQL table into an S3 lake with a
// PostgreSQL state store, all three with passwords (the test server trusts
// 127.0.0.1, so any password is accepted), drives every command a user
// would, and scans stdout, stderr, debug logs in both formats, plan output,
// the state database, the lake's Parquet files and manifests and the working
// directory for the passwords: zero hits.
func TestNoPasswordAnywhere(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (id integer PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO regions (id, name) VALUES (1, 'Europe'), (2, 'Americas')`)
	s3 := testdb.S3Bucket(t)
	stateDSN, stateSchema := testdb.PostgresSchema(t)
	const statePassword = "St4te-Pa55w0rd-Z"
	su, err := url.Parse(stateDSN)
	if err != nil {
		t.Fatal(err)
	}
	su.User = url.UserPassword(su.User.Username(), statePassword)
	if su.User.Username() == "" {
		su.User = url.UserPassword("postgres", statePassword)
	}

	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	rdsSecret(t, secrets, "hr", u)
	if err := os.WriteFile(filepath.Join(secrets, "lake.json"), []byte(s3.Secret()), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(cat, []byte(fmt.Sprintf(`connections:
  hr: {secret: hr}
lakes:
  raw: {url: %q, secret: lake}
workflows:
  - {name: regions, connection: hr, lake: raw, table: %s.regions, cursor: updated_at}
`, s3.URL("landing"), schema)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"WHARF_STATE=" + su.String(), "WHARF_SECRETS=file:" + secrets, "WHARF_CATALOG=" + cat}
	const (
		adminToken = "Leak-Admin-T0ken-9c1d"
		hookSecret = "leak-hook-secret-5e8a"
	)
	scan := newLeakScan(t, testPassword, statePassword, s3.SecretKey, adminToken, hookSecret)
	for _, args := range [][]string{
		{"validate"},
		{"plan"}, {"plan", "--json"},
		{"deploy"},
		{"run", "--all", "--log-level", "debug"},
		{"run", "regions", "--log-level", "debug", "--log-format", "json"},
		{"runs"}, {"runs", "--json"},
		{"status"}, {"status", "--json"},
		{"lake", "ls", "raw"},
		{"lake", "verify", "regions"},
		{"discover", "--connection", "hr", "--schema", schema},
	} {
		r := mustWharf(t, dir, env, args...)
		scan.Text("wharf "+strings.Join(args, " "), r.stdout+r.stderr)
	}
	// A failing run prints the most: errors from the source and the lake.
	sqlExec(t, conn, `ALTER TABLE regions RENAME TO regions_gone`)
	r := wharf(t, dir, env, "run", "--all", "--log-level", "debug")
	if r.code != 1 {
		t.Fatalf("a run of a missing table should fail:\n%s", r)
	}
	scan.Text("failing wharf run", r.stdout+r.stderr)
	consoleLeaks(t, scan, dir, env, adminToken, hookSecret)

	keys := s3.Keys(t)
	var parquet, manifests int
	for _, k := range keys {
		scan.Text("lake object "+k, string(s3.Get(t, k)))
		switch {
		case strings.HasSuffix(k, ".parquet"):
			parquet++
		case strings.Contains(k, "_wharf/manifests/"):
			manifests++
		}
	}
	if parquet == 0 || manifests == 0 {
		t.Fatalf("want Parquet files and manifests to scan, the lake has %v", keys)
	}
	scan.Postgres(conn, stateSchema)
	scan.Dir(dir, secrets)
}

// consoleLeaks runs serve with the console and an alert webhook over the
// test's state, has a run fail through the API (its table is gone), and
// scans every page, API answer (errors included), metric, River job
// listing, alert message and serve's log.
func consoleLeaks(t *testing.T, scan *leakScan, dir string, env []string, admin, hookSecret string) {
	t.Helper()
	hook := newHookReceiver(t, "/services/T2/B2/"+hookSecret)
	d, base := serveConsole(t, dir, append(env, "LEAK_ADMIN="+admin, "LEAK_HOOK="+hook.URL()), "serve",
		"--http-token", "env:LEAK_ADMIN", "--alert-webhook", "env:LEAK_HOOK", "--poll-interval", "50ms")
	do := func(method, path string) (int, string) {
		t.Helper()
		code, body := request(t, method, base+path, admin)
		scan.Text(method+" "+path, body)
		return code, body
	}
	code, body := do("POST", "/api/v1/workflows/regions/trigger")
	var trig struct {
		RunID string `json:"run_id"`
	}
	if code != http.StatusAccepted || json.Unmarshal([]byte(body), &trig) != nil {
		t.Fatalf("trigger regions: %d %s", code, body)
	}
	waitUntil(t, 60*time.Second, "the failed run's alert", func() bool { return len(hook.all()) > 0 })
	for _, path := range []string{"/", "/?status=failed&q=reg", "/workflows/regions", "/runs/" + trig.RunID,
		"/api/v1/workflows", "/api/v1/workflows/regions", "/api/v1/runs?limit=50", "/api/v1/runs/" + trig.RunID,
		"/metrics", "/healthz", "/api/v1/workflows/nope", "/api/v1/runs?status=bogus", "/river/api/jobs?state=completed",
		"/river/api/jobs?state=cancelled"} {
		if code, body := do("GET", path); code >= 500 {
			t.Errorf("GET %s = %d: %s", path, code, body)
		}
	}
	do("POST", "/api/v1/runs/"+trig.RunID+"/cancel") // 409: it ended
	d.stop(t, 30*time.Second)
	for i, m := range hook.all() {
		scan.Text(fmt.Sprintf("alert %d", i), m)
	}
	if !strings.Contains(strings.Join(hook.all(), "\n"), "of workflow regions failed") {
		t.Errorf("alerts = %q, want the failed run of regions", hook.all())
	}
	scan.Text("serve --http's log", d.stderr.String())
}
