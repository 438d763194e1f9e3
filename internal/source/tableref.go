package source

import (
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/suggest"
)

// TableRef names a table as the catalog writes it; catalog.ParseTableRef
// reads it (plain or SQL-quoted names) and String writes it back.
type TableRef = catalog.TableRef

// DidYouMeanTable returns ` (did you mean "schema.table"?)` naming the
// table of candidates that a missing ref most likely meant (the same name
// in another case, or a close spelling: internal/suggest), or "". Every
// source's "no such table" error ends with it; candidates are the tables
// of ref's schema (matched ignoring case), qualified as ref is.
func DidYouMeanTable(ref TableRef, candidates []TableRef) string {
	known := make([]string, 0, len(candidates))
	for _, c := range candidates {
		if ref.Schema == "" {
			c.Schema = ""
		}
		known = append(known, c.String())
	}
	return suggest.DidYouMean(ref.String(), known)
}
