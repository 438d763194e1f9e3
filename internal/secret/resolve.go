package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvProvider is the environment variable that names the secrets provider
// when no --secrets URI is given.
const EnvProvider = "WHARF_SECRETS"

// Error is a failure to resolve a secret reference. It names the reference
// and where it was looked up, never the secret's content.
type Error struct {
	// Ref is the reference as written ("" when the reference itself is
	// malformed and therefore not repeated).
	Ref string
	// Where is the provider, e.g. "file provider /etc/wharf/secrets", or "".
	Where string
	Err   error
}

func (e *Error) Error() string {
	s := "secret reference"
	if e.Ref != "" {
		s = fmt.Sprintf("secret %q", e.Ref)
	}
	if e.Where != "" {
		s += " (" + e.Where + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether the secret cannot be read until someone changes
// something (it is missing, malformed, or access is denied), as opposed to
// a provider that failed for now (throttled, a server error, no answer).
func (e *Error) Permanent() bool {
	var t *transientError
	return !errors.As(e.Err, &t)
}

// Resolve reads the secret ref points at and parses it into Credentials.
// A bare name is looked up through the provider providerURI names (e.g.
// file:/etc/wharf/secrets); when providerURI is "", $WHARF_SECRETS is used.
// The password and connection URL are registered for redaction (Register).
func Resolve(ctx context.Context, ref string, providerURI string) (*Credentials, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, &Error{Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Ref: r.String(), Err: err}
	}
	content, where, err := lookup(ctx, r, providerURI)
	if err != nil {
		return nil, &Error{Ref: r.String(), Where: where, Err: err}
	}
	c, err := ParseCredentials(content)
	if err != nil {
		return nil, &Error{Ref: r.String(), Where: where, Err: err}
	}
	return c, nil
}

// ResolveValue reads the secret ref points at as one opaque value (a mask
// salt), without surrounding white space, and registers it for redaction.
func ResolveValue(ctx context.Context, ref string, providerURI string) (Secret, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", &Error{Err: err}
	}
	content, where, err := lookup(ctx, r, providerURI)
	if err != nil {
		return "", &Error{Ref: r.String(), Where: where, Err: err}
	}
	v := Secret(strings.TrimSpace(content.Reveal()))
	if v == "" {
		return "", &Error{Ref: r.String(), Where: where, Err: errors.New("the secret is empty")}
	}
	Register(v.Reveal())
	return v, nil
}

func lookup(ctx context.Context, r Ref, providerURI string) (content Secret, where string, err error) {
	switch r.Kind {
	case RefEnv:
		v, ok := os.LookupEnv(r.Target)
		if !ok {
			return "", "", fmt.Errorf("%w: environment variable %s is not set", ErrNotFound, r.Target)
		}
		if v == "" {
			return "", "", fmt.Errorf("environment variable %s is empty", r.Target)
		}
		return Secret(v), "", nil
	case RefFile:
		b, err := os.ReadFile(r.Target)
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("%w: no such file", ErrNotFound)
		}
		if err != nil {
			return "", "", unwrapPathError(err)
		}
		return Secret(b), "", nil
	}
	p, err := providerFor(ctx, r, providerURI)
	if err != nil {
		return "", "", err
	}
	content, err = p.Lookup(ctx, r.Target)
	return content, p.String(), err
}

// providerFor opens the provider that looks a name or aws-sm: reference up.
func providerFor(ctx context.Context, r Ref, providerURI string) (Provider, error) {
	if providerURI == "" {
		providerURI = os.Getenv(EnvProvider)
	}
	if r.Kind == RefAWSSM {
		// The explicit reference uses the configured aws-sm provider's region
		// and endpoint, else the AWS default chain.
		if !strings.HasPrefix(providerURI, AWSSMScheme+":") {
			providerURI = AWSSMScheme + ":"
		}
	}
	if providerURI == "" {
		return nil, errors.New("a secret name needs a secrets provider: pass --secrets or set " + EnvProvider + " (e.g. --secrets aws-sm: or file:/etc/wharf/secrets), or write env:VAR or file:PATH")
	}
	return OpenProvider(ctx, providerURI)
}

// Check reports, without reading the secret, what would stop ref from being
// looked up on this machine: a malformed reference, or a secret name with no
// secrets provider configured (or one that cannot be opened). Whether the
// variable, file or secret exists is the run's to find out.
func Check(ctx context.Context, ref string, providerURI string) error {
	r, err := ParseRef(ref)
	if err != nil {
		return &Error{Err: err}
	}
	if r.Kind != RefName && r.Kind != RefAWSSM {
		return nil
	}
	if _, err := providerFor(ctx, r, providerURI); err != nil {
		return &Error{Ref: r.String(), Err: err}
	}
	return nil
}
