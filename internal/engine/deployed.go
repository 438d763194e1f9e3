package engine

import (
	"context"
	"iter"
	"sync"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// deployedView is what a loop of the engine keeps of the deployed
// workflows, built again only after a deploy changed them (the store's
// DeployedVersion): an idle serve with 10,000 workflows otherwise decoded
// every spec at every pass, and the garbage kept its heap (and RSS) high.
type deployedView[T any] struct {
	mu      sync.Mutex
	version string // DeployedVersion at the last build; "" = never built
	val     T
}

// get returns the view, first rebuilt when a deploy changed the deployed
// workflows since the last build. build ranges over the deployed
// workflows, each decoded when reached (not all 10,000 decoded at once),
// and returns the new view; a build that fails is tried again at the next
// get.
func (v *deployedView[T]) get(ctx context.Context, store state.Store, build func(iter.Seq2[*deploy.Workflow, error]) (T, error)) (T, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	version, err := store.DeployedVersion(ctx)
	if err != nil {
		return v.val, err
	}
	if version == v.version {
		return v.val, nil
	}
	ds, err := store.DeployedWorkflows(ctx)
	if err != nil {
		return v.val, err
	}
	val, err := build(func(yield func(*deploy.Workflow, error) bool) {
		for i := range ds {
			d, err := deploy.Decode(ds[i])
			ds[i] = state.Deployed{} // d has what it needs
			if !yield(&d, err) || err != nil {
				return
			}
		}
	})
	if err != nil {
		return v.val, err
	}
	v.version, v.val = version, val
	return val, nil
}
