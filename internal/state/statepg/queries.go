package statepg

import (
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/migration"
)

const runColumns = `id, workflow, run_trigger, status, started_at, finished_at, row_count, byte_count, file_count,
	watermark_from_kind, watermark_from, watermark_to_kind, watermark_to, full_load, error_message,
	schema_hash, schema, lake_prefix`

const deployedColumns = `name, id, spec, spec_hash, enabled, created_at, updated_at, last_fire_at, next_fire_at`

// queries is this backend's SQL (see state.Queries for each statement's
// arguments).
var queries = state.Queries{
	RunColumns: runColumns,
	InsertRun: `INSERT INTO wharf_runs (` + runColumns + `, job_id, worker_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
	// Under READ COMMITTED a concurrent change of the same run makes this
	// UPDATE wait, then re-check the status against the committed row.
	SetRunIf: `UPDATE wharf_runs SET status = $1, started_at = coalesce($2, started_at), worker_id = coalesce($3, worker_id),
			finished_at = $4, row_count = $5, byte_count = $6, file_count = $7, watermark_from_kind = $8,
			watermark_from = $9, watermark_to_kind = $10, watermark_to = $11, full_load = $12, error_message = $13,
			schema_hash = $14, schema = $15, lake_prefix = coalesce(nullif($20, ''), lake_prefix)
		WHERE id = $16 AND workflow = $17 AND status IN ($18, $19)`,
	RunStatus:         `SELECT status, workflow FROM wharf_runs WHERE id = $1`,
	RunByID:           `SELECT ` + runColumns + ` FROM wharf_runs WHERE id = $1`,
	StaleRuns:         `SELECT ` + runColumns + ` FROM wharf_runs WHERE status = 'running' ORDER BY started_at, id`,
	StaleRunsOf:       `SELECT ` + runColumns + ` FROM wharf_runs WHERE status = 'running' AND workflow = $1 ORDER BY started_at, id`,
	JobRuns:           `SELECT ` + runColumns + ` FROM wharf_runs WHERE job_id = $1 ORDER BY started_at DESC, id DESC`,
	LastRuns:          lastRuns(``),
	LastSucceededRuns: lastRuns(` WHERE status = 'succeeded'`),
	SelectRuns:        `SELECT ` + runColumns + ` FROM wharf_runs`,
	ListRunsOrder:     `ORDER BY started_at DESC, id DESC LIMIT $1`,
	RunJob:            `SELECT job_id, worker_id FROM wharf_runs WHERE id = $1`,
	OrphanRuns: `SELECT r.id, r.workflow, r.worker_id, coalesce(r.job_id, 0), r.started_at
		FROM wharf_runs r LEFT JOIN wharf_workers w ON w.id = r.worker_id
		WHERE r.status = 'running' AND r.worker_id IS NOT NULL
		  AND (w.id IS NULL OR w.stopped_at IS NOT NULL OR w.dead_at < $1)
		ORDER BY r.started_at, r.id`,

	RunExists: `SELECT 1 FROM wharf_runs WHERE id = $1`,
	Files: `SELECT run_id, workflow, path, row_count, byte_count, created_at
		FROM wharf_files WHERE run_id = $1 ORDER BY created_at, path`,
	InsertFile: `INSERT INTO wharf_files (run_id, workflow, path, row_count, byte_count, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,

	Watermark:  `SELECT cursor_column, kind, watermark FROM wharf_watermarks WHERE workflow = $1`,
	Watermarks: `SELECT workflow, kind, watermark FROM wharf_watermarks`,
	SetWatermark: `INSERT INTO wharf_watermarks (workflow, cursor_column, kind, watermark, run_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workflow) DO UPDATE SET cursor_column = excluded.cursor_column, kind = excluded.kind,
			watermark = excluded.watermark, run_id = excluded.run_id, updated_at = excluded.updated_at`,
	DeleteWatermark: `DELETE FROM wharf_watermarks WHERE workflow = $1`,

	DeployedAll: `SELECT ` + deployedColumns + ` FROM wharf_workflows ORDER BY name COLLATE "C"`,
	DeployedOne: `SELECT ` + deployedColumns + ` FROM wharf_workflows WHERE name = $1`,
	// Deploys take this lock in turn (it conflicts with itself), so no
	// other deploy changes the workflows after the basis is read.
	LockDeployed: `LOCK TABLE wharf_workflows IN SHARE ROW EXCLUSIVE MODE`,
	Basis:        `SELECT name, spec_hash, enabled FROM wharf_workflows`,
	InsertWorkflow: `INSERT INTO wharf_workflows (` + deployedColumns + `)
		VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8)`,
	UpdateWorkflow: `UPDATE wharf_workflows SET spec = $1, spec_hash = $2, enabled = true, updated_at = $3 WHERE name = $4`,
	DisableWorkflow: `UPDATE wharf_workflows
		SET enabled = false, updated_at = CASE WHEN enabled THEN $1 ELSE updated_at END WHERE name = $2`,
	DeleteWorkflow: `DELETE FROM wharf_workflows WHERE name = $1`,
	DeleteWorkflowRows: []string{
		`DELETE FROM wharf_chunks WHERE workflow = $1`,
		`DELETE FROM wharf_watermarks WHERE workflow = $1`,
		`DELETE FROM wharf_files WHERE workflow = $1`,
		`DELETE FROM wharf_runs WHERE workflow = $1`,
	},
	SetFireTimes: `UPDATE wharf_workflows SET last_fire_at = $1, next_fire_at = $2 WHERE name = $3`,
	DueWorkflows: `SELECT ` + deployedColumns + ` FROM wharf_workflows
		WHERE enabled AND next_fire_at <= $1 ORDER BY next_fire_at, name`,
	ClaimFire: `UPDATE wharf_workflows SET last_fire_at = $1, next_fire_at = $2
		WHERE name = $3 AND next_fire_at IS NOT DISTINCT FROM $4`,
	DeployedVersion: `SELECT count(*), count(*) FILTER (WHERE enabled), max(updated_at) FROM wharf_workflows`,

	Heartbeat: `INSERT INTO wharf_workers (id, host, pid, role, started_at, heartbeat_at, dead_at, stopped_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, dead_at = excluded.dead_at, stopped_at = NULL`,
	WorkerStopped: `UPDATE wharf_workers SET stopped_at = $1 WHERE id = $2`,
	Workers: `SELECT id, host, pid, role, started_at, heartbeat_at, stopped_at, dead_at
		FROM wharf_workers ORDER BY heartbeat_at DESC, id`,
	ForgetWorkers: `DELETE FROM wharf_workers w
		WHERE w.heartbeat_at < $1
		  AND NOT EXISTS (SELECT 1 FROM wharf_runs r WHERE r.worker_id = w.id AND r.status = 'running')`,

	FreeDeadLeases: `DELETE FROM wharf_leases l WHERE NOT EXISTS (
		SELECT 1 FROM wharf_workers w WHERE w.id = l.worker_id AND w.stopped_at IS NULL AND w.dead_at >= $1)`,
	CountLeases: `SELECT count(*) FILTER (WHERE holder = $1), count(*) FROM wharf_leases WHERE lease_key = $2`,
	InsertLease: `INSERT INTO wharf_leases (lease_key, slot, holder, worker_id, acquired_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
	ReleaseLease: `DELETE FROM wharf_leases WHERE lease_key = $1 AND holder = $2`,

	InsertChunk: `INSERT INTO wharf_chunks (run_id, chunk, workflow, status, updated_at) VALUES ($1, $2, $3, 'pending', $4)`,
	ClaimChunk: `UPDATE wharf_chunks SET status = 'running', worker_id = $1, attempts = attempts + 1, updated_at = $2
		WHERE run_id = $3 AND chunk = $4
		  AND (status = 'pending' OR status = 'running' AND NOT EXISTS (SELECT 1 FROM wharf_workers w
			WHERE w.id = wharf_chunks.worker_id AND w.stopped_at IS NULL AND w.dead_at >= $5))
		  AND EXISTS (SELECT 1 FROM wharf_runs r WHERE r.id = wharf_chunks.run_id AND r.status = 'running')`,
	ChunkAttempts: `SELECT attempts FROM wharf_chunks WHERE run_id = $1 AND chunk = $2`,
	FinishChunk: `UPDATE wharf_chunks SET status = 'done', row_count = $1, byte_count = $2, files = $3, error_message = '', updated_at = $4
		WHERE run_id = $5 AND chunk = $6 AND status = 'running' AND worker_id = $7
		  AND EXISTS (SELECT 1 FROM wharf_runs r WHERE r.id = wharf_chunks.run_id AND r.status = 'running')`,
	FailChunk: `UPDATE wharf_chunks SET status = 'pending', error_message = $1, updated_at = $2
		WHERE run_id = $3 AND chunk = $4 AND status = 'running' AND worker_id = $5`,
	Chunks: `SELECT chunk, status, worker_id, attempts, row_count, byte_count, files, error_message, updated_at
		FROM wharf_chunks WHERE run_id = $1 ORDER BY chunk`,

	// A transaction-scoped advisory lock keyed by the current schema:
	// concurrent opens (on any machine) migrate one after the other.
	LockMigrations: `SELECT pg_advisory_xact_lock(hashtextextended('` + migration.Table + `:' || coalesce(current_schema(), ''), 0))`,
	CreateMigrations: `CREATE TABLE IF NOT EXISTS ` + migration.Table + ` (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`,
	AppliedMigrations: `SELECT version FROM ` + migration.Table + ` ORDER BY version`,
	RecordMigration:   `INSERT INTO ` + migration.Table + ` (version, name, applied_at) VALUES ($1, $2, $3)`,
}

// lastRuns selects each workflow's newest run among those where selects.
func lastRuns(where string) string {
	return `SELECT ` + runColumns + ` FROM (SELECT *, row_number() OVER (
		PARTITION BY workflow ORDER BY started_at DESC, id DESC) AS rn FROM wharf_runs` + where + `) t WHERE rn = 1`
}
