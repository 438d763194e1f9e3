package blueprint

import (
	"context"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
)

// Permanent reports whether retrying a failed run cannot succeed until
// someone changes something: a missing secret or one that cannot be read,
// credentials the server refuses, a missing table, column or database,
// permission denied, an invalid catalog or spec, a column type wharf cannot
// land, a table changed under on_schema_change freeze or ignore_new
// (SchemaDriftError), or a permanent lake error (no bucket, access denied,
// wrong keys).
// It is the one classification both wharf run and serve's workers use:
// serve ends such a job at once (river.JobCancel) instead of retrying it
// attempts times. Network failures, timeouts and cancellation are never
// permanent.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return false
	}
	var p interface{ Permanent() bool } // lake.StoreError, secret.Error, SchemaDriftError
	if errors.As(err, &p) {
		return p.Permanent()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "28", // invalid authorization (wrong password, no such role)
			"3D", // no such database
			"3F", // no such schema
			"42": // undefined table/column, insufficient privilege, syntax
			return true
		}
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1044, 1045, 1698, // access denied (database, user, plugin)
			1049,             // unknown database
			1142, 1143, 1227, // command, column or privilege denied
			1146, 1054: // unknown table, unknown column
			return true
		}
		return false
	}
	var ue *coltype.UnsupportedError
	var ce catalog.Errors
	return errors.Is(err, secret.ErrNotFound) || errors.Is(err, source.ErrNotFound) ||
		errors.As(err, &ue) || errors.As(err, &ce)
}
