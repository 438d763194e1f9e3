package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/testdb"
)

// restLake writes a catalog landing <schema>.items into a file lake whose
// Iceberg catalog is the test REST catalog s (under its warehouse), with
// the credential in the secret secretRef ("" = none), and returns the
// directory, the environment and the lake's directory.
func restLake(t *testing.T, s *testdb.IcebergREST, schema, secretRef string) (string, []string, string) {
	t.Helper()
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	return dir, restCatalog(t, dir, s, schema, secretRef, fmt.Sprintf("url: %q", "file://"+lakeDir)), lakeDir
}

// restTokenLake starts a REST catalog behind a bearer token, under the
// warehouse "lake", and writes restLake's catalog, whose secret is
// env:CATALOG_TOKEN: the environment returned does not set it.
func restTokenLake(t *testing.T, schema string) (*testdb.IcebergREST, string, []string, string) {
	t.Helper()
	s := testdb.StartIcebergREST(t)
	s.Warehouse = "lake"
	dir, env, lakeDir := restLake(t, s, schema, "env:CATALOG_TOKEN")
	return s, dir, env, lakeDir
}

// restCatalog writes into dir the catalog of restLake, with the lake's
// own settings (url, secret) in lake, and returns the environment.
func restCatalog(t *testing.T, dir string, s *testdb.IcebergREST, schema, secretRef, lake string) []string {
	t.Helper()
	sec := ""
	if secretRef != "" {
		sec = "\n    iceberg_catalog_secret: " + secretRef
	}
	cat := fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw:
    %s
    format: iceberg
    iceberg_catalog: "rest:%s?warehouse=%s"%s
workflows:
  - {name: items, table: %s.items, cursor: updated_at}
`, lake, s.URL, s.Warehouse, sec, schema)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"PG_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"),
		"SSL_CERT_FILE=" + s.CAFile}
}

// restTable loads <schema>_items through iceberg-go's REST client (its
// files through iceberg-go's own FileIO, configured as the server's).
func restTable(t *testing.T, s *testdb.IcebergREST, schema string) *table.Table {
	t.Helper()
	ctx := context.Background()
	c, err := rest.NewCatalog(ctx, "test", s.URL, rest.WithWarehouseLocation(s.Warehouse), rest.WithOAuthToken(s.Token), rest.WithCustomTransport(s.Transport),
		rest.WithAdditionalProps(s.IO))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tbl, err := c.LoadTable(ctx, table.Identifier{"postgres", schema + "_items"})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// restSource makes the source table items with ids 1..rows.
func restSource(t *testing.T, rows int) (*pgx.Conn, string) {
	t.Helper()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE items (id integer PRIMARY KEY, name text, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO items SELECT g, 'i' || g, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, %d) g`, rows))
	return conn, schema
}

// checkRESTTable checks the table against the workflow's runs: one snapshot
// per succeeded run, each naming it, and the current snapshot, read through
// iceberg-go's scan, holding ids 1..rows once each.
func checkRESTTable(t *testing.T, s *testdb.IcebergREST, schema, dir string, env []string, rows int) {
	t.Helper()
	tbl := restTable(t, s, schema)
	runs := checkSnapshotRuns(t, tbl, dir, env, "items")
	if bad, others := onceEach(scanIDs(t, tbl), rows); bad > 0 || others > 0 {
		t.Errorf("scan: %d of ids 1..%d not there once, %d other ids", bad, rows, others)
	}
	v := wharf(t, dir, env, "lake", "verify", "items")
	if want := fmt.Sprintf("%d snapshot(s)", runs); v.code != 0 || !strings.Contains(v.stdout, "items: OK") || !strings.Contains(v.stdout, want) {
		t.Errorf("lake verify (want %s):\n%s", want, v)
	}
}

// TestIcebergRESTCatalog lands a table into a file lake whose Iceberg
// catalog is a REST catalog (the protocol test server, over TLS whose
// certificate the binary trusts through SSL_CERT_FILE, behind a bearer
// token, under a warehouse prefix), through the real binary: three runs,
// the last landing nothing. Read back through iceberg-go's REST client and
// scan, the table has every row once and one snapshot per run; lake verify
// and lake ls read it through the REST catalog. A wrong or missing token
// fails the run naming the catalog, and no token is ever printed.
func TestIcebergRESTCatalog(t *testing.T) {
	t.Parallel()
	conn, schema := restSource(t, 100)
	s, dir, env, lakeDir := restTokenLake(t, schema)
	tokenEnv := append(env, "CATALOG_TOKEN="+s.Token)

	var outputs []string
	run := func(env []string, args ...string) result {
		t.Helper()
		r := wharf(t, dir, env, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	for i := range 3 { // the third lands nothing
		if r := run(tokenEnv, "run", "items"); r.code != 0 {
			t.Fatalf("run %d: %s", i+1, r)
		}
		if i == 0 {
			sqlExec(t, conn, `INSERT INTO items VALUES (101, 'new', now())`)
		}
	}
	checkRESTTable(t, s, schema, dir, tokenEnv, 101)
	if tbl := restTable(t, s, schema); tbl.Location() != "file://"+lakeDir+"/postgres/"+schema+".items" || len(tbl.Metadata().Snapshots()) != 3 {
		t.Errorf("table at %s with %d snapshots", tbl.Location(), len(tbl.Metadata().Snapshots()))
	}
	// Everything went through the REST protocol.
	for _, want := range []string{"GET config", "POST namespaces", "POST namespaces/{ns}/tables", "GET namespaces/{ns}/tables/{table}", "POST namespaces/{ns}/tables/{table}"} {
		if !slices.Contains(s.Requests(), want) {
			t.Errorf("no %s among the catalog's requests", want)
		}
	}

	ls := run(tokenEnv, "lake", "ls", "raw")
	if ls.code != 0 || strings.Contains(ls.stdout, " none ") ||
		!strings.Contains(ls.stdout, "Iceberg table postgres."+schema+"_items: 3 snapshot(s); the current one has 2 file(s), 101 rows") {
		t.Errorf("lake ls:\n%s", ls)
	}

	// A wrong token, and none: the run fails before it lands anything,
	// naming the catalog and the secret.
	sqlExec(t, conn, `INSERT INTO items VALUES (102, 'late', now())`)
	wrong := "wrong-" + s.Token
	catName := fmt.Sprintf("iceberg catalog rest:%s?warehouse=lake", s.URL)
	r := run(append(env, "CATALOG_TOKEN="+wrong), "run", "items")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, catName) ||
		!strings.Contains(r.stdout+r.stderr, `the catalog refused the credential of iceberg_catalog_secret "env:CATALOG_TOKEN"`) {
		t.Errorf("a wrong token should fail naming the catalog (%s) and the secret:\n%s", catName, r)
	}
	v := run(append(env, "CATALOG_TOKEN="+wrong), "lake", "verify", "items")
	if v.code == 0 || !strings.Contains(v.stdout+v.stderr, catName) {
		t.Errorf("lake verify with a wrong token:\n%s", v)
	}
	noSecretDir, noSecretEnv, _ := restLake(t, s, schema, "")
	r = wharf(t, noSecretDir, noSecretEnv, "run", "items")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, catName) || !strings.Contains(r.stdout+r.stderr, "the catalog wants a credential") {
		t.Errorf("no token should fail naming the catalog:\n%s", r)
	}
	// No output, and no file of the state or the lake, holds the token.
	scan := newLeakScan(t, s.Token)
	for i, out := range outputs {
		scan.Text(fmt.Sprintf("output %d", i), out)
	}
	scan.Dir(dir)
	// The right token again: the row the failed runs left lands once.
	if r := run(tokenEnv, "run", "items"); r.code != 0 {
		t.Fatalf("run after the failures: %s", r)
	}
	checkRESTTable(t, s, schema, dir, tokenEnv, 102)
}

// TestKilledRunsIntoRESTCatalog kills the real wharf at each crash point
// of an iceberg lake whose catalog is a REST catalog (OAuth2 client
// credentials in a secret file), before and after the catalog commit of its
// snapshot among them, and once has the catalog refuse that commit (503):
// the next run appends a missing snapshot, never a second one, and the
// table holds every row once.
func TestKilledRunsIntoRESTCatalog(t *testing.T) {
	t.Parallel()
	cases := []struct {
		point     string
		committed bool // the killed run committed in the state store
		snapshots int  // the table's snapshots before the retry
	}{
		{"file-written", false, 1},
		{"before-commit", false, 1},
		{"after-commit", true, 1}, // before the catalog commit
		{"after-snapshot", true, 2},
		{"after-manifest", true, 2},
		{"catalog-down", true, 1}, // the catalog answers the commit with 503
	}
	for _, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			t.Parallel()
			conn, schema := restSource(t, 50)
			s := testdb.StartIcebergREST(t)
			s.Warehouse = "wh"
			secretFile := filepath.Join(t.TempDir(), "catalog.json")
			if err := os.WriteFile(secretFile, []byte(fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, s.ClientID, s.ClientSecret)), 0o600); err != nil {
				t.Fatal(err)
			}
			dir, env, _ := restLake(t, s, schema, "file:"+secretFile)
			mustWharf(t, dir, env, "run", "items")
			sqlExec(t, conn, `INSERT INTO items SELECT g, 'i' || g, '2024-02-01'::timestamptz + g * interval '1 minute' FROM generate_series(51, 80) g`)

			if c.point == "catalog-down" {
				s.Fail("POST namespaces/{ns}/tables/{table}", 1)
				r := wharf(t, dir, env, "run", "items")
				if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "its Iceberg snapshot could not be made (the next run makes it)") {
					t.Fatalf("a refused catalog commit should fail the committed run:\n%s", r)
				}
			} else {
				r := wharf(t, dir, append(env, "WHARF_TEST_CRASH_AT="+c.point), "run", "items")
				if r.code != -1 || !strings.Contains(r.stderr, "killing the process") {
					t.Fatalf("the run should have been killed at %s:\n%s", c.point, r)
				}
			}
			if n := len(restTable(t, s, schema).Metadata().Snapshots()); n != c.snapshots {
				t.Errorf("%d snapshots before the retry, want %d", n, c.snapshots)
			}
			r := mustWharf(t, dir, env, "run", "items")
			if c.committed && !strings.Contains(r.stdout, "Nothing new to land") {
				t.Errorf("the killed run had committed: its retry should land nothing:\n%s", r)
			}
			if repaired := strings.Contains(r.stderr, "appended the missing snapshot of a committed run"); repaired != (c.committed && c.snapshots == 1) {
				t.Errorf("the retry appended a missing snapshot: %v:\n%s", repaired, r)
			}
			checkRESTTable(t, s, schema, dir, env, 80)
		})
	}
}

// TestIcebergRESTCatalogOnS3 lands into an S3 lake (versitygw) whose
// catalog is a REST catalog that writes the table metadata into the same
// bucket through iceberg-go's own S3 FileIO, configured with the store's
// endpoint and keys as a real catalog server is (see restOnObjectStore).
func TestIcebergRESTCatalogOnS3(t *testing.T) {
	t.Parallel()
	b := testdb.S3Bucket(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "lake-keys.json")
	if err := os.WriteFile(keys, []byte(b.Secret()), 0o600); err != nil {
		t.Fatal(err)
	}
	restOnObjectStore(t, dir, b.IcebergIO(), fmt.Sprintf("url: %q\n    secret: file:%s", b.URL("lake"), keys), "s3://"+b.Bucket, b.Keys)
}

// TestIcebergRESTCatalogOnGCS is TestIcebergRESTCatalogOnS3 on a GCS
// bucket (fake-gcs-server), the catalog writing through iceberg-go's GCS
// FileIO. Not parallel: the emulator is found through the environment.
func TestIcebergRESTCatalogOnGCS(t *testing.T) {
	bucket := testdb.GCSBucket(t)
	restOnObjectStore(t, t.TempDir(), testdb.GCSIcebergIO(), fmt.Sprintf("url: gs://%s/lake?anonymous=true", bucket), "gs://"+bucket,
		func(t testing.TB) []string { return testdb.GCSKeys(t, bucket) })
}

// restOnObjectStore lands <schema>.items into the lake of lakeLines, in
// the object store bucket (its URL "s3://NAME"; keys lists its objects),
// through a REST catalog started with the storage properties io: the
// catalog writes the metadata files, wharf the data files, side by side
// in the bucket. The real binary is killed between its state commit and
// the catalog commit; the next run appends the missing snapshot through
// the catalog. Read back through iceberg-go's REST client, FileIO and
// scan, the table holds every row once, with one snapshot per succeeded
// run.
func restOnObjectStore(t *testing.T, dir string, io iceberg.Properties, lakeLines, bucket string, keys func(testing.TB) []string) {
	conn, schema := restSource(t, 100)
	s := testdb.StartIcebergRESTOn(t, io)
	s.Warehouse = "lake"
	env := append(restCatalog(t, dir, s, schema, "env:CATALOG_TOKEN", lakeLines), "CATALOG_TOKEN="+s.Token)

	mustWharf(t, dir, env, "run", "items")
	sqlExec(t, conn, `INSERT INTO items SELECT g, 'i' || g, '2024-02-01'::timestamptz + g * interval '1 minute' FROM generate_series(101, 150) g`)
	r := wharf(t, dir, append(env, "WHARF_TEST_CRASH_AT=after-commit"), "run", "items")
	if r.code != -1 || !strings.Contains(r.stderr, "killing the process") {
		t.Fatalf("the run should have been killed before its catalog commit:\n%s", r)
	}
	if n := len(restTable(t, s, schema).Metadata().Snapshots()); n != 1 {
		t.Errorf("%d snapshots after the killed run, want 1", n)
	}
	r = mustWharf(t, dir, env, "run", "items")
	if !strings.Contains(r.stdout, "Nothing new to land") || !strings.Contains(r.stderr, "appended the missing snapshot of a committed run") {
		t.Errorf("the retry should land nothing and append the killed run's snapshot:\n%s", r)
	}
	checkRESTTable(t, s, schema, dir, env, 150)

	// The table's metadata (the catalog's) and data (wharf's) are in the
	// bucket.
	tbl := restTable(t, s, schema)
	folder := "lake/postgres/" + schema + ".items/"
	if want := bucket + "/" + folder; tbl.Location()+"/" != want || !strings.HasPrefix(tbl.MetadataLocation(), want+"metadata/") {
		t.Errorf("table at %s, metadata %s; want both under %s", tbl.Location(), tbl.MetadataLocation(), want)
	}
	var metadata, data int
	for _, k := range keys(t) {
		switch {
		case strings.HasPrefix(k, folder+"metadata/") && strings.HasSuffix(k, ".metadata.json"):
			metadata++
		case strings.HasPrefix(k, folder) && strings.HasSuffix(k, ".parquet"):
			data++
		}
	}
	if metadata < 3 || data != 2 {
		t.Errorf("the bucket holds %d metadata files and %d data files of the table, want at least 3 and 2", metadata, data)
	}
}

// TestIcebergRESTCatalogHangs has the REST catalog carry out a run's
// snapshot commit and never answer it (a stalled proxy or server): with
// timeout=2s on the catalog URL the run fails within seconds, not at
// --run-timeout, naming the catalog and its timeouts; the next run finds
// the snapshot the catalog did make and does not append it again.
func TestIcebergRESTCatalogHangs(t *testing.T) {
	t.Parallel()
	conn, schema := restSource(t, 50)
	s, dir, env, _ := restTokenLake(t, schema)
	env = append(env, "CATALOG_TOKEN="+s.Token)
	catPath := filepath.Join(dir, "wharf.yaml")
	cat, err := os.ReadFile(catPath)
	if err != nil {
		t.Fatal(err)
	}
	withTimeout := strings.Replace(string(cat), "?warehouse=lake\"", "?warehouse=lake&timeout=2s\"", 1)
	if err := os.WriteFile(catPath, []byte(withTimeout), 0o600); err != nil || withTimeout == string(cat) {
		t.Fatalf("set timeout=2s: %v", err)
	}
	mustWharf(t, dir, env, "run", "items")

	sqlExec(t, conn, `INSERT INTO items SELECT g, 'i' || g, '2024-02-01'::timestamptz + g * interval '1 minute' FROM generate_series(51, 80) g`)
	s.Hang("POST namespaces/{ns}/tables/{table}", 1)
	start := time.Now()
	r := wharf(t, dir, env, "run", "items")
	took := time.Since(start)
	out := r.stdout + r.stderr
	for _, want := range []string{
		fmt.Sprintf("iceberg table postgres.%s_items in rest:%s?warehouse=lake&timeout=2s: commit the snapshot of run", schema, s.URL),
		"its Iceberg snapshot could not be made (the next run makes it)",
		"timeout awaiting response headers",
		"(the catalog did not answer in time: wharf waits 10s to connect and 2s for the answer to each request; timeout= on the iceberg_catalog URL sets the latter)",
	} {
		if r.code != 1 || !strings.Contains(out, want) {
			t.Errorf("a run whose catalog commit got no answer should fail saying %q:\n%s", want, r)
		}
	}
	if took > 30*time.Second { // not the default 60s, nor --run-timeout's hour
		t.Errorf("the run took %s to give up on a catalog with timeout=2s", took)
	}
	if n := len(restTable(t, s, schema).Metadata().Snapshots()); n != 2 {
		t.Errorf("%d snapshots: the catalog should have made the commit it never answered", n)
	}

	r = mustWharf(t, dir, env, "run", "items")
	if !strings.Contains(r.stdout, "Nothing new to land") || strings.Contains(r.stderr, "appended the missing snapshot") {
		t.Errorf("the next run should land nothing and find the snapshot made:\n%s", r)
	}
	checkRESTTable(t, s, schema, dir, env, 80)
}
