package statesqlite_test

import (
	"testing"

	"github.com/wharf-data/wharf/internal/state/statetest"
)

func TestFleetConformance(t *testing.T) { t.Parallel(); statetest.RunFleet(t, backend) }
