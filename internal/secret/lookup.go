package secret

import "context"

// Lookup reads the raw content of the secret ref points at, for secrets
// that are not database credentials (a lake's object store keys). A bare
// name goes through the provider providerURI names, as in Resolve. The
// caller parses the content and registers its secret values for redaction
// (Register); errors never contain the content.
func Lookup(ctx context.Context, ref string, providerURI string) (Secret, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", &Error{Err: err}
	}
	if err := ctx.Err(); err != nil {
		return "", &Error{Ref: r.String(), Err: err}
	}
	content, where, err := lookup(ctx, r, providerURI)
	if err != nil {
		return "", &Error{Ref: r.String(), Where: where, Err: err}
	}
	return content, nil
}
