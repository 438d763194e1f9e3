package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Deployed is a workflow as deployed: what runs, independent of the catalog
// file.
type Deployed struct {
	ID   string // UUIDv7, assigned at create, kept across updates
	Name string
	// Spec is the workflow with its connection and lake as canonical JSON
	// (catalog.EncodeSpec writes it, catalog.DecodeSpec reads it); the
	// store keeps the bytes as given. SpecHash is HashSpec(Spec).
	Spec     []byte
	SpecHash string
	// Enabled is false once the workflow left the catalog: it has no
	// schedule any more, and its history is kept.
	Enabled              bool
	CreatedAt, UpdatedAt time.Time // UTC, microseconds
	// LastFireAt and NextFireAt are schedule bookkeeping, written by the
	// engine through SetFireTimes; zero = none. Updates keep them.
	LastFireAt, NextFireAt time.Time
}

// DeployChanges is one deploy: applied by Store.ApplyDeploy in one
// transaction, all or nothing. A name may appear in at most one of Create,
// Update, Disable and Delete.
type DeployChanges struct {
	// Create adds workflows not deployed yet (enabled, by name). A zero ID
	// gets a new UUIDv7; SpecHash is computed (a non-empty one must match).
	// Name and Spec are required.
	Create []Deployed
	// Update replaces the spec of deployed workflows, matched by Name, and
	// enables them. It keeps ID, CreatedAt, fire times, runs and watermark.
	Update []Deployed
	// Disable marks deployed workflows (by name) as not scheduled any more;
	// their history is kept.
	Disable []string
	// Delete (prune) removes deployed workflows by name, together with
	// their runs, files and watermark rows.
	Delete []string
	// ResetWatermark names workflows whose watermark is forgotten (the
	// cursor column or the table changed, deployed with --allow-reset).
	ResetWatermark []string
	// Basis is the deployed state the changes were planned against: every
	// deployed workflow's name with BasisKey of it. When not nil, ApplyDeploy
	// fails wrapping ErrDeployConflict, changing nothing, if the deployed
	// workflows differ from it (another deploy ran since the plan was made).
	Basis map[string]string
}

// ErrDeployConflict is wrapped by ApplyDeploy errors when the deployed
// workflows changed since the deploy was planned.
var ErrDeployConflict = errors.New("the deployed workflows changed since the plan was made; plan again")

// BasisKey identifies what a deploy saw of one deployed workflow.
func BasisKey(specHash string, enabled bool) string {
	if enabled {
		return specHash + "/enabled"
	}
	return specHash + "/disabled"
}

// CheckBasis compares the deployed workflows seen inside ApplyDeploy's
// transaction (name -> BasisKey) with basis; nil basis checks nothing.
func CheckBasis(basis, now map[string]string) error {
	if basis == nil {
		return nil
	}
	for name, key := range now {
		switch want, ok := basis[name]; {
		case !ok:
			return fmt.Errorf("deploy: workflow %s was deployed by someone else meanwhile: %w", name, ErrDeployConflict)
		case want != key:
			return fmt.Errorf("deploy: workflow %s was changed by someone else meanwhile: %w", name, ErrDeployConflict)
		}
	}
	for name := range basis {
		if _, ok := now[name]; !ok {
			return fmt.Errorf("deploy: workflow %s was deleted by someone else meanwhile: %w", name, ErrDeployConflict)
		}
	}
	return nil
}

// Empty reports whether c changes nothing.
func (c DeployChanges) Empty() bool {
	return len(c.Create) == 0 && len(c.Update) == 0 && len(c.Disable) == 0 &&
		len(c.Delete) == 0 && len(c.ResetWatermark) == 0
}

// ErrAlreadyDeployed is wrapped by ApplyDeploy errors about a Create of a
// name that is deployed already (enabled or not).
var ErrAlreadyDeployed = errors.New("already deployed")

// DeployedNotFound returns the error for a workflow that is not deployed;
// it wraps ErrNotFound.
func DeployedNotFound(op, name string) error {
	return fmt.Errorf("%s workflow %s: not deployed: %w", op, name, ErrNotFound)
}

// HashSpec returns the sha256 (hex) of a canonical spec: Deployed.SpecHash.
func HashSpec(spec []byte) string {
	sum := sha256.Sum256(spec)
	return hex.EncodeToString(sum[:])
}

// PreparedDeploy is DeployChanges checked and normalized by Prepare.
type PreparedDeploy struct {
	Create, Update                  []Deployed
	Disable, Delete, ResetWatermark []string
}

// Prepare checks c before a backend applies it and returns what to write:
// names set and storable, specs storable JSON, no name in two of
// Create/Update/Disable/Delete or twice in one, SpecHash computed (a given
// one must match), IDs assigned to creates, Enabled true, CreatedAt and
// UpdatedAt set to now as the change requires. Errors name the workflow
// and start with "deploy: ".
func (c DeployChanges) Prepare(now time.Time) (*PreparedDeploy, error) {
	now = Time(now)
	p := &PreparedDeploy{}
	seen := map[string]string{}
	claim := func(op, name string) error {
		if name == "" {
			return fmt.Errorf("deploy: %s workflow: empty name", op)
		}
		if !storable(name) {
			return fmt.Errorf("deploy: %s workflow %q: the name must be valid UTF-8 without NUL", op, name)
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("deploy: workflow %s is listed twice (%s and %s)", name, prev, op)
		}
		seen[name] = op
		return nil
	}
	write := func(op string, d Deployed) (Deployed, error) {
		if err := claim(op, d.Name); err != nil {
			return Deployed{}, err
		}
		if !storable(string(d.Spec)) || !json.Valid(d.Spec) {
			return Deployed{}, fmt.Errorf("deploy: %s workflow %s: its spec must be JSON in valid UTF-8 without NUL", op, d.Name)
		}
		hash := HashSpec(d.Spec)
		if d.SpecHash != "" && d.SpecHash != hash {
			return Deployed{}, fmt.Errorf("deploy: %s workflow %s: SpecHash %s does not match its spec (%s)", op, d.Name, d.SpecHash, hash)
		}
		d.SpecHash = hash
		d.Enabled = true
		d.UpdatedAt = now
		d.LastFireAt, d.NextFireAt = Time(d.LastFireAt), Time(d.NextFireAt)
		return d, nil
	}
	for _, d := range c.Create {
		w, err := write("create", d)
		if err != nil {
			return nil, err
		}
		if w.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, fmt.Errorf("deploy: create workflow %s: new ID: %w", w.Name, err)
			}
			w.ID = id.String()
		} else if !storable(w.ID) {
			return nil, fmt.Errorf("deploy: create workflow %s: ID %q must be valid UTF-8 without NUL", w.Name, w.ID)
		}
		w.CreatedAt = now
		p.Create = append(p.Create, w)
	}
	for _, d := range c.Update {
		w, err := write("update", d)
		if err != nil {
			return nil, err
		}
		p.Update = append(p.Update, w)
	}
	for _, list := range []struct {
		op    string
		names []string
		out   *[]string
	}{{"disable", c.Disable, &p.Disable}, {"delete", c.Delete, &p.Delete}} {
		for _, name := range list.names {
			if err := claim(list.op, name); err != nil {
				return nil, err
			}
			*list.out = append(*list.out, name)
		}
	}
	resets := map[string]bool{}
	for _, name := range c.ResetWatermark {
		if name == "" || !storable(name) {
			return nil, fmt.Errorf("deploy: reset watermark of workflow %q: the name must be non-empty valid UTF-8 without NUL", name)
		}
		if seen[name] == "delete" {
			return nil, fmt.Errorf("deploy: workflow %s is listed twice (delete and reset watermark)", name)
		}
		if !resets[name] {
			resets[name] = true
			p.ResetWatermark = append(p.ResetWatermark, name)
		}
	}
	return p, nil
}
