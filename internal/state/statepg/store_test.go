package statepg_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statepg"
	"github.com/wharf-data/wharf/internal/state/statetest"
	"github.com/wharf-data/wharf/internal/testdb"
)

var _ state.Store = (*statepg.Store)(nil)

func TestConformance(t *testing.T) {
	t.Parallel()
	statetest.Run(t, backend)
}

// backend runs the conformance suites, each test on a schema of its own.
var backend = statetest.Backend{
	NewURL: func(t *testing.T) string {
		dsn, _ := testdb.PostgresSchema(t)
		return dsn
	},
	Open: func(ctx context.Context, url string) (state.Store, error) {
		return statepg.Open(ctx, url)
	},
	FailFileInsert: func(t *testing.T, url, path string) {
		conn := connect(t, url)
		if _, err := conn.Exec(t.Context(), `CREATE FUNCTION wharf_test_fail_file() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					IF NEW.path = `+quote(path)+` THEN RAISE EXCEPTION 'test trigger refuses this file'; END IF;
					RETURN NEW;
				END $$`); err != nil {
			t.Fatalf("create trigger function: %v", err)
		}
		if _, err := conn.Exec(t.Context(), `CREATE TRIGGER wharf_test_fail_file BEFORE INSERT ON wharf_files
				FOR EACH ROW EXECUTE FUNCTION wharf_test_fail_file()`); err != nil {
			t.Fatalf("create trigger: %v", err)
		}
	},
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// connect opens a plain connection to url (search_path included), closed
// when t ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func openStore(t *testing.T, url string) *statepg.Store {
	t.Helper()
	s, err := statepg.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestTablesInCurrentSchema checks that the store keeps to the schema its
// URL selects, with every table prefixed wharf_.
func TestTablesInCurrentSchema(t *testing.T) {
	t.Parallel()
	dsnA, schemaA := testdb.PostgresSchema(t)
	dsnB, schemaB := testdb.PostgresSchema(t)
	a, b := openStore(t, dsnA), openStore(t, dsnB)
	r := &state.Run{ID: "same-id", Workflow: "wf", Trigger: state.TriggerManual}
	if err := a.StartRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Run(t.Context(), "same-id"); err == nil {
		t.Fatalf("a run started in schema %s is visible in schema %s", schemaA, schemaB)
	}
	conn := connect(t, dsnA)
	rows, err := conn.Query(t.Context(), `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_name LIKE 'wharf\_%' AND table_schema IN ($1, $2, 'public') ORDER BY 1, 2`, schemaA, schemaB)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			t.Fatal(err)
		}
		got[schema] = append(got[schema], table)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := "wharf_chunks,wharf_files,wharf_leases,wharf_runs,wharf_schema_migrations,wharf_watermarks,wharf_workers,wharf_workflows"
	for _, schema := range []string{schemaA, schemaB} {
		if strings.Join(got[schema], ",") != want {
			t.Errorf("tables in %s = %v, want %s", schema, got[schema], want)
		}
	}
	if len(got["public"]) != 0 {
		t.Errorf("tables leaked into public: %v", got["public"])
	}
}

// TestConcurrentOpenMigratesOnce races several Opens on a fresh schema.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	dsn, _ := testdb.PostgresSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			s, err := statepg.Open(t.Context(), dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	ms, err := statepg.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := connect(t, dsn).QueryRow(t.Context(), `SELECT count(*), max(version) FROM wharf_schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].Version {
		t.Errorf("wharf_schema_migrations has %d rows up to %d; want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].Version)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	dsn, _ := testdb.PostgresSchema(t)
	openStore(t, dsn)
	if _, err := connect(t, dsn).Exec(t.Context(), `INSERT INTO wharf_schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	_, err := statepg.Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "version 9999 was applied by a newer wharf") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenErrorsRedactPassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://wharf:s3cr3tpw@127.0.0.1:1/db?connect_timeout=2&sslmode=disable", // nothing listens on port 1
		"postgres://wharf:s3cr3tpw@127.0.0.1:notaport/db",
		"postgres://wharf:s3cr3tpw@127.0.0.1:5432/db?sslmode=bogus",
		"postgres://wharf@127.0.0.1:1/db?password=s3cr3tpw&connect_timeout=2&sslmode=disable",
		"postgres://wharf:s3cr3tpw@127.0.0.1:5432/db?connect_timeout=notanumber",
		"postgres://wharf:s3cr3tpw@[::1/db", // malformed
	} {
		_, err := statepg.Open(t.Context(), url)
		if err == nil {
			t.Errorf("Open(%s) succeeded", secret.RedactURL(url))
			continue
		}
		if strings.Contains(err.Error(), "s3cr3tpw") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "open state postgres://") {
			t.Errorf("error does not name the URL: %v", err)
		}
	}
}

// TestOpenPoolSizesThePoolNotTheURL: OpenPool asks for its connections on
// the pool, unless the URL sets pool_max_conns; its errors name the URL as
// the user gave it, not one with wharf's pool setting appended.
func TestOpenPoolSizesThePoolNotTheURL(t *testing.T) {
	t.Parallel()
	url := "postgres://wharf:s3cr3tpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2" // nothing listens on port 1
	_, err := statepg.OpenPool(t.Context(), url, 12)
	if want := "open state postgres://wharf:xxxxx@127.0.0.1:1/db?sslmode=disable&connect_timeout=2: connect: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("OpenPool error:\n%v\nwant it to start\n%s", err, want)
	}

	dsn, _ := testdb.PostgresSchema(t)
	for _, c := range []struct {
		url   string
		conns int
		want  int32
	}{
		{dsn, 12, 12},
		{dsn, 3, 10}, // never fewer than 10 when asked
		{dsn + "&pool_max_conns=5", 12, 5},
	} {
		s, err := statepg.OpenPool(t.Context(), c.url, c.conns)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Pool().Config().MaxConns; got != c.want {
			t.Errorf("OpenPool(%s, %d): pool of %d, want %d", secret.RedactURL(c.url), c.conns, got, c.want)
		}
		s.Close()
	}
}
