package statepg_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statepg"
	"github.com/wharf-data/wharf/internal/state/statetest"
	"github.com/wharf-data/wharf/internal/testdb"
)

func TestFleetConformance(t *testing.T) {
	statetest.RunFleet(t, statetest.FleetBackend{
		NewURL: func(t *testing.T) string {
			dsn, _ := testdb.PostgresSchema(t)
			return dsn
		},
		QueueRun: func(s state.Store, r *state.Run, jobID int64, skip string) error {
			return s.(*statepg.Store).QueueRun(t.Context(), r, func(pgx.Tx) (int64, string, error) { return jobID, skip, nil })
		},
	})
}
