package sourcesqlite

import (
	"fmt"

	"github.com/wharf-data/wharf/internal/coltype"
)

// ConversionError reports a stored value that cannot be converted to its
// column's kind (SQLite does not enforce declared types). The value itself
// is left out of the message: it may be personal data.
type ConversionError struct {
	Database     string // the source's Database()
	Table        string // as the request names it
	Column       string
	Row          string // "employee_id=7", "rowid=12", or "row 3 of the result"
	StorageClass string // integer, real, text or blob
	Kind         string // the column's kind, e.g. "decimal(8,2)"
	Reason       string
}

func (e *ConversionError) Error() string {
	return fmt.Sprintf("sqlite %s: table %s column %q, %s: %s (column kind %s)",
		e.Database, e.Table, e.Column, e.Row, e.Reason, e.Kind)
}

// kindText names a column's kind for messages, with its precision and
// scale when it is a decimal.
func kindText(c coltype.Column) string {
	if c.Kind == coltype.Decimal {
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	}
	return c.Kind.String()
}
