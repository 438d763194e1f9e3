package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
	"golang.org/x/xerrors"
)

// StoreError is a failed object-store operation. It names the lake
// (redacted URL), the operation and the object, and says in plain words why
// when the cause is one the user must fix (no such bucket, access denied,
// wrong keys). Transient errors (5xx, timeouts, throttling) reach it only
// after the store client's retries ran out.
type StoreError struct {
	Lake string // printable URL
	Op   string // list, write, read, delete, ...
	Key  string // object key relative to the lake ("" for the bucket)
	// Reason is the plain-words cause of a permanent error, or "".
	Reason string
	Err    error
}

func (e *StoreError) Error() string {
	s := fmt.Sprintf("lake %s: %s", e.Lake, e.Op)
	if e.Key != "" {
		s += " " + e.Key
	}
	cause := storeCause(e.Err, e.Key).Error()
	if e.Reason != "" {
		return s + ": " + e.Reason + " (" + cause + ")"
	}
	return s + ": " + cause
}

// storeCause is err without what repeats key, which the StoreError names
// already: gocloud's wrappers (blob (key "K") (code=C): ...) and, on a
// file lake, the object's own path in the OS error (remove /lake/K: ...
// says remove: ...). errors.Is and errors.As still see all of err through
// Unwrap.
func storeCause(err error, key string) error {
	for {
		var pe *fs.PathError
		if key != "" && errors.As(err, &pe) && err == error(pe) && strings.HasSuffix(filepath.ToSlash(pe.Path), "/"+key) {
			return fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		f, ok := err.(xerrors.Formatter)
		if !ok || !strings.HasPrefix(err.Error(), "blob") {
			return err
		}
		next := f.FormatError(discard{})
		if next == nil {
			return err
		}
		err = next
	}
}

// discard is the xerrors.Printer storeCause walks a wrapper's chain with.
type discard struct{}

func (discard) Print(...any)          {}
func (discard) Printf(string, ...any) {}
func (discard) Detail() bool          { return false }

func (e *StoreError) Unwrap() error { return e.Err }

// Permanent reports whether retrying the operation cannot help: the bucket
// is missing, access is denied, or the credentials are wrong.
func (e *StoreError) Permanent() bool { return e.Reason != "" }

// notFound reports whether err says the object does not exist. A file lake
// answers ENOTDIR for a key below a regular file (after a create that
// failed for that reason, say), which fileblob does not map to NotFound
// (only ENOENT); no object can exist there either.
func notFound(err error) bool {
	return gcerrors.Code(err) == gcerrors.NotFound || errors.Is(err, syscall.ENOTDIR)
}

// storeError wraps err from op on key ("" = the bucket itself).
func (l *Lake) storeError(op, key string, err error) error {
	var se *StoreError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) {
		return err
	}
	return &StoreError{Lake: l.url, Op: op, Key: key, Reason: reason(op, key, err), Err: err}
}

// reason explains the permanent errors a user must fix.
func reason(op, key string, err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchBucket":
			return "the bucket does not exist"
		case "InvalidAccessKeyId", "XAdminUserNotFound":
			return "the access key ID is not known to the store: check the lake's credentials"
		case "SignatureDoesNotMatch":
			return "the secret access key is wrong: check the lake's credentials"
		case "AccessDenied", "Forbidden", "AllAccessDisabled":
			return "access denied: check the lake's credentials and their permissions on the bucket"
		case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
			return "the session token is expired or invalid: refresh the lake's credentials"
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusUnauthorized || re.HTTPStatusCode() == http.StatusForbidden) {
		return "access denied: check the lake's credentials and their permissions on the bucket"
	}
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied:
		return "access denied: check the lake's credentials and their permissions on the bucket"
	case gcerrors.NotFound:
		if key == "" || op == "list" || op == "write" || op == "create" {
			return "the bucket does not exist"
		}
	}
	return ""
}
