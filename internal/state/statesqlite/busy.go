package statesqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wharf-data/wharf/internal/state"
)

// retryBusy runs fn again (up to 10 tries, backing off) while it fails with
// SQLITE_BUSY, which a statement gets when another writer held the lock
// for longer than the busy timeout (a loaded machine), or, without the
// timeout applying, while a connection switches a fresh file to WAL mode.
// A moment later the same statement succeeds. An error still busy after the
// last try wraps state.ErrBusy, so that callers can tell it from a failure.
func retryBusy(ctx context.Context, fn func() error) error {
	var err error
	for i := range 10 {
		if err = fn(); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", state.ErrBusy, err)
		case <-time.After(time.Duration(i+1) * 20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w: %w", state.ErrBusy, err)
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
