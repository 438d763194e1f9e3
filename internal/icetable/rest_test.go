package icetable

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/testdb"
)

// A REST catalog's secret is a token or a JSON object of a token or client
// credentials; an error never shows the content, and the values are
// redacted from then on.
func TestRESTCredential(t *testing.T) {
	for _, good := range []string{"tok-1a2b3c\n", `{"token": "tok-4d5e6f"}`, `{"client_id": "id-7a8b", "client_secret": "cs-9c0d"}`} {
		if _, err := restCredential(secret.Secret(good)); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, v := range []string{"tok-1a2b3c", "tok-4d5e6f", "cs-9c0d"} {
		if got := secret.RedactString("the server said " + v); strings.Contains(got, v) {
			t.Errorf("%s is not redacted: %s", v, got)
		}
	}
	for _, bad := range []string{"", "two words-xyz", `{"token": "t-abc", "client_id": "c"}`, `{"client_id": "c-only"}`, `{"token": 12345}`, `{"tok`} {
		_, err := restCredential(secret.Secret(bad))
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		for _, part := range []string{"words-xyz", "t-abc", "c-only", "12345"} {
			if strings.Contains(bad, part) && strings.Contains(err.Error(), part) {
				t.Errorf("%q: the error shows the content: %v", bad, err)
			}
		}
	}
}

// aws_service= and aws_region= sign every request with SigV4 for that
// service and region (Glue's Iceberg endpoint), with keys from the AWS
// credential chain and no token.
func TestRESTSigV4(t *testing.T) {
	for _, kv := range testdb.AWSTestEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s := testdb.StartIcebergRESTPlain(t)
	s.SigV4Scope = "eu-west-1/glue"
	ctx := context.Background()
	c, err := Open(ctx, &catalog.Lake{IcebergCatalog: "rest:" + s.URL + "?aws_service=glue&aws_region=eu-west-1"}, "", nil)
	if err != nil {
		t.Fatalf("signed for glue in eu-west-1: %v", err)
	}
	c.Close()
	_, err = Open(ctx, &catalog.Lake{IcebergCatalog: "rest:" + s.URL + "?aws_service=s3tables&aws_region=eu-west-1"}, "", nil)
	if !Refused(err) || !strings.Contains(err.Error(), "the catalog refused") {
		t.Errorf("signed for another service: %v, want refused", err)
	}
}

// A credential the catalog refuses after it opened, when a table is
// loaded or a snapshot committed, gets the same hint as one refused at
// open: every error of the catalog goes through Catalog.wrap.
func TestRESTRefusedAfterOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testdb.StartIcebergRESTPlain(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(s.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, tbl := testTableIn(t, &catalog.Lake{IcebergCatalog: "rest:" + s.URL, IcebergCatalogSecret: "file:" + tokenFile}, time.Now())
	hint := fmt.Sprintf(`(the catalog refused the credential of iceberg_catalog_secret "file:%s"`, tokenFile)

	s.Refuse("GET namespaces/{ns}/tables/{table}", 1)
	if _, err := cat.Load(ctx, tbl.lk, "ns", "t"); !Refused(err) || !strings.Contains(err.Error(), hint) {
		t.Errorf("a table load refused: %v, want the hint %s", err, hint)
	}
	s.Refuse("POST namespaces/{ns}/tables/{table}", 1)
	run := Run{ID: "run-1", Workflow: "wf", StartedAt: time.Now()}
	if _, err := tbl.Commit(ctx, run); !Refused(err) || !strings.Contains(err.Error(), "commit the snapshot of run run-1") || !strings.Contains(err.Error(), hint) {
		t.Errorf("a commit refused: %v, want the hint %s", err, hint)
	}
	if appended, err := tbl.Commit(ctx, run); err != nil || !appended {
		t.Errorf("the commit again: appended %v, %v", appended, err)
	}
}

// An error answer that is not an Iceberg error document (a web server's
// bodiless 404 for a wrong base path, a proxy's HTML 502) is reported with
// its status and path, not as iceberg-go's bare "REST error"; an Iceberg
// error document keeps its own message.
func TestRESTBareErrorAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/proxy/"):
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>\n<body>upstream   down</body></html>")
		case strings.HasPrefix(r.URL.Path, "/iceberg/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": {"message": "warehouse lake is unknown", "type": "BadRequestException", "code": 400}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for _, c := range []struct{ path, want string }{
		{"/wrong", `GET /wrong/v1/config answered 404 Not Found without an Iceberg error document (is the iceberg_catalog URL the catalog's base URI? wharf adds /v1/... to it)`},
		{"/proxy", `GET /proxy/v1/config answered 502 Bad Gateway without an Iceberg error document: <html> <body>upstream down</body></html>`},
		{"/iceberg", `BadRequestException: warehouse lake is unknown`},
	} {
		_, err := Open(ctx, &catalog.Lake{IcebergCatalog: "rest:" + srv.URL + c.path}, "", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %s", c.path, err, c.want)
		}
	}
}
