package deploy

import (
	"context"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/suggest"
)

// Workflow is a deployed workflow with its spec decoded: the state record
// (whose Spec field holds the canonical bytes) plus what they say.
type Workflow struct {
	state.Deployed
	// Spec is the decoded spec; it shadows Deployed.Spec (the bytes).
	Spec catalog.Resolved
}

// Decode decodes a deployed workflow's spec. A spec this wharf cannot read
// (written by a newer one) is an error naming the workflow.
func Decode(d state.Deployed) (Workflow, error) {
	spec, err := catalog.DecodeSpec("deployed workflow "+d.Name, d.Spec)
	if err != nil {
		return Workflow{}, err
	}
	return Workflow{Deployed: d, Spec: spec}, nil
}

// List returns every deployed workflow, decoded, ordered by name.
func List(ctx context.Context, store state.Store) ([]Workflow, error) {
	return DecodeAll(store.DeployedWorkflows(ctx))
}

// DecodeAll decodes what a store call listing deployed workflows
// returned, passing its error on.
func DecodeAll(ds []state.Deployed, err error) ([]Workflow, error) {
	if err != nil {
		return nil, err
	}
	out := make([]Workflow, 0, len(ds))
	for _, d := range ds {
		w, err := Decode(d)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// Get returns one deployed workflow, decoded; the error wraps
// state.ErrNotFound when it is not deployed.
func Get(ctx context.Context, store state.Store, name string) (*Workflow, error) {
	d, err := store.DeployedWorkflow(ctx, name)
	if err != nil {
		return nil, err
	}
	w, err := Decode(*d)
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// NotDeployed says that no workflow name is deployed, with the deployed
// name closest to it ("did you mean"), else how to deploy it; "" when name
// is deployed. wharf trigger and runs of a misspelt name say it.
func NotDeployed(ctx context.Context, store state.Store, name string) string {
	ds, err := store.DeployedWorkflows(ctx)
	names := make([]string, 0, len(ds))
	for _, d := range ds {
		if d.Name == name {
			return ""
		}
		names = append(names, d.Name)
	}
	hint := suggest.DidYouMean(name, names)
	if hint == "" || err != nil {
		hint = " (deploy it with wharf deploy -c CATALOG)"
	}
	return "no workflow " + name + " is deployed" + hint
}
