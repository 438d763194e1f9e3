package blueprint_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
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
