package quickstart

// SampleTable is one table of the HR sample: its columns and rows, values
// as Go ints, strings, float64s and nil (NULL), updated_at as
// "YYYY-MM-DD HH:MM:SS" text (TimeLayout).
type SampleTable struct {
	Name    string
	Columns []string
	Rows    [][]any
}

// Sample returns the HR sample: DDL in SQL that SQLite, MySQL/MariaDB and
// PostgreSQL all accept, then each table's rows in an order that satisfies
// the foreign keys. Tests load it into other source databases with it.
func Sample() (ddl []string, tables []SampleTable) {
	ddl = append(ddl, hrDDL...)
	for _, t := range hrData() {
		tables = append(tables, SampleTable{Name: t.table, Columns: t.columns, Rows: t.rows})
	}
	return ddl, tables
}
