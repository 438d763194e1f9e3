package statepg

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestSchemaHint: a refusal to create wharf's tables says what to grant,
// in the schema the URL's search_path names; a search_path naming no
// schema says to create it; other errors get no hint.
func TestSchemaHint(t *testing.T) {
	denied := &pgconn.PgError{Code: "42501", Message: "permission denied for schema public"}
	none := &pgconn.PgError{Code: "3F000", Message: "no schema has been selected to create in"}
	for _, c := range []struct {
		url  string
		err  error
		want string
	}{
		{"postgres://u@h/db", denied, "GRANT CREATE ON SCHEMA public TO the role"},
		{"postgres://u@h/db?search_path=ops,public", denied, "GRANT CREATE ON SCHEMA ops TO the role"},
		{"postgres://u@h/db?search_path=ops", none, "CREATE SCHEMA ops AUTHORIZATION the role"},
		{"postgres://u@h/db", errors.New("connection refused"), ""},
		{"postgres://u@h/db", &pgconn.PgError{Code: "28P01"}, ""},
	} {
		got := schemaHint(c.url, c.err)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("schemaHint(%s, %v) = %q, want it to hold %q", c.url, c.err, got, c.want)
		}
	}
}
