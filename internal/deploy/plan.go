// Package deploy reconciles the catalog with the deployed workflows in the
// state store. Plan computes the difference: which workflows to create,
// update (and which fields change), leave unchanged, disable (gone from the
// catalog: no more scheduled runs, history kept) or delete (--prune). Apply
// writes exactly that plan in one state transaction, so a deploy is all or
// nothing, and deploying the same catalog twice changes nothing.
//
// Table patterns (table: "public.*") are expanded first, against the
// source's tables (Expand), so the plan is always about concrete tables.
// Discover prints catalog entries for the tables of an existing schema.
package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
)

// Plan is what a deploy would change. Every list is sorted by name.
type Plan struct {
	// Create lists workflows in the catalog that are not deployed.
	Create []Item
	// Update lists deployed workflows whose spec changed, or that were
	// disabled and are back in the catalog (Changes then holds "enabled").
	Update []Item
	// Unchanged lists enabled workflows whose spec is the same.
	Unchanged []string
	// Disable lists enabled workflows no longer in the catalog.
	Disable []string
	// Delete lists disabled workflows (already, or by this deploy) that
	// --prune deletes, with their runs, files and watermark.
	Delete []string
	// Resets lists the updates that reset the watermark (their cursor
	// column or source table changed); Apply needs AllowReset for them.
	Resets []string
	// Kept counts workflows that stay disabled (not in the catalog, no
	// --prune): they are in no list.
	Kept int

	// basis is the deployed state the plan was made against (see
	// state.DeployChanges.Basis): applying it fails if that changed.
	basis map[string]string
}

// Item is a workflow to create or update.
type Item struct {
	Name string
	Spec catalog.Resolved
	// Changes names the changed fields of an update, as users write them
	// in the catalog (see Changes); empty for a create.
	Changes []string
	// ResetsWatermark is true when the cursor column or the source table
	// changed: the workflow's watermark no longer applies.
	ResetsWatermark bool
}

// Options change what Plan does.
type Options struct {
	// Prune deletes disabled workflows instead of keeping them.
	Prune bool
}

// New computes the plan that takes the deployed workflows to want (the
// catalog's workflows, patterns expanded: see Expand). want must hold
// each name once (Expand checks it).
func New(want []catalog.Resolved, deployed []state.Deployed, opts Options) (*Plan, error) {
	p := &Plan{basis: make(map[string]string, len(deployed))}
	current := make(map[string]*state.Deployed, len(deployed))
	for i := range deployed {
		current[deployed[i].Name] = &deployed[i]
		p.basis[deployed[i].Name] = state.BasisKey(deployed[i].SpecHash, deployed[i].Enabled)
	}
	wanted := make(map[string]bool, len(want))
	for _, r := range want {
		name := r.Workflow.Name
		if wanted[name] {
			return nil, fmt.Errorf("plan: workflow %s is in the catalog twice", name)
		}
		wanted[name] = true
		d := current[name]
		if d == nil {
			p.Create = append(p.Create, Item{Name: name, Spec: r})
			continue
		}
		dw, err := Decode(*d)
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		changes := Changes(dw.Spec, r)
		if len(changes) == 0 && d.SpecHash != state.HashSpec(catalog.EncodeSpec(r)) {
			// Same settings, other encoding (a newer wharf's spec): rewrite it.
			changes = []string{"spec"}
		}
		if !d.Enabled {
			changes = append([]string{"enabled"}, changes...)
		}
		if len(changes) == 0 {
			p.Unchanged = append(p.Unchanged, name)
			continue
		}
		it := Item{Name: name, Spec: r, Changes: changes, ResetsWatermark: ResetsWatermark(dw.Spec, r)}
		p.Update = append(p.Update, it)
		if it.ResetsWatermark {
			p.Resets = append(p.Resets, name)
		}
	}
	for _, d := range deployed {
		switch {
		case wanted[d.Name]:
		case opts.Prune:
			p.Delete = append(p.Delete, d.Name)
		case d.Enabled:
			p.Disable = append(p.Disable, d.Name)
		default:
			p.Kept++
		}
	}
	byName := func(a, b Item) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(p.Create, byName)
	slices.SortFunc(p.Update, byName)
	for _, l := range [][]string{p.Unchanged, p.Disable, p.Delete, p.Resets} {
		slices.Sort(l)
	}
	return p, nil
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool {
	return len(p.Create) == 0 && len(p.Update) == 0 && len(p.Disable) == 0 && len(p.Delete) == 0
}

// Summary is the one-line count, e.g. "Plan: 2 to create, 1 to update,
// 997 unchanged, 0 to disable, 0 to delete."
func (p *Plan) Summary() string {
	s := fmt.Sprintf("%d to create, %d to update, %d unchanged, %d to disable, %d to delete",
		len(p.Create), len(p.Update), len(p.Unchanged), len(p.Disable), len(p.Delete))
	if p.Kept > 0 {
		s += fmt.Sprintf(" (%d disabled kept; --prune deletes them)", p.Kept)
	}
	return s + "."
}

// JSON is the plan as `wharf plan --json` prints it, a stable contract for
// scripts: {"create": [name...], "update": [{"name": ..., "changes":
// [field...]}], "unchanged": [name...], "disable": [name...], "delete":
// [name...]}. Empty lists are [], never null.
type JSON struct {
	Create    []string     `json:"create"`
	Update    []UpdateJSON `json:"update"`
	Unchanged []string     `json:"unchanged"`
	Disable   []string     `json:"disable"`
	Delete    []string     `json:"delete"`
}

// UpdateJSON is one entry of JSON.Update.
type UpdateJSON struct {
	Name    string   `json:"name"`
	Changes []string `json:"changes"`
}

// JSON returns the plan's script contract.
func (p *Plan) JSON() JSON {
	j := JSON{Create: []string{}, Update: []UpdateJSON{}, Unchanged: nonNil(p.Unchanged),
		Disable: nonNil(p.Disable), Delete: nonNil(p.Delete)}
	for _, it := range p.Create {
		j.Create = append(j.Create, it.Name)
	}
	for _, it := range p.Update {
		j.Update = append(j.Update, UpdateJSON{Name: it.Name, Changes: nonNil(it.Changes)})
	}
	return j
}

// MarshalJSON encodes the plan as its script contract.
func (p *Plan) MarshalJSON() ([]byte, error) { return json.Marshal(p.JSON()) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ResetError is returned by Changes when the plan resets watermarks and
// AllowReset is not set.
type ResetError struct{ Workflows []string }

func (e *ResetError) Error() string {
	return fmt.Sprintf("%s: the cursor column or source table changed, which resets the watermark "+
		"(the next run is a full load); deploy with --allow-reset to apply (nothing was deployed)", plural(e.Workflows, "workflow"))
}

func plural(names []string, what string) string {
	if len(names) == 1 {
		return what + " " + names[0]
	}
	return what + "s " + strings.Join(names, ", ")
}

// Changes returns the state changes that apply the plan. Updates that
// reset the watermark need allowReset (else a *ResetError naming them).
func (p *Plan) Changes(allowReset bool) (state.DeployChanges, error) {
	if len(p.Resets) > 0 && !allowReset {
		return state.DeployChanges{}, &ResetError{Workflows: p.Resets}
	}
	var c state.DeployChanges
	for _, it := range p.Create {
		c.Create = append(c.Create, state.Deployed{Name: it.Name, Spec: catalog.EncodeSpec(it.Spec)})
	}
	for _, it := range p.Update {
		c.Update = append(c.Update, state.Deployed{Name: it.Name, Spec: catalog.EncodeSpec(it.Spec)})
	}
	c.Disable = p.Disable
	c.Delete = p.Delete
	c.ResetWatermark = p.Resets
	c.Basis = p.basis
	return c, nil
}
