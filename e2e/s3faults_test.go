package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestS3FaultsLandEveryRowOnce puts a fault-injecting proxy between wharf
// and the S3 server (versitygw): wharf -> TCP faults (latency, resets) ->
// HTTP faults (5xx answers) -> versitygw. Each run lands a new window of
// ~10 MB (two or more multipart upload parts) under one kind of fault:
//
//  1. 40 ms added to every chunk either way, and 503 Slow Down on two
//     part uploads: the store client retries, the run succeeds;
//  2. the connection reset after 3 MiB of an upload: retried, or the run
//     fails and the next run lands the window;
//  3. every CompleteMultipartUpload answered 503 (more than the client's
//     attempts): the run fails naming the lake, commits nothing and leaves
//     no unfinished upload; with the fault gone, the next run lands it.
//
// After each window, an independent read finds every source row in the
// bucket exactly once, and `wharf lake verify` passes.
func TestS3FaultsLandEveryRowOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lands ~30 MB into S3")
	}
	const window = 72000 // rows of ~256 hex characters: ~9.8 MB of Parquet, two upload parts
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)`)
	total := 0
	addWindow := func() {
		sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g,
			md5(g::text) || md5((g * 3)::text) || md5((g * 5)::text) || md5((g * 7)::text) ||
			md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) || md5((g * 19)::text),
			'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
			FROM generate_series(%d, %d) g`, total+1, total+window))
		total += window
	}

	s := testdb.S3Bucket(t)
	httpFaults := testdb.StartHTTPFaults(t, s.Endpoint)
	tcpFaults := testdb.StartFaultProxy(t, httpFaults.Addr())
	via := *s
	via.Endpoint = "http://" + tcpFaults.Addr()
	dir := t.TempDir()
	env := s3Catalog(t, dir, &via, schema, "events", "", "updated_at")
	prefix := "postgres/" + schema + ".events"
	// The lake's file_size is 32MiB: each window is one file of two or more
	// 8 MiB parts.
	isPart := func(r *http.Request) bool { return r.Method == http.MethodPut && r.URL.Query().Has("partNumber") }
	isComplete := func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploadId") }

	check := func(what string) {
		t.Helper()
		checkExactlyOnce(t, s, prefix, total)
		if up := s.Uploads(t); len(up) != 0 {
			t.Errorf("%s: unfinished multipart uploads left behind: %v", what, up)
		}
		v := wharf(t, dir, env, "lake", "verify", "events")
		if v.code != 0 || !strings.Contains(v.stdout, "events: OK") || !strings.Contains(v.stdout, "0 leftover file(s)") {
			t.Errorf("%s: lake verify:\n%s", what, v)
		}
	}
	// landed runs wharf until a run lands the window (at most twice),
	// returning the failed attempts' output.
	landed := func(what string) []result {
		t.Helper()
		var failed []result
		for range 2 {
			r := wharf(t, dir, env, "run", "events")
			if r.code == 0 {
				if !strings.Contains(r.stdout, fmt.Sprint(window)) {
					t.Errorf("%s: the run should land the %d rows of the window:\n%s", what, window, r)
				}
				return failed
			}
			if !strings.Contains(r.stderr, "workflow events: ") {
				t.Errorf("%s: a failed run should name the workflow:\n%s", what, r)
			}
			failed = append(failed, r)
		}
		t.Fatalf("%s: no run landed the window: %v", what, failed)
		return nil
	}

	// 1. Latency and two throttled part uploads: retried by the client.
	addWindow()
	tcpFaults.Latency(40 * time.Millisecond)
	httpFaults.Fail(2, http.StatusServiceUnavailable, isPart)
	if failed := landed("latency and 503s"); len(failed) != 0 {
		t.Errorf("latency and two 503s should be retried within the run: %v", failed)
	}
	tcpFaults.Latency(0)
	if n := len(httpFaults.Failed()); n != 2 {
		t.Errorf("%d requests answered 503, want 2", n)
	}
	check("latency and 503s")

	// 2. A connection reset mid-upload.
	addWindow()
	tcpFaults.ResetAfter(3 << 20)
	failed := landed("reset mid-upload")
	if _, resets, _ := tcpFaults.Stats(); resets != 1 {
		t.Errorf("%d connections reset, want 1", resets)
	}
	t.Logf("reset mid-upload: %d failed run(s) before the window landed", len(failed))
	check("reset mid-upload")

	// 3. The upload's completion refused beyond the client's attempts.
	addWindow()
	before := len(httpFaults.Failed())
	httpFaults.Fail(1000, http.StatusServiceUnavailable, isComplete)
	r := wharf(t, dir, env, "run", "events")
	httpFaults.Fail(0, 0, nil)
	if r.code != 1 || !strings.Contains(r.stderr, "workflow events: ") || !strings.Contains(r.stderr, "503") || strings.Contains(r.stderr, "failed to complete multipart upload for upload ID") {
		t.Fatalf("a lake refusing every upload completion should fail the run, naming the workflow and the status:\n%s", r)
	}
	t.Logf("completion refused %d times; wharf said:\n%s", len(httpFaults.Failed())-before, r.stderr)
	if up := s.Uploads(t); len(up) != 0 {
		t.Errorf("the failed run left unfinished uploads: %v", up)
	}
	total -= window // not landed yet
	checkExactlyOnce(t, s, prefix, total)
	total += window
	if failed := landed("after completion refused"); len(failed) != 0 {
		t.Errorf("with the fault gone the run should land: %v", failed)
	}
	check("after completion refused")
}
