package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"time"
)

// The canonical spec JSON: what the state store keeps of a deployed
// workflow and what its hash (state.HashSpec) is computed from. Field order is fixed by
// these structs, every field is always present (no omitempty), durations
// are Go duration strings ("15m0s"), and where the workflow was written in
// the catalog file (Pos) is left out, so moving an entry in the file
// changes nothing. Adding a field to Workflow, Connection, Lake or
// Schedule means adding it here (TestSpecCoversCatalog fails until then).
type (
	specDoc struct {
		Workflow   specWorkflow   `json:"workflow"`
		Connection specConnection `json:"connection"`
		Lake       specLake       `json:"lake"`
		// Alerts is left out when the catalog has none, so adding it did
		// not change the hash of workflows deployed before.
		Alerts *specAlerts `json:"alerts,omitempty"`
	}
	specAlerts struct {
		Webhook string   `json:"webhook"`
		On      []string `json:"on"`
	}
	specWorkflow struct {
		Name        string `json:"name"`
		Connection  string `json:"connection"`
		Table       string `json:"table"`
		Lake        string `json:"lake"`
		Blueprint   string `json:"blueprint"`
		Cursor      string `json:"cursor"`
		CursorAuto  bool   `json:"cursor_auto"`
		Lookback    string `json:"lookback"`
		Settle      string `json:"settle,omitempty"`   // omitted when 0: specs deployed before settle keep their hash
		Parallel    int    `json:"parallel,omitempty"` // omitted when unset: specs deployed before it keep their hash
		Attempts    int    `json:"attempts,omitempty"` // likewise
		PartitionBy string `json:"partition_by"`
		// omitted when unset: specs deployed before it keep their hash
		IngestionColumn string       `json:"ingestion_column,omitempty"`
		Namespace       string       `json:"namespace,omitempty"` // likewise
		Format          string       `json:"format"`
		FileCountHint   int          `json:"file_count_hint"`
		Schedule        specSchedule `json:"schedule"`
		// Column choices are left out when unset (omitempty, unlike the
		// fields above), so adding them did not change the hash of
		// workflows deployed before they existed.
		Columns        []string          `json:"columns,omitempty"`
		ExcludeColumns []string          `json:"exclude_columns,omitempty"`
		Cast           map[string]string `json:"cast,omitempty"`
		Mask           map[string]string `json:"mask,omitempty"`
		OnSchemaChange string            `json:"on_schema_change,omitempty"`
		Defaulted      []string          `json:"defaulted_columns,omitempty"`
		MaskSalt       string            `json:"mask_salt,omitempty"`
		FreshnessSLA   string            `json:"freshness_sla,omitempty"` // omitted when 0
	}
	specSchedule struct {
		Kind     string `json:"kind"`
		Expr     string `json:"expr"`
		Dialect  string `json:"dialect"`
		Every    string `json:"every"`
		TimeZone string `json:"timezone"`
	}
	specConnection struct {
		Name             string `json:"name"`
		Engine           string `json:"engine"`
		Secret           string `json:"secret"`
		StatementTimeout string `json:"statement_timeout,omitempty"`
		MaxParallel      int    `json:"max_parallel,omitempty"` // omitted when unset: specs deployed before it keep their hash
	}
	specLake struct {
		Name         string `json:"name"`
		URL          string `json:"url"`
		Compression  string `json:"compression"`
		RowGroupRows int    `json:"row_group_rows"`
		FileBytes    int64  `json:"file_bytes"`
		Secret       string `json:"secret"`
		// Left out for parquet lakes, so that their specs (and hashes)
		// stay what they were before lakes had a format.
		Format               string `json:"format,omitempty"`
		IcebergCatalog       string `json:"iceberg_catalog,omitempty"`
		IcebergCatalogSecret string `json:"iceberg_catalog_secret,omitempty"`
	}
)

// EncodeSpec returns the canonical JSON of a resolved workflow: what
// state.Deployed.Spec holds.
func EncodeSpec(r Resolved) []byte {
	w, s := r.Workflow, r.Workflow.Schedule
	doc := specDoc{
		Workflow: specWorkflow{
			Name: w.Name, Connection: w.Connection, Table: w.Table, Lake: w.Lake, Blueprint: w.Blueprint,
			Cursor: w.Cursor, CursorAuto: w.CursorAuto, Lookback: w.Lookback.String(), Settle: settleText(w.Settle),
			Parallel: w.Parallel, Attempts: w.Attempts, PartitionBy: w.PartitionBy, Namespace: w.Namespace, IngestionColumn: w.IngestionColumn, Format: w.Format, FileCountHint: w.FileCountHint,
			Schedule: specSchedule{Kind: string(s.Kind), Expr: s.Expr, Dialect: s.Dialect,
				Every: s.Every.String(), TimeZone: s.TimeZone},
			Columns: w.Choices.Columns, ExcludeColumns: w.Choices.ExcludeColumns, Cast: w.Choices.Cast,
			Mask: w.Choices.Mask, OnSchemaChange: w.Choices.OnSchemaChange, Defaulted: w.Choices.Defaulted,
			MaskSalt: w.Choices.MaskSalt, FreshnessSLA: settleText(w.FreshnessSLA),
		},
		Connection: specConnection{Name: r.Connection.Name, Engine: r.Connection.Engine, Secret: r.Connection.Secret,
			StatementTimeout: settleText(r.Connection.StatementTimeout), MaxParallel: r.Connection.MaxParallel},
		Lake: specLake{Name: r.Lake.Name, URL: r.Lake.URL, Compression: r.Lake.Compression,
			RowGroupRows: r.Lake.RowGroupRows, FileBytes: r.Lake.FileBytes, Secret: r.Lake.Secret,
			IcebergCatalog: r.Lake.IcebergCatalog, IcebergCatalogSecret: r.Lake.IcebergCatalogSecret},
	}
	if r.Lake.Format != LakeParquet {
		doc.Lake.Format = r.Lake.Format
	}
	if r.Alerts.Webhook != "" {
		doc.Alerts = &specAlerts{Webhook: r.Alerts.Webhook, On: r.Alerts.On}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		// Only strings, numbers and booleans: encoding cannot fail.
		panic(fmt.Sprintf("encode spec of workflow %s: %v", w.Name, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// DecodeSpec is the inverse of EncodeSpec. Unknown fields are an error
// (a newer wharf deployed the workflow: running it without understanding
// every setting could land the wrong thing); what names the value in
// messages (e.g. "deployed workflow orders").
func DecodeSpec(what string, data []byte) (Resolved, error) {
	var doc specDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: %w (deployed by a newer wharf?)", what, err)
	}
	lookback, err := parseDuration(doc.Workflow.Lookback)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: workflow.lookback: %w", what, err)
	}
	settle, err := parseDuration(doc.Workflow.Settle)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: workflow.settle: %w", what, err)
	}
	sla, err := parseDuration(doc.Workflow.FreshnessSLA)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: workflow.freshness_sla: %w", what, err)
	}
	every, err := parseDuration(doc.Workflow.Schedule.Every)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: workflow.schedule.every: %w", what, err)
	}
	stmtTimeout, err := parseDuration(doc.Connection.StatementTimeout)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: spec: connection.statement_timeout: %w", what, err)
	}
	w, s := doc.Workflow, doc.Workflow.Schedule
	var alerts Alerts
	if doc.Alerts != nil {
		alerts = Alerts{Webhook: doc.Alerts.Webhook, On: doc.Alerts.On}
	}
	return Resolved{
		Alerts: alerts,
		Workflow: Workflow{
			Name: w.Name, Connection: w.Connection, Table: w.Table, Lake: w.Lake, Blueprint: w.Blueprint,
			Cursor: w.Cursor, CursorAuto: w.CursorAuto, Lookback: lookback, Settle: settle, Parallel: w.Parallel, Attempts: w.Attempts, PartitionBy: w.PartitionBy, Namespace: w.Namespace,
			IngestionColumn: w.IngestionColumn, Format: w.Format, FileCountHint: w.FileCountHint, FreshnessSLA: sla,
			Schedule: Schedule{Kind: ScheduleKind(s.Kind), Expr: s.Expr, Dialect: s.Dialect,
				Every: every, TimeZone: s.TimeZone},
			Choices: ColumnChoices{Columns: w.Columns, ExcludeColumns: w.ExcludeColumns, Cast: w.Cast,
				Mask: w.Mask, OnSchemaChange: w.OnSchemaChange, Defaulted: w.Defaulted, MaskSalt: w.MaskSalt},
		},
		Connection: Connection{Name: doc.Connection.Name, Engine: doc.Connection.Engine, Secret: doc.Connection.Secret,
			StatementTimeout: stmtTimeout, MaxParallel: doc.Connection.MaxParallel},
		Lake: Lake{Name: doc.Lake.Name, URL: doc.Lake.URL, Compression: doc.Lake.Compression,
			RowGroupRows: doc.Lake.RowGroupRows, FileBytes: doc.Lake.FileBytes, Secret: doc.Lake.Secret,
			Format: cmp.Or(doc.Lake.Format, LakeParquet), IcebergCatalog: doc.Lake.IcebergCatalog,
			IcebergCatalogSecret: doc.Lake.IcebergCatalogSecret},
	}, nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// settleText is a settle (freshness SLA or statement timeout) duration as the spec keeps
// it: "" for none.
func settleText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
