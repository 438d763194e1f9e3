package lake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/testdb"
)

// openStore opens a lake URL with a JSON secret ("" = none).
func openStore(t testing.TB, rawURL, secretJSON string, opts lake.Options) *lake.Lake {
	t.Helper()
	if secretJSON != "" {
		scheme, _, _ := strings.Cut(rawURL, "://")
		c, err := lake.ParseCredentials(scheme, []byte(secretJSON))
		if err != nil {
			t.Fatal(err)
		}
		opts.Credentials = c
	}
	l, err := lake.OpenWith(context.Background(), rawURL, opts)
	if err != nil {
		t.Fatalf("open %s: %v", rawURL, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// storeRoundTrip is the behaviour every object store must have: a run
// written and read back (files, footers), its manifest, the inventory that
// tells committed files from leftovers, and the clean-up of a crashed run.
func storeRoundTrip(t *testing.T, l *lake.Lake) {
	ctx := context.Background()
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	rec := buildMixed(t, 0, 3000)
	defer rec.Release()
	part := cityPartition(t)
	files := writeRun(t, l, "shop/public.orders", "run-a", part, lake.WriterOptions{}, rec)
	crashed := writeRun(t, l, "shop/public.orders", "run-b", nil, lake.WriterOptions{}, rec)

	listed, err := l.List(ctx, "shop/public.orders")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(listed) != len(files)+len(crashed) {
		t.Fatalf("List = %d files, want %d", len(listed), len(files)+len(crashed))
	}
	var rows int64
	for _, f := range files {
		info, schema, err := l.ReadFooter(ctx, f.Path)
		if err != nil {
			t.Fatalf("ReadFooter(%s): %v", f.Path, err)
		}
		if info.Rows != f.Rows || info.Bytes != f.Bytes {
			t.Errorf("footer of %s: %d rows %d bytes, writer said %d rows %d bytes", f.Path, info.Rows, info.Bytes, f.Rows, f.Bytes)
		}
		if schema.HasField("city") || !schema.HasField("descr") {
			t.Errorf("footer schema of %s: %v", f.Path, schema)
		}
		rows += info.Rows
	}
	if rows != 3000 {
		t.Errorf("run wrote %d rows, want 3000", rows)
	}

	m := &lake.Manifest{RunID: "run-a", Workflow: "orders", Prefix: "shop/public.orders", StartedAt: time.Now().UTC(), CommittedAt: time.Now().UTC()}
	for _, f := range files {
		m.Files = append(m.Files, lake.ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		m.Rows += f.Rows
		m.Bytes += f.Bytes
	}
	if err := l.WriteManifest(ctx, m); err != nil {
		t.Fatalf("WriteManifest: %v", err)
	}
	got, err := l.ReadManifest(ctx, "shop/public.orders", "run-a")
	if err != nil || got.Rows != 3000 || len(got.Files) != len(files) {
		t.Fatalf("ReadManifest = %+v, %v", got, err)
	}
	if _, err := l.ReadManifest(ctx, "shop/public.orders", "run-b"); !errors.Is(err, lake.ErrNoManifest) {
		t.Errorf("ReadManifest of a run without one: %v, want ErrNoManifest", err)
	}
	inv, err := l.Inventory(ctx, "shop")
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	if inv.Count(lake.Committed) != len(files) || inv.Count(lake.Leftover) != len(crashed) || inv.Count(lake.Missing) != 0 {
		t.Errorf("Inventory: %d committed, %d leftover, %d missing; want %d, %d, 0", inv.Count(lake.Committed), inv.Count(lake.Leftover), inv.Count(lake.Missing), len(files), len(crashed))
	}
	if findings, err := l.VerifyManifest(ctx, m); err != nil || len(findings) != 0 {
		t.Errorf("VerifyManifest of an intact run: %v, %v", findings, err)
	}

	n, err := l.DeleteRunFiles(ctx, "shop/public.orders", "run-b")
	if err != nil || n != len(crashed) {
		t.Fatalf("DeleteRunFiles = %d, %v; want %d", n, err, len(crashed))
	}
	inv, err = l.Inventory(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Count(lake.Leftover) != 0 || inv.Count(lake.Committed) != len(files) {
		t.Errorf("after DeleteRunFiles: %+v", inv.Entries)
	}

	// A file the manifest claims disappears: VerifyManifest names it.
	l2 := files[0].Path
	if _, err := l.DeleteRunFiles(ctx, "shop/public.orders", "run-a"); err != nil {
		t.Fatal(err)
	}
	findings, err := l.VerifyManifest(ctx, m)
	if err != nil || len(findings) != len(files) || findings[0].Path != l2 || !strings.Contains(findings[0].String(), "missing from the lake") {
		t.Errorf("VerifyManifest after the files went: %v, %v", findings, err)
	}
}

func TestFileStore(t *testing.T) {
	l, _ := openLake(t)
	storeRoundTrip(t, l)
}

func TestS3Store(t *testing.T) {
	s := testdb.S3Bucket(t)
	l := openStore(t, s.URL("raw/v1"), s.Secret(), lake.Options{})
	if strings.Contains(l.URL(), s.SecretKey) || strings.Contains(l.URL(), s.AccessKey) {
		t.Errorf("URL() shows a key: %s", l.URL())
	}
	storeRoundTrip(t, l)
	// The URL's path is a prefix inside the bucket, seen by a plain client.
	for _, k := range s.Keys(t) {
		if !strings.HasPrefix(k, "raw/v1/") {
			t.Errorf("object %s is outside the lake's prefix raw/v1/", k)
		}
	}
}

func TestGCSStore(t *testing.T) {
	bucket := testdb.GCSBucket(t)
	storeRoundTrip(t, openStore(t, "gs://"+bucket+"/lake", "", lake.Options{}))
}

func TestAzureStore(t *testing.T) {
	a := testdb.AzureContainer(t)
	storeRoundTrip(t, openStore(t, a.URL("lake"), a.Secret(), lake.Options{}))
}

// A Parquet file goes out as a multipart upload while it is written, and
// memory stays bounded by row group and parts, not by the file.
func TestS3MultipartMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads ~70 MB")
	}
	s := testdb.S3Bucket(t)
	l := openStore(t, s.URL(""), s.Secret(), lake.Options{})
	rec := buildMixed(t, 0, 50000)
	defer rec.Release()
	opts := lake.WriterOptions{RowGroupRows: 50000, FileBytes: 1 << 40, PartBytes: lake.MinPartBytes, UploadConcurrency: 2}
	w, err := l.NewRunWriter(context.Background(), "big", "r", rec.Schema(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var at10 uint64
	for i := 1; i <= 40; i++ {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			at10 = heap()
		}
	}
	at40 := heap()
	files, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Bytes < 60<<20 {
		t.Fatalf("files %+v, want one file over 60 MB", files)
	}
	if at40 > at10+24<<20 {
		t.Errorf("live heap grew from %d MB after 10 writes to %d MB after 40 (file %d MB): the upload holds more than its parts",
			at10>>20, at40>>20, files[0].Bytes>>20)
	}
	t.Logf("live heap %d MB after 10 writes, %d MB after 40; file %d MB", at10>>20, at40>>20, files[0].Bytes>>20)
	head, err := s.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(files[0].Path)})
	if err != nil {
		t.Fatal(err)
	}
	// A multipart object's ETag is "<md5 of part md5s>-<number of parts>".
	if etag := aws.ToString(head.ETag); !strings.Contains(etag, "-") {
		t.Errorf("ETag %s: the object was not uploaded in parts", etag)
	}
	if aws.ToInt64(head.ContentLength) != files[0].Bytes {
		t.Errorf("object is %d bytes, the writer counted %d", aws.ToInt64(head.ContentLength), files[0].Bytes)
	}
}

// A killed upload leaves an unfinished multipart upload: DeleteRunFiles
// aborts it along with the run's objects.
func TestS3DeleteRunFilesAbortsUploads(t *testing.T) {
	s := testdb.S3Bucket(t)
	l := openStore(t, s.URL("lake"), s.Secret(), lake.Options{})
	ctx := context.Background()
	for _, key := range []string{"lake/db/t/ingestion_date=2026-01-01/part-run1-00000.parquet", "lake/db/t/part-run2-00000.parquet"} {
		if _, err := s.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.DeleteRunFiles(ctx, "db/t", "run1"); err != nil {
		t.Fatal(err)
	}
	if got := s.Uploads(t); !slices.Equal(got, []string{"lake/db/t/part-run2-00000.parquet"}) {
		t.Errorf("unfinished uploads after DeleteRunFiles(run1): %v, want only run2's", got)
	}
}

// Permanent errors fail at once (one request), naming the lake, the
// operation and the cause, and never showing a key.
func TestS3PermanentErrors(t *testing.T) {
	s := testdb.S3Bucket(t)
	proxy, requests := flakyProxy(t, s.Endpoint, 0)
	viaProxy := func(bucket string) string {
		return strings.Replace(strings.Replace(s.URL("p"), s.Endpoint, proxy, 1), s.Bucket, bucket, 1)
	}
	cases := []struct {
		name, url, secret, want string
	}{
		{"no such bucket", viaProxy("no-such-bucket-" + testdb.RandomSuffix()), s.Secret(), "list: the bucket does not exist"},
		{"unknown key", viaProxy(s.Bucket), `{"access_key_id": "NOSUCHKEY", "secret_access_key": "hunter2hunter2"}`, "the access key ID is not known to the store"},
		{"wrong secret", viaProxy(s.Bucket), fmt.Sprintf(`{"access_key_id": %q, "secret_access_key": "hunter2hunter2"}`, s.AccessKey), "the secret access key is wrong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := openStore(t, c.url, c.secret, lake.Options{MaxAttempts: 5, MaxBackoff: time.Millisecond})
			requests.Store(0)
			err := l.Check(context.Background())
			if err == nil {
				t.Fatal("Check succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "lake "+l.URL()+": ") {
				t.Errorf("error %q: want it to start with the lake URL and contain %q", msg, c.want)
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, s.SecretKey) {
				t.Errorf("error shows a key: %s", msg)
			}
			var se *lake.StoreError
			if !errors.As(err, &se) || !se.Permanent() {
				t.Errorf("error %v is not a permanent StoreError", err)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests reached the server, want 1: permanent errors are not retried", n)
			}
		})
	}
}

// Transient errors (503 SlowDown) are retried with backoff: a write
// succeeds through a few of them, and fails, naming the lake and the
// object, once the attempts run out.
func TestS3RetriesTransientErrors(t *testing.T) {
	s := testdb.S3Bucket(t)
	proxy, requests := flakyProxy(t, s.Endpoint, 3)
	rawURL := strings.Replace(s.URL("p"), s.Endpoint, proxy, 1)
	rec := buildMixed(t, 0, 100)
	defer rec.Release()

	l := openStore(t, rawURL, s.Secret(), lake.Options{MaxAttempts: 5, MaxBackoff: 5 * time.Millisecond})
	files := writeRun(t, l, "db/t", "run1", nil, lake.WriterOptions{}, rec)
	if n := requests.Load(); n < 4 {
		t.Errorf("%d requests, want the 3 failed attempts and a successful one", n)
	}
	if got := s.Keys(t); len(got) != 1 || got[0] != "p/"+files[0].Path {
		t.Errorf("bucket holds %v, want the run's file", got)
	}

	requests.Store(0)
	l = openStore(t, rawURL, s.Secret(), lake.Options{MaxAttempts: 2, MaxBackoff: 5 * time.Millisecond})
	w, err := l.NewRunWriter(context.Background(), "db/t", "run2", rec.Schema(), nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	_, err = w.Close()
	if err == nil {
		t.Fatal("Close succeeded through 3 failures with 2 attempts")
	}
	attempts := requests.Load()
	w.Abort()
	if !strings.Contains(err.Error(), "lake "+l.URL()+": ") || !strings.Contains(err.Error(), "db/t/part-run2-00000.parquet") || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q: want the lake, the object and the status", err)
	}
	if attempts != 2 {
		t.Errorf("%d requests, want 2 attempts", attempts)
	}
}

// flakyProxy forwards requests to target, but answers the first failures
// of them with 503 SlowDown. The counter it returns counts every request;
// storing 0 in it starts a new round of failures.
func flakyProxy(t *testing.T, target string, failures int64) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= failures {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestOpenObjectStoreURLs(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	cases := []struct{ in, want string }{
		{"s3://b/p?region=eu-west-1&endpoint=http://127.0.0.1:1&use_path_style=true&disable_https=true", ""},
		{"s3://b/p", "no region: add ?region=REGION to the URL or set AWS_REGION"},
		{"s3://b/p?region=x&use_path_style=maybe", `query parameter use_path_style="maybe": want true or false`},
		{"s3://b/p?region=x&colour=blue", `unknown query parameter "colour"`},
		{"s3://b/p?region=x&ssetype=rot13", `query parameter ssetype="rot13"`},
		{"s3://AKIA:hunter2@b/p?region=x", "lake URL s3://AKIA:xxxxx@b/p?region=x: credentials never go in the URL"},
		{"s3:///p?region=x", "no bucket (want s3://BUCKET/PREFIX)"},
		{"s3://b/a//b?region=x", `prefix "a//b": empty path segment`},
		{"azblob://c/p?domain=127.0.0.1:1&protocol=http&localemu=true&storage_account=acct", ""},
		{"azblob://c/p?colour=blue&storage_account=acct", `unknown query parameter "colour"`},
		{"gs://b/p?colour=blue", `invalid query parameter "colour"`},
	}
	for _, c := range cases {
		l, err := lake.Open(ctx, c.in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Open(%q): %v", c.in, err)
		case c.want != "" && err == nil:
			t.Errorf("Open(%q) succeeded, want error %q", c.in, c.want)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("Open(%q) error = %q, want it to contain %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error shows the secret: %v", c.in, err)
		}
		if l != nil {
			l.Close()
		}
	}
}

func TestParseCredentials(t *testing.T) {
	cases := []struct{ scheme, json, want string }{
		{"s3", `{"access_key_id": "AKIA", "secret_access_key": "hunter2"}`, ""},
		{"s3", `{"access_key_id": "AKIA"}`, `needs "access_key_id" and "secret_access_key"`},
		{"s3", `access_key_id=AKIA secret=hunter2`, "is not a JSON object"},
		{"azblob", `{"account_name": "a", "account_key": "hunter2"}`, ""},
		{"azblob", `{"connection_string": "AccountName=a;AccountKey=hunter2"}`, ""},
		{"azblob", `{"account_name": "a"}`, `needs "account_name" and "account_key", or "connection_string"`},
		{"gs", `{"type": "service_account", "private_key": "hunter2"}`, ""},
		{"gs", `{"private_key": "hunter2"}`, "must be a Google credentials file"},
		{"file", `{}`, "lake secrets are for s3://, gs:// and azblob:// lakes, not file://"},
	}
	for _, c := range cases {
		cr, err := lake.ParseCredentials(c.scheme, []byte(c.json))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ParseCredentials(%s, %s): %v", c.scheme, c.json, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("ParseCredentials(%s, %s) = %v, want error %q", c.scheme, c.json, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the secret: %v", err)
		}
		if cr != nil {
			for _, s := range []string{cr.String(), fmt.Sprintf("%v %+v %#v %v", cr, cr, cr, *cr)} {
				if strings.Contains(s, "hunter2") {
					t.Errorf("credentials print their secret: %s", s)
				}
			}
		}
	}
}
