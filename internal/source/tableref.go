package source

import "github.com/wharf-data/wharf/internal/catalog"

// TableRef names a table as the catalog writes it; catalog.ParseTableRef
// reads it (plain or SQL-quoted names) and String writes it back.
type TableRef = catalog.TableRef
