package icetable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
// and S3 Tables' Iceberg endpoints) using the AWS credential chain.
//
// hint says what to check about an error of the catalog, this one's or a
// later request's (Catalog.wrap adds it).
func openREST(ctx context.Context, spec, secretRef, secrets string) (cat *rest.Catalog, hint func(error) string, err error) {
	rc, err := wcatalog.ParseRESTCatalog(spec)
	if err != nil {
		return nil, nil, err
	}
	hint = func(err error) string { return authHint(err, rc, secretRef) }
	var opts []rest.Option
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
