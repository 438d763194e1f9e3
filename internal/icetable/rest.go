package icetable

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/iceberg-go/catalog/rest"

	wcatalog "github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/secret"
)

// openREST opens an Iceberg REST catalog through iceberg-go's own client
// (github.com/apache/iceberg-go/catalog/rest). The credential comes from the
// secret secretRef names (never from the catalog file), and every value
// of it is registered with the redactor before the first request:
//
//	a bare token                  sent as Authorization: Bearer TOKEN
//	{"token": "..."}              the same
//	{"client_id": "...",          OAuth2 client credentials, exchanged for a
//	 "client_secret": "..."}      token at the server's /v1/oauth/tokens
//	                              (scope: the URL's scope=, else catalog)
//
// With aws_service= in the URL, requests are signed with AWS SigV4 (Glue's
// and S3 Tables' Iceberg endpoints) using the AWS credential chain. Every
// request is bounded in time (restTransport).
//
// hint says what to check about an error of the catalog, this one's or a
// later request's (Catalog.wrap adds it).
func openREST(ctx context.Context, spec, secretRef, secrets string) (cat *rest.Catalog, hint func(error) string, err error) {
	rc, err := wcatalog.ParseRESTCatalog(spec)
	if err != nil {
		return nil, nil, err
	}
	hint = func(err error) string { return cmp.Or(authHint(err, rc, secretRef), timeoutHint(err, rc)) }
	opts := []rest.Option{rest.WithTransportFactory(restTransport(rc.Timeout))}
	if rc.Warehouse != "" {
		opts = append(opts, rest.WithWarehouseLocation(rc.Warehouse))
	}
	if rc.Scope != "" {
		opts = append(opts, rest.WithScope(rc.Scope))
	}
	if rc.AWSService != "" {
		opts = append(opts, rest.WithSigV4RegionSvc(rc.AWSRegion, rc.AWSService))
	}
	if secretRef != "" {
		content, err := secret.Lookup(ctx, secretRef, secrets)
		if err != nil {
			return nil, nil, fmt.Errorf("iceberg_catalog_secret: %w", err)
		}
		cred, err := restCredential(content)
		if err != nil {
			return nil, nil, fmt.Errorf("iceberg_catalog_secret %q: %w", secretRef, err)
		}
		opts = append(opts, cred)
	}
	cat, err = rest.NewCatalog(ctx, CatalogName, rc.URI, opts...)
	return cat, hint, err
}

// restCredential reads a REST catalog's credential from a secret's content
// (see openREST) and registers its values for redaction. Errors never show
// the content.
func restCredential(content secret.Secret) (rest.Option, error) {
	text := strings.TrimSpace(content.Reveal())
	if !strings.HasPrefix(text, "{") {
		if text == "" || strings.ContainsAny(text, " \t\r\n") {
			return nil, errors.New(`want a token (one line, no spaces), {"token": "..."} or {"client_id": "...", "client_secret": "..."}`)
		}
		secret.Register(text)
		return rest.WithOAuthToken(text), nil
	}
	var c map[string]string
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return nil, errors.New(`not a JSON object of strings: want {"token": "..."} or {"client_id": "...", "client_secret": "..."}`)
	}
	for _, v := range c {
		secret.Register(v)
	}
	switch {
	case c["token"] != "" && len(c) == 1:
		return rest.WithOAuthToken(c["token"]), nil
	case c["client_id"] != "" && c["client_secret"] != "" && len(c) == 2:
		return rest.WithCredential(c["client_id"] + ":" + c["client_secret"]), nil
	}
	return nil, fmt.Errorf(`has the keys %s: want "token" alone, or "client_id" and "client_secret"`, strings.Join(slices.Sorted(maps.Keys(c)), ", "))
}

// restConnectTimeout bounds connecting to a REST catalog: the TCP
// connection, then the TLS handshake, each.
const restConnectTimeout = 10 * time.Second

// restTransport makes the REST client's HTTP transport: Go's default one
// (proxy from the environment, keep-alives, HTTP/2) with the bounds
// iceberg-go's own transport lacks, which left a catalog that accepts a
// connection and never answers to hang a run until --run-timeout:
// connecting takes at most restConnectTimeout, and the answer to a request
// (its status line and headers) at most timeout. iceberg-go builds its
// http.Client without a Timeout and takes no client of ours, so the
// transport is where the bounds go.
func restTransport(timeout time.Duration) rest.TransportFactory {
	return func(tlsConfig *tls.Config) (http.RoundTripper, func()) {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: restConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = restConnectTimeout
		t.ResponseHeaderTimeout = timeout
		if tlsConfig != nil {
			t.TLSClientConfig = tlsConfig
		}
		return boundedTransport{t}, t.CloseIdleConnections
	}
}

// boundedTransport marks the errors of its own time bounds (errTimedOut),
// which look like a deadline of the request's context (net/http's timeout
// errors match context.DeadlineExceeded) but are not the run's.
type boundedTransport struct{ *http.Transport }

func (t boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.Transport.RoundTrip(r)
	var ne net.Error
	if err != nil && r.Context().Err() == nil && errors.As(err, &ne) && ne.Timeout() {
		err = &errTimedOut{err}
	}
	if err == nil {
		explainBareError(r, resp)
	}
	return resp, err
}

// explainBareError gives an error answer that is not an Iceberg error
// document (a proxy's or web server's 404 or 502, often without a body) one
// that says what happened: iceberg-go keeps the HTTP status to itself and
// reports such an answer as a bare "REST error", which leaves a user with a
// wrong base path nothing to go on. An Iceberg error document, a success
// and the answer to a HEAD (its status is the answer) pass unchanged.
func explainBareError(r *http.Request, resp *http.Response) {
	if resp.StatusCode < 400 || r.Method == http.MethodHead {
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	var doc struct {
		Error *json.RawMessage `json:"error"`
	}
	if err == nil && json.Unmarshal(body, &doc) == nil && doc.Error != nil {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return
	}
	msg := fmt.Sprintf("%s %s answered %s without an Iceberg error document", r.Method, r.URL.Path, resp.Status)
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		msg += " (is the iceberg_catalog URL the catalog's base URI? wharf adds /v1/... to it)"
	}
	if text := strings.Join(strings.Fields(string(body)), " "); text != "" {
		msg += ": " + truncate(text, 200)
	}
	explained, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "HTTPError", "code": resp.StatusCode}})
	resp.Body = io.NopCloser(bytes.NewReader(explained))
	resp.ContentLength = int64(len(explained))
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Del("Content-Encoding")
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// errTimedOut is a request to a REST catalog that ran out of one of
// restTransport's bounds.
type errTimedOut struct{ err error }

func (e *errTimedOut) Error() string { return e.err.Error() }
func (e *errTimedOut) Unwrap() error { return e.err }
func (e *errTimedOut) Timeout() bool { return true }

// timeoutHint names the REST client's time bounds when err is one of them
// running out (not the run's own deadline: --run-timeout says so itself).
func timeoutHint(err error, rc wcatalog.RESTCatalog) string {
	if !errors.As(err, new(*errTimedOut)) {
		return ""
	}
	return fmt.Sprintf(" (the catalog did not answer in time: wharf waits %s to connect and %s for the answer to each request; timeout= on the iceberg_catalog URL sets the latter)", restConnectTimeout, rc.Timeout)
}

// Refused reports whether err is a REST catalog refusing a request's
// credential (401, 403, 419, or a failed OAuth2 token exchange).
func Refused(err error) bool {
	return errors.Is(err, rest.ErrUnauthorized) || errors.Is(err, rest.ErrForbidden) ||
		errors.Is(err, rest.ErrOAuthError) || errors.Is(err, rest.ErrAuthorizationExpired)
}

// authHint says what to check when the catalog refused the request's
// credential.
func authHint(err error, rc wcatalog.RESTCatalog, secretRef string) string {
	switch {
	case !Refused(err):
		return ""
	case rc.AWSService != "" && secretRef == "":
		return fmt.Sprintf(" (the catalog refused the AWS SigV4 signature for %s: check the AWS credentials wharf finds (environment, profile, role) and their permissions on the catalog)", rc.AWSService)
	}
	if secretRef == "" {
		return " (the catalog wants a credential: name a secret holding its token in the lake's iceberg_catalog_secret)"
	}
	return fmt.Sprintf(" (the catalog refused the credential of iceberg_catalog_secret %q: check the token, or the client id and secret, and their rights on this catalog)", secretRef)
}
