package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/coltype"
)

// SchemaKey is the Parquet key-value metadata key under which every file
// wharf writes holds the schema it landed (Schema as JSON).
const SchemaKey = "wharf.schema"

// SchemaColumn is one landed column: its name, the source's type and the
// landed type (coltype.Column.TypeString).
type SchemaColumn struct {
	Name       string `json:"name"`
	SourceType string `json:"source_type"`
	Type       string `json:"type"`
}

// Schema is what a run landed, with a hash that changes when any column's
// name, source type or landed type does.
type Schema struct {
	Columns []SchemaColumn `json:"columns"`
	Hash    string         `json:"hash"`
	// Source is every column the source described, before the workflow's
	// column choices (columns, exclude_columns, cast, mask): whether the
	// table itself changed is judged on these, so a deliberate change of
	// choices is not taken for drift. Not part of Hash; absent in schemas
	// recorded before it existed.
	Source []SchemaColumn `json:"source,omitempty"`
}

// SchemaOf returns the landed schema of cols.
func SchemaOf(cols []coltype.Column) Schema {
	s := Schema{Columns: make([]SchemaColumn, len(cols))}
	for i, c := range cols {
		s.Columns[i] = SchemaColumn{Name: c.Name, SourceType: c.SourceType, Type: c.TypeString()}
	}
	s.Hash = hashColumns(s.Columns)
	return s
}

// LandedSchema returns the schema of the landed columns, keeping the
// columns the source described (before column choices) as its Source.
func LandedSchema(landed, described []coltype.Column) Schema {
	s := SchemaOf(landed)
	s.Source = SchemaOf(described).Columns
	return s
}

// SourceSchema returns the source's columns as a schema of their own, and
// false when s was recorded without them.
func (s Schema) SourceSchema() (Schema, bool) {
	if len(s.Source) == 0 {
		return Schema{}, false
	}
	return Schema{Columns: s.Source, Hash: hashColumns(s.Source)}, true
}

func hashColumns(cols []SchemaColumn) string {
	b, _ := json.Marshal(cols) // strings only: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// JSON is the schema's JSON text.
func (s Schema) JSON() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ParseSchema reads Schema.JSON's text.
func ParseSchema(text string) (Schema, error) {
	var s Schema
	err := json.Unmarshal([]byte(text), &s)
	return s, err
}

// SchemaChange is how a landed schema differs from the previous one.
type SchemaChange struct {
	Added   []string       `json:"added"`
	Dropped []string       `json:"dropped"`
	Changed []ColumnChange `json:"changed"`
}

// ColumnChange is a column whose type changed, by source type (the landed
// type when the source types are equal).
type ColumnChange struct {
	Column string `json:"column"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// DiffSchemas returns how cur differs from prev, or nil when it does not.
func DiffSchemas(prev, cur Schema) *SchemaChange {
	if prev.Hash == cur.Hash {
		return nil
	}
	c := &SchemaChange{Added: []string{}, Dropped: []string{}, Changed: []ColumnChange{}}
	old := map[string]SchemaColumn{}
	for _, p := range prev.Columns {
		old[p.Name] = p
	}
	seen := map[string]bool{}
	for _, n := range cur.Columns {
		seen[n.Name] = true
		p, ok := old[n.Name]
		switch {
		case !ok:
			c.Added = append(c.Added, n.Name)
		case p.SourceType != n.SourceType:
			c.Changed = append(c.Changed, ColumnChange{n.Name, p.SourceType, n.SourceType})
		case p.Type != n.Type:
			c.Changed = append(c.Changed, ColumnChange{n.Name, p.Type, n.Type})
		}
	}
	for _, p := range prev.Columns {
		if !seen[p.Name] {
			c.Dropped = append(c.Dropped, p.Name)
		}
	}
	if len(c.Added)+len(c.Dropped)+len(c.Changed) == 0 {
		return nil // only the order changed
	}
	return c
}

// String lists every difference: "added a, b; dropped c; changed d integer → bigint".
func (c *SchemaChange) String() string {
	var parts []string
	if len(c.Added) > 0 {
		parts = append(parts, "added "+strings.Join(c.Added, ", "))
	}
	if len(c.Dropped) > 0 {
		parts = append(parts, "dropped "+strings.Join(c.Dropped, ", "))
	}
	if len(c.Changed) > 0 {
		var ch []string
		for _, x := range c.Changed {
			ch = append(ch, fmt.Sprintf("%s %s → %s", x.Column, x.From, x.To))
		}
		parts = append(parts, "changed "+strings.Join(ch, ", "))
	}
	return strings.Join(parts, "; ")
}
