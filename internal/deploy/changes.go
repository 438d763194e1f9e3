package deploy

import (
	"cmp"
	"maps"
	"slices"

	"github.com/wharf-data/wharf/internal/catalog"
)

// field is one setting of a deployed workflow, named as users write it in
// the catalog, with how to tell whether it changed.
type field struct {
	name    string
	changed func(a, b *catalog.Resolved) bool
}

// fields lists every setting in the order plans print them. Names follow
// the wharf catalog keys; connection.* and lake.* are settings of the
// workflow's connection and lake (a renamed connection or lake is
// "connection" or "lake").
var fields = []field{
	{"connection", func(a, b *catalog.Resolved) bool { return a.Workflow.Connection != b.Workflow.Connection }},
	{"table", func(a, b *catalog.Resolved) bool { return !sameTable(a.Workflow.Table, b.Workflow.Table) }},
	{"cursor", func(a, b *catalog.Resolved) bool { return a.Workflow.Cursor != b.Workflow.Cursor }},
	{"defaults.cursor", func(a, b *catalog.Resolved) bool {
		// Whether the cursor came from defaults (used only where the table
		// has the column) or was written on the workflow.
		return a.Workflow.Cursor == b.Workflow.Cursor && a.Workflow.CursorAuto != b.Workflow.CursorAuto
	}},
	{"lookback", func(a, b *catalog.Resolved) bool { return a.Workflow.Lookback != b.Workflow.Lookback }},
	{"settle", func(a, b *catalog.Resolved) bool { return a.Workflow.Settle != b.Workflow.Settle }},
	{"schedule", func(a, b *catalog.Resolved) bool {
		x, y := a.Workflow.Schedule, b.Workflow.Schedule
		return x.Kind != y.Kind || x.Expr != y.Expr || x.Dialect != y.Dialect || x.Every != y.Every
	}},
	{"timezone", func(a, b *catalog.Resolved) bool {
		return a.Workflow.Schedule.TimeZone != b.Workflow.Schedule.TimeZone
	}},
	{"partition_by", func(a, b *catalog.Resolved) bool { return a.Workflow.PartitionBy != b.Workflow.PartitionBy }},
	{"ingestion_column", func(a, b *catalog.Resolved) bool { return a.Workflow.IngestionColumn != b.Workflow.IngestionColumn }},
	{"namespace", func(a, b *catalog.Resolved) bool { return a.Workflow.Namespace != b.Workflow.Namespace }},
	{"blueprint", func(a, b *catalog.Resolved) bool { return a.Workflow.Blueprint != b.Workflow.Blueprint }},
	{"format", func(a, b *catalog.Resolved) bool { return a.Workflow.Format != b.Workflow.Format }},
	{"file_count", func(a, b *catalog.Resolved) bool { return a.Workflow.FileCountHint != b.Workflow.FileCountHint }},
	{"parallel", func(a, b *catalog.Resolved) bool { return a.Workflow.Parallel != b.Workflow.Parallel }},
	{"attempts", func(a, b *catalog.Resolved) bool { return a.Workflow.Attempts != b.Workflow.Attempts }},
	{"columns", func(a, b *catalog.Resolved) bool {
		return !slices.Equal(a.Workflow.Choices.Columns, b.Workflow.Choices.Columns)
	}},
	{"exclude_columns", func(a, b *catalog.Resolved) bool {
		return !slices.Equal(a.Workflow.Choices.ExcludeColumns, b.Workflow.Choices.ExcludeColumns)
	}},
	{"cast", func(a, b *catalog.Resolved) bool {
		return !maps.Equal(a.Workflow.Choices.Cast, b.Workflow.Choices.Cast)
	}},
	{"mask", func(a, b *catalog.Resolved) bool {
		return !maps.Equal(a.Workflow.Choices.Mask, b.Workflow.Choices.Mask)
	}},
	{"on_schema_change", func(a, b *catalog.Resolved) bool {
		return a.Workflow.Choices.OnSchemaChange != b.Workflow.Choices.OnSchemaChange
	}},
	{"defaults.columns", func(a, b *catalog.Resolved) bool {
		// Which choices came from defaults (applied where the table has the column).
		return !slices.Equal(a.Workflow.Choices.Defaulted, b.Workflow.Choices.Defaulted)
	}},
	{"freshness_sla", func(a, b *catalog.Resolved) bool { return a.Workflow.FreshnessSLA != b.Workflow.FreshnessSLA }},
	{"alerts", func(a, b *catalog.Resolved) bool {
		return a.Alerts.Webhook != b.Alerts.Webhook || !slices.Equal(a.Alerts.On, b.Alerts.On)
	}},
	{"mask_salt", func(a, b *catalog.Resolved) bool { return a.Workflow.Choices.MaskSalt != b.Workflow.Choices.MaskSalt }},
	{"connection.engine", func(a, b *catalog.Resolved) bool { return a.Connection.Engine != b.Connection.Engine }},
	{"connection.secret", func(a, b *catalog.Resolved) bool { return a.Connection.Secret != b.Connection.Secret }},
	{"connection.statement_timeout", func(a, b *catalog.Resolved) bool {
		return a.Connection.StatementTimeout != b.Connection.StatementTimeout
	}},
	{"connection.max_parallel", func(a, b *catalog.Resolved) bool { return a.Connection.MaxParallel != b.Connection.MaxParallel }},
	{"lake", func(a, b *catalog.Resolved) bool { return a.Workflow.Lake != b.Workflow.Lake }},
	{"lake.url", func(a, b *catalog.Resolved) bool { return a.Lake.URL != b.Lake.URL }},
	{"lake.compression", func(a, b *catalog.Resolved) bool { return a.Lake.Compression != b.Lake.Compression }},
	{"lake.row_group_rows", func(a, b *catalog.Resolved) bool { return a.Lake.RowGroupRows != b.Lake.RowGroupRows }},
	{"lake.file_size", func(a, b *catalog.Resolved) bool { return a.Lake.FileBytes != b.Lake.FileBytes }},
	{"lake.secret", func(a, b *catalog.Resolved) bool { return a.Lake.Secret != b.Lake.Secret }},
	{"lake.format", func(a, b *catalog.Resolved) bool { return lakeFormat(a) != lakeFormat(b) }},
	{"lake.iceberg_catalog", func(a, b *catalog.Resolved) bool { return a.Lake.IcebergCatalog != b.Lake.IcebergCatalog }},
	{"lake.iceberg_catalog_secret", func(a, b *catalog.Resolved) bool {
		return a.Lake.IcebergCatalogSecret != b.Lake.IcebergCatalogSecret
	}},
}

// Changes names the settings that differ between a deployed spec and the
// catalog's, in a fixed order: connection, table, cursor, defaults.cursor,
// lookback, schedule, timezone, partition_by, blueprint, format,
// file_count, parallel, attempts, columns, exclude_columns, cast, mask, on_schema_change,
// defaults.columns, freshness_sla, alerts, mask_salt, connection.engine, connection.secret,
// connection.statement_timeout, connection.max_parallel, lake, lake.url, lake.compression, lake.row_group_rows, lake.file_size,
// lake.secret, lake.format,
// lake.iceberg_catalog, lake.iceberg_catalog_secret. The name of the
// workflow's connection or lake entry ("connection", "lake") is compared
// through the workflow's reference; where it sits in the file is not.
func Changes(old, new catalog.Resolved) []string {
	var out []string
	for _, f := range fields {
		if f.changed(&old, &new) {
			out = append(out, f.name)
		}
	}
	return out
}

// ResetsWatermark reports whether going from old to new resets the
// watermark: the cursor column or the source table changed, so the
// committed watermark no longer bounds the same rows.
func ResetsWatermark(old, new catalog.Resolved) bool {
	return old.Workflow.Cursor != new.Workflow.Cursor || !sameTable(old.Workflow.Table, new.Workflow.Table)
}

// sameTable reports whether two catalog table values name one table as
// written: public.orders and "public"."orders" do; orders and public.orders
// are compared as written (which schema a bare name means is the source's).
func sameTable(a, b string) bool { return canonicalTable(a) == canonicalTable(b) }

// lakeFormat is the lake's format, "" (a spec written before lakes had a
// format, or a lake built in code) being parquet.
func lakeFormat(r *catalog.Resolved) string { return cmp.Or(r.Lake.Format, catalog.LakeParquet) }
