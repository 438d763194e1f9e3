package catalog

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/secret"
)

// RESTPrefix starts an iceberg_catalog that names an Iceberg REST catalog.
const RESTPrefix = "rest:"

// RESTCatalog is an iceberg_catalog of the form
// rest:https://HOST[/PATH][?warehouse=W&scope=S&aws_service=N&aws_region=R&timeout=D].
// Its credential is never in it: it comes from the lake's
// iceberg_catalog_secret.
type RESTCatalog struct {
	// URI is the catalog's base URI as the server documents it (iceberg-go
	// adds /v1/...), without wharf's parameters.
	URI string
	// Warehouse is sent to the server's /v1/config (Polaris: the catalog
	// name; Lakekeeper: the warehouse; Glue: the account id).
	Warehouse string
	// Scope is the OAuth2 scope of a client-credentials exchange
	// (iceberg-go's default: catalog).
	Scope string
	// AWSService, when set, signs every request with AWS SigV4 for this
	// service (glue, s3tables), in AWSRegion ("" = the AWS config's), with
	// the AWS credential chain's keys (no iceberg_catalog_secret).
	AWSService, AWSRegion string
	// Timeout bounds the wait for the catalog's answer to each request
	// (DefaultRESTTimeout when the URL has no timeout=).
	Timeout time.Duration
}

// DefaultRESTTimeout is how long a REST catalog's answer to a request is
// waited for unless its URL says timeout=.
const DefaultRESTTimeout = 60 * time.Second

// restParams are the query parameters a rest: catalog takes.
var restParams = []string{"warehouse", "scope", "aws_service", "aws_region", "timeout"}

// noCredentials is what a rest: URL holding a credential is told.
const noCredentials = "credentials never go in the catalog: put the token (or OAuth2 client credentials) in a secret and name it in iceberg_catalog_secret"

// ParseRESTCatalog parses a rest: iceberg_catalog. Its errors show the URL
// redacted (secret.RedactURL).
func ParseRESTCatalog(spec string) (RESTCatalog, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{secret.RedactURL(spec)}, args...)...)
	}
	raw, ok := strings.CutPrefix(spec, RESTPrefix)
	if !ok {
		return RESTCatalog{}, bad("not a REST catalog (want rest:https://HOST/PATH)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return RESTCatalog{}, bad("want rest:https://HOST/PATH, the catalog's base URI (rest:http:// for a server without TLS)")
	}
	if u.User != nil {
		return RESTCatalog{}, bad("the URL carries a user name or password: %s", noCredentials)
	}
	if u.Fragment != "" {
		return RESTCatalog{}, bad("a REST catalog URL has no #fragment")
	}
	q := u.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case secret.IsSecretParam(k):
			return RESTCatalog{}, bad("parameter %s: %s", k, noCredentials)
		case !slices.Contains(restParams, k):
			return RESTCatalog{}, bad("unknown parameter %q: a rest: catalog takes %s", k, strings.Join(restParams, ", "))
		case len(q[k]) != 1 || q[k][0] == "":
			return RESTCatalog{}, bad("parameter %s: give it once, with a value", k)
		}
	}
	if q.Has("aws_region") && !q.Has("aws_service") {
		return RESTCatalog{}, bad("aws_region needs aws_service (the AWS service to sign requests for: glue, s3tables)")
	}
	c := RESTCatalog{Warehouse: q.Get("warehouse"), Scope: q.Get("scope"),
		AWSService: q.Get("aws_service"), AWSRegion: q.Get("aws_region"), Timeout: DefaultRESTTimeout}
	if q.Has("timeout") {
		if c.Timeout, err = time.ParseDuration(q.Get("timeout")); err != nil || c.Timeout <= 0 {
			return RESTCatalog{}, bad("parameter timeout: want a duration such as 30s or 2m")
		}
	}
	u.RawQuery = ""
	c.URI = u.String()
	return c, nil
}
