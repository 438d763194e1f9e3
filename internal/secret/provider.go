package secret

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrNotFound is wrapped by provider errors for a secret that does not exist.
var ErrNotFound = errors.New("secret not found")

// Provider looks bare secret names up. Implementations are registered by URI
// scheme with RegisterProvider and opened with OpenProvider.
type Provider interface {
	// Lookup returns the secret's raw content (a connection URL or RDS JSON).
	// A missing secret is an error wrapping ErrNotFound. Errors must not
	// contain the content.
	Lookup(ctx context.Context, name string) (Secret, error)
	// String describes the provider for messages, e.g. "file provider
	// /etc/wharf/secrets". It must not contain credentials.
	String() string
}

// OpenFunc opens a provider from its URI (the whole --secrets value).
type OpenFunc func(ctx context.Context, uri string) (Provider, error)

var providers = struct {
	sync.RWMutex
	open map[string]OpenFunc
}{open: map[string]OpenFunc{}}

// RegisterProvider makes OpenProvider use open for URIs of the given scheme
// (the text before the first ':'). Registering a scheme twice panics.
func RegisterProvider(scheme string, open OpenFunc) {
	providers.Lock()
	defer providers.Unlock()
	if _, dup := providers.open[scheme]; dup {
		panic("secret: provider scheme registered twice: " + scheme)
	}
	providers.open[scheme] = open
}

func init() {
	RegisterProvider("file", openFileProvider)
}

// OpenProvider opens the provider a --secrets / WHARF_SECRETS URI names,
// e.g. file:/etc/wharf/secrets. Messages show the scheme only, since a URI
// may carry a token.
func OpenProvider(ctx context.Context, uri string) (Provider, error) {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("secrets provider: want SCHEME:..., e.g. file:/etc/wharf/secrets (known schemes: %s)", knownSchemes())
	}
	providers.RLock()
	open := providers.open[scheme]
	providers.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("secrets provider: unknown scheme %q (known schemes: %s)", safeScheme(scheme), knownSchemes())
	}
	return open(ctx, uri)
}

func knownSchemes() string {
	providers.RLock()
	defer providers.RUnlock()
	names := make([]string, 0, len(providers.open))
	for k := range providers.open {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func safeScheme(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
