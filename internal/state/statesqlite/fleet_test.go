package statesqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/state/statetest"
)

func TestFleetConformance(t *testing.T) {
	statetest.RunFleet(t, statetest.FleetBackend{
		NewURL: func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "state.db") },
		QueueRun: func(s state.Store, r *state.Run, jobID int64, skip string) error {
			return s.(*statesqlite.Store).QueueRun(t.Context(), r, func(*sql.Tx) (int64, string, error) { return jobID, skip, nil })
		},
	})
}
