package deploy

import (
	"context"
	"fmt"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
)

// Compute expands the catalog (see Expand) and plans it against what the
// store has deployed.
func Compute(ctx context.Context, store state.Deployments, cat *catalog.Catalog, l Lister, opts Options) (*Plan, *Expansion, error) {
	e, err := Expand(ctx, cat, l)
	if err != nil {
		return nil, nil, err
	}
	deployed, err := store.DeployedWorkflows(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := New(e.Workflows, deployed, opts)
	if err != nil {
		return nil, nil, err
	}
	return p, e, nil
}

// Apply writes the plan to the store in one transaction: all of it, or
// nothing on any error. Updates that reset the watermark need allowReset
// (else a *ResetError and nothing is written).
func Apply(ctx context.Context, store state.Store, p *Plan, allowReset bool) error {
	c, err := p.Changes(allowReset)
	if err != nil {
		return err
	}
	if c.Empty() {
		return nil
	}
	if err := store.ApplyDeploy(ctx, c); err != nil {
		return fmt.Errorf("%w (nothing was deployed)", err)
	}
	return nil
}
