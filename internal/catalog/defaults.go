package catalog

import "strconv"

// Built-in defaults.
const (
	DefaultCompression  = "zstd"
	DefaultRowGroupRows = 262144
	DefaultFileSize     = "256MiB"
	DefaultBlueprint    = "landing"
	DefaultFormat       = "parquet"
	// DefaultIngestionColumn is the column the landing blueprint adds
	// (ingestion_column renames it).
	DefaultIngestionColumn = "ingestion_timestamp"
)

// withDefaults fills in every value the file left out: lake options, and
// for each workflow the catalog's defaults section, then the single
// connection or lake when only one is defined, then the built-in defaults.
// A value taken from the defaults section keeps that section's path and
// position, so a bad default is reported once, where it is written.
// Nothing is checked here: validate does that.
func (doc *document) withDefaults() {
	for _, l := range doc.lakes {
		fill(&l.compression, DefaultCompression)
		fill(&l.rowGroupRows, strconv.Itoa(DefaultRowGroupRows))
		fill(&l.fileSize, DefaultFileSize)
		fill(&l.format, LakeParquet)
	}
	def := doc.defaults
	for _, w := range doc.workflows {
		inherit(&w.connection, def.connection)
		if !w.connection.Set && len(doc.connections) == 1 {
			fill(&w.connection, doc.connections[0].name.Value)
		}
		inherit(&w.lake, def.lake)
		if !w.lake.Set && len(doc.lakes) == 1 {
			fill(&w.lake, doc.lakes[0].name.Value)
		}
		if !w.cursor.Set && def.cursor.Set {
			inherit(&w.cursor, def.cursor)
			// A cursor from defaults applies where the table has the column.
			w.cursorAuto = w.cursor.Value != ""
		}
		// A default lookback only applies to incremental workflows.
		if w.cursor.Value != "" {
			inherit(&w.lookback, def.lookback)
			inherit(&w.settle, def.settle)
		}
		inherit(&w.timezone, def.timezone)
		inherit(&w.ingestionColumn, def.ingestionColumn)
		inherit(&w.freshnessSLA, def.freshnessSLA)
		inherit(&w.parallel, def.parallel)
		inherit(&w.attempts, def.attempts)
		inherit(&w.schedule, def.schedule)
		fill(&w.schedule, string(OnDemand))
		fill(&w.blueprint, DefaultBlueprint)
		fill(&w.format, DefaultFormat)
	}
}

// fill sets an unset value to a built-in default.
func fill(f *field, value string) {
	if !f.Set && !f.Bad {
		f.Value, f.Set = value, true
	}
}

// inherit sets an unset value to the catalog's default, path and position
// included.
func inherit(f *field, def field) {
	if !f.Set && !f.Bad && (def.Set || def.Bad) {
		*f = def
	}
}
