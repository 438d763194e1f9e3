package statesqlite_test

import (
	"testing"

	"github.com/wharf-data/wharf/internal/state/statetest"
)

func TestFleetConformance(t *testing.T) { statetest.RunFleet(t, backend) }
