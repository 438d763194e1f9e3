package source

import "context"

// TableLister is the capability to list a schema's tables, which table
// patterns (table: "public.*") and `wharf discover` need. Sources that
// support it implement it next to Source; check with a type assertion.
type TableLister interface {
	// Tables lists the base tables of schema ("" = the source's default
	// schema), sorted by name, each with the schema resolved (never "").
	// Views are not listed. A missing schema wraps ErrNotFound.
	Tables(ctx context.Context, schema string) ([]TableRef, error)
}
