package statesqlite

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// retryBusy runs fn again (up to 10 tries, backing off) while it fails with
// SQLITE_BUSY. Connections opening a fresh file together can get
// SQLITE_BUSY without the busy timeout applying while one of them switches
// the file to WAL mode; a moment later the same statement succeeds.
func retryBusy(ctx context.Context, fn func() error) error {
	var err error
	for i := range 10 {
		if err = fn(); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 20 * time.Millisecond):
		}
	}
	return err
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
