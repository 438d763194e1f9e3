package blueprint_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

func TestPermanent(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("workflow w: connection c: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"wrong password", &pgconn.PgError{Code: "28P01"}, true},
		{"no such database", &pgconn.PgError{Code: "3D000"}, true},
		{"no such table", &pgconn.PgError{Code: "42P01"}, true},
		{"permission denied", &pgconn.PgError{Code: "42501"}, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"mysql access denied", &mysql.MySQLError{Number: 1045}, true},
		{"mysql unknown table", &mysql.MySQLError{Number: 1146}, true},
		{"mysql lock wait timeout", &mysql.MySQLError{Number: 1205}, false},
		{"missing table or column", fmt.Errorf("table t: %w", source.ErrNotFound), true},
		{"missing secret", &secret.Error{Ref: "env:X", Err: fmt.Errorf("%w: not set", secret.ErrNotFound)}, true},
		{"no bucket", &lake.StoreError{Lake: "s3://b", Op: "write", Reason: "the bucket does not exist", Err: errors.New("NoSuchBucket")}, true},
		{"lake 503", &lake.StoreError{Lake: "s3://b", Op: "write", Err: errors.New("503")}, false},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{"cancelled", context.Canceled, false},
		{"timeout", context.DeadlineExceeded, false},
		{"anything else", errors.New("boom"), false},
	} {
		if got := blueprint.Permanent(wrap(tc.err)); got != tc.want {
			t.Errorf("%s: Permanent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSecretsManagerErrorClasses asks a Secrets Manager endpoint through the
// real SDK: throttling and server errors that outlast the SDK's retries fail
// the run for now (it is retried), while a missing secret or access denied
// is permanent.
func TestSecretsManagerErrorClasses(t *testing.T) {
	for _, kv := range testdb.AWSTestEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	sm := testdb.StartSecretsManager(t, map[string]string{"db": "postgres://app:pw@db.internal/hr"})
	sm.Deny("denied")
	t.Cleanup(func() { secret.ForgetCached() })
	uri := "aws-sm:?region=eu-west-1&endpoint=" + sm.URL
	for _, tc := range []struct {
		name, ref string
		fail      func()
		permanent bool
	}{
		{"throttled", "db", func() { sm.Throttle(10) }, false},
		{"server error", "db", func() { sm.Break(10) }, false},
		{"not found", "missing", func() {}, true},
		{"access denied", "denied", func() {}, true},
	} {
		tc.fail()
		_, err := secret.Resolve(t.Context(), tc.ref, uri)
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if got := blueprint.Permanent(fmt.Errorf("connection c: %w", err)); got != tc.permanent {
			t.Errorf("%s: Permanent(%v) = %v, want %v", tc.name, err, got, tc.permanent)
		}
		sm.Throttle(0)
		sm.Break(0)
	}
}
