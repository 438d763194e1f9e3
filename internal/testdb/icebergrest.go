package testdb

import (
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	_ "github.com/apache/iceberg-go/io/gocloud/gcs" // the server's FileIO for gs:// tables (iceberg-go's, not wharf's)
	_ "github.com/apache/iceberg-go/io/gocloud/s3"  // and for s3:// tables
	"github.com/apache/iceberg-go/table"
	_ "modernc.org/sqlite" // the catalog behind the server
)

// IcebergREST is an Iceberg REST catalog for tests: an HTTP server speaking
// the REST catalog protocol (apache/iceberg open-api/rest-catalog-open-api.yaml)
// for what a client landing tables uses: GET /v1/config, the OAuth2
// client-credentials exchange at /v1/oauth/tokens, namespaces (list, create,
// load, exists) and tables (list, create, load, exists, commit with
// requirements and updates, drop), each behind a bearer token. It only
// translates HTTP to catalog calls: the tables live in iceberg-go's SQL
// catalog (a SQLite file of the test), so table metadata is iceberg-go's
// doing, and the real client (iceberg-go's catalog/rest) is what the tests
// exercise. No REST catalog server (Polaris, Nessie, Lakekeeper) can run
// here: they need Java or Docker.
type IcebergREST struct {
	// URL is the catalog's base URI (https), for iceberg_catalog: rest:URL.
	URL string
	// CAFile is a PEM file of the server's certificate: SSL_CERT_FILE for a
	// process that must trust it.
	CAFile string
	// Transport trusts the server's certificate, for clients in the test.
	Transport http.RoundTripper
	// Token is the bearer token every request but the token exchange
	// needs; ClientID and ClientSecret are exchanged for it.
	Token, ClientID, ClientSecret string
	// SigV4Scope, when set ("REGION/SERVICE"), replaces the bearer token:
	// requests must be signed with AWS SigV4 for that region and service,
	// as Glue's Iceberg endpoint wants (the signature itself is not
	// checked, as in SecretsManager).
	SigV4Scope string
	// Warehouse, when set, must be asked for (?warehouse= on /v1/config):
	// the server then serves the catalog under the prefix it names, as
	// Polaris and Lakekeeper do.
	Warehouse string
	// IO is the storage configuration the catalog was started with (nil:
	// local folders), which a client in the test needs as well to read the
	// tables' files: this server vends no storage credentials.
	IO iceberg.Properties

	mu       sync.Mutex // one request at a time: the SQLite catalog's writes stay simple
	cat      *sqlcat.Catalog
	requests []string
	failures map[string]failure // "METHOD route" -> how its next requests fail
}

// StartIcebergREST starts a REST catalog over TLS (httptest's certificate
// for 127.0.0.1) with an empty SQL catalog behind it, closed at cleanup.
// Set Warehouse before the first request. It writes table metadata to
// local folders (file:// locations).
func StartIcebergREST(t testing.TB) *IcebergREST { return startIcebergREST(t, true, nil) }

// StartIcebergRESTPlain is StartIcebergREST over plain HTTP, for clients
// in the test process (which cannot be told to trust another CA once
// their system roots are loaded).
func StartIcebergRESTPlain(t testing.TB) *IcebergREST { return startIcebergREST(t, false, nil) }

// StartIcebergRESTOn is StartIcebergREST for tables in an object store:
// the catalog writes their metadata through iceberg-go's FileIO configured
// by io, the storage properties a real REST catalog server is given
// (apache/iceberg's REST fixture takes them as CATALOG_S3_ENDPOINT and the
// like: s3.endpoint, s3.access-key-id, ...), e.g. S3Server.IcebergIO.
func StartIcebergRESTOn(t testing.TB, io iceberg.Properties) *IcebergREST {
	return startIcebergREST(t, true, io)
}

func startIcebergREST(t testing.TB, useTLS bool, io iceberg.Properties) *IcebergREST {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "catalog.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat, err := sqlcat.NewCatalog("rest", db, sqlcat.SQLite, maps.Clone(io))
	if err != nil {
		t.Fatal(err)
	}
	s := &IcebergREST{cat: cat, IO: io, Token: "test-token-" + RandomSuffix(), ClientID: "wharf-test",
		ClientSecret: "client-secret-" + RandomSuffix(), failures: map[string]failure{}}
	if !useTLS {
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		s.URL, s.Transport = srv.URL+"/api/catalog", http.DefaultTransport
		return s
	}
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	s.URL, s.Transport = srv.URL+"/api/catalog", srv.Client().Transport
	s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Requests returns "METHOD route" of every request served so far (route
// without /v1 and the warehouse prefix, e.g. "POST namespaces/{ns}/tables/{table}").
func (s *IcebergREST) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Rotate makes the server accept token instead of its Token.
func (s *IcebergREST) Rotate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Token = token
}

// failure is how the next n requests to a route fail: the HTTP status and
// the spec's error type, or no status: carried out, but no answer (Hang).
type failure struct {
	n         int
	code      int
	typ, text string
}

// Fail makes the next n requests to route ("METHOD route", as Requests
// names them) fail with 503 Service Unavailable.
func (s *IcebergREST) Fail(route string, n int) {
	s.setFailure(route, failure{n, http.StatusServiceUnavailable, "ServiceUnavailableException", "the catalog is unavailable (test failure)"})
}

// Refuse makes the next n requests to route refuse their (valid) token
// with 401, as a catalog does with a token revoked between two requests.
func (s *IcebergREST) Refuse(route string, n int) {
	s.setFailure(route, failure{n, http.StatusUnauthorized, "NotAuthorizedException", "Not authorized: the token was revoked (test failure)"})
}

// Hang makes the catalog carry out the next n requests to route but
// withhold its answers until the client gives up (or a minute passes), as
// a catalog behind a stalled proxy does: a commit is made, and the client
// does not hear of it.
func (s *IcebergREST) Hang(route string, n int) { s.setFailure(route, failure{n: n}) }

func (s *IcebergREST) setFailure(route string, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[route] = f
}

// Catalog is the SQL catalog behind the server, for tests to read tables
// without going through HTTP.
func (s *IcebergREST) Catalog() catalog.Catalog { return s.cat }

// restError is the spec's ErrorModel, in its IcebergErrorResponse wrapper.
func restError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code}})
}

func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// ServeHTTP serves a request (serve), and withholds the answer of one
// that Hang names until the client gives up.
func (s *IcebergREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	if s.serve(rec, r) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Minute): // a client without a timeout: answer after all
		}
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// serve answers a request into w; hang reports that Hang named it.
func (s *IcebergREST) serve(w http.ResponseWriter, r *http.Request) (hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/catalog/v1/")
	if !ok {
		restError(w, http.StatusNotFound, "NotFoundException", "no such route: "+r.URL.Path)
		return
	}
	if path == "oauth/tokens" && r.Method == http.MethodPost {
		s.requests = append(s.requests, "POST oauth/tokens")
		s.tokens(w, r)
		return
	}
	if auth := r.Header.Get("Authorization"); s.SigV4Scope != "" {
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/"+s.SigV4Scope+"/aws4_request") {
			restError(w, http.StatusForbidden, "ForbiddenException", "want a SigV4 signature for "+s.SigV4Scope)
			return
		}
	} else if auth != "Bearer "+s.Token {
		// It repeats what it was given, as some servers do: a client must
		// not print the server's message as it comes.
		restError(w, http.StatusUnauthorized, "NotAuthorizedException", fmt.Sprintf("Not authorized: %q is not a valid bearer token", strings.TrimPrefix(auth, "Bearer ")))
		return
	}
	if path == "config" {
		s.requests = append(s.requests, "GET config")
		s.config(w, r)
		return
	}
	if s.Warehouse != "" {
		if path, ok = strings.CutPrefix(path, url.PathEscape(s.Warehouse)+"/"); !ok {
			restError(w, http.StatusNotFound, "NotFoundException", "no such route (not under the warehouse's prefix): "+r.URL.Path)
			return
		}
	}
	// namespaces[/{ns}[/tables[/{table}]]]
	parts := strings.Split(path, "/")
	names := make([]string, len(parts))
	route := make([]string, len(parts))
	for i, p := range parts {
		names[i], _ = url.PathUnescape(p)
		route[i] = p
		if i%2 == 1 {
			route[i] = map[int]string{1: "{ns}", 3: "{table}"}[i]
		}
	}
	key := r.Method + " " + strings.Join(route, "/")
	s.requests = append(s.requests, key)
	if f := s.failures[key]; f.n > 0 {
		f.n--
		s.failures[key] = f
		if f.code == 0 {
			hang = true // act, answer later (ServeHTTP)
		} else {
			restError(w, f.code, f.typ, f.text)
			return
		}
	}
	ctx := r.Context()
	var ns table.Identifier
	if len(names) > 1 {
		ns = strings.Split(names[1], "\x1f") // the client's default namespace separator
	}
	switch key {
	case "GET namespaces":
		list, err := s.cat.ListNamespaces(ctx, nil)
		if s.failed(w, err) {
			return
		}
		reply(w, map[string]any{"namespaces": list})
	case "POST namespaces":
		var req struct {
			Namespace  table.Identifier   `json:"namespace"`
			Properties iceberg.Properties `json:"properties"`
		}
		if !decode(w, r, &req) || s.failed(w, s.cat.CreateNamespace(ctx, req.Namespace, req.Properties)) {
			return
		}
		reply(w, map[string]any{"namespace": req.Namespace, "properties": req.Properties})
	case "GET namespaces/{ns}", "HEAD namespaces/{ns}":
		props, err := s.cat.LoadNamespaceProperties(ctx, ns)
		if s.failed(w, err) {
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		reply(w, map[string]any{"namespace": ns, "properties": props})
	case "GET namespaces/{ns}/tables":
		ids := []map[string]any{}
		for id, err := range s.cat.ListTables(ctx, ns) {
			if s.failed(w, err) {
				return
			}
			ids = append(ids, map[string]any{"namespace": catalog.NamespaceFromIdent(id), "name": catalog.TableNameFromIdent(id)})
		}
		reply(w, map[string]any{"identifiers": ids})
	case "POST namespaces/{ns}/tables":
		s.createTable(w, r, ns)
	case "GET namespaces/{ns}/tables/{table}", "HEAD namespaces/{ns}/tables/{table}":
		tbl, err := s.cat.LoadTable(ctx, append(ns, names[3]))
		if s.failed(w, err) {
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		reply(w, map[string]any{"metadata-location": tbl.MetadataLocation(), "metadata": tbl.Metadata(), "config": map[string]string{}})
	case "POST namespaces/{ns}/tables/{table}":
		var req struct {
			Requirements table.Requirements `json:"requirements"`
			Updates      table.Updates      `json:"updates"`
		}
		if !decode(w, r, &req) {
			return
		}
		meta, loc, err := s.cat.CommitTable(ctx, append(ns, names[3]), req.Requirements, req.Updates)
		if s.failed(w, err) {
			return
		}
		reply(w, map[string]any{"metadata-location": loc, "metadata": meta})
	case "DELETE namespaces/{ns}/tables/{table}":
		if s.failed(w, s.cat.DropTable(ctx, append(ns, names[3]))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		restError(w, http.StatusNotFound, "NotFoundException", "this test server does not serve "+key)
	}
	return hang
}

// config answers GET /v1/config: with a Warehouse, only for it, and with
// its prefix as an override.
func (s *IcebergREST) config(w http.ResponseWriter, r *http.Request) {
	overrides := map[string]string{}
	if s.Warehouse != "" {
		if got := r.URL.Query().Get("warehouse"); got != s.Warehouse {
			restError(w, http.StatusBadRequest, "BadRequestException", fmt.Sprintf("unknown warehouse %q", got))
			return
		}
		overrides["prefix"] = url.PathEscape(s.Warehouse)
	}
	reply(w, map[string]any{"defaults": map[string]string{}, "overrides": overrides})
}

// tokens is the OAuth2 client-credentials exchange (RFC 6749 4.4, with the
// client's id and secret in the form).
func (s *IcebergREST) tokens(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "The client id or secret is wrong"})
		return
	}
	reply(w, map[string]any{"access_token": s.Token, "token_type": "bearer", "expires_in": 3600,
		"issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})
}

func (s *IcebergREST) createTable(w http.ResponseWriter, r *http.Request, ns table.Identifier) {
	var req struct {
		Name          string                        `json:"name"`
		Schema        *iceberg.Schema               `json:"schema"`
		Location      string                        `json:"location"`
		PartitionSpec *iceberg.UnboundPartitionSpec `json:"partition-spec"`
		WriteOrder    *table.UnboundSortOrder       `json:"write-order"`
		StageCreate   bool                          `json:"stage-create"`
		Properties    iceberg.Properties            `json:"properties"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.StageCreate || req.Schema == nil || req.Name == "" {
		restError(w, http.StatusBadRequest, "BadRequestException", "want a name and a schema (this test server does not stage creates)")
		return
	}
	opts := []catalog.CreateTableOpt{catalog.WithProperties(req.Properties)}
	if req.Location != "" {
		opts = append(opts, catalog.WithLocation(req.Location))
	}
	if req.PartitionSpec != nil {
		opts = append(opts, catalog.WithPartitionSpec(&req.PartitionSpec.PartitionSpec))
	}
	if req.WriteOrder != nil {
		opts = append(opts, catalog.WithSortOrder(req.WriteOrder.SortOrder))
	}
	tbl, err := s.cat.CreateTable(r.Context(), append(ns, req.Name), req.Schema, opts...)
	if s.failed(w, err) {
		return
	}
	reply(w, map[string]any{"metadata-location": tbl.MetadataLocation(), "metadata": tbl.Metadata(), "config": map[string]string{}})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		restError(w, http.StatusBadRequest, "BadRequestException", "malformed request body: "+err.Error())
		return false
	}
	return true
}

// failed answers a catalog error with the spec's status and error type.
func (s *IcebergREST) failed(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, catalog.ErrNoSuchTable):
		restError(w, http.StatusNotFound, "NoSuchTableException", err.Error())
	case errors.Is(err, catalog.ErrNoSuchNamespace):
		restError(w, http.StatusNotFound, "NoSuchNamespaceException", err.Error())
	case errors.Is(err, catalog.ErrTableAlreadyExists), errors.Is(err, catalog.ErrNamespaceAlreadyExists):
		restError(w, http.StatusConflict, "AlreadyExistsException", err.Error())
	case errors.Is(err, table.ErrCommitFailed), strings.HasPrefix(err.Error(), "Requirement failed"):
		restError(w, http.StatusConflict, "CommitFailedException", err.Error())
	default:
		restError(w, http.StatusInternalServerError, "ServerError", err.Error())
	}
	return true
}
