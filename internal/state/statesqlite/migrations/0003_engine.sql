-- wharf state, version 3: the engine's bookkeeping.
-- wharf_runs gains the River job that runs a run and the process (worker)
-- running it; wharf_workers holds one heartbeat row per wharf serve/worker
-- process; wharf_leases holds the per-connection concurrency slots, each
-- held by one River job (holder) on one worker.
-- Times are INTEGER microseconds since the Unix epoch (UTC).

ALTER TABLE wharf_runs ADD COLUMN job_id INTEGER;
ALTER TABLE wharf_runs ADD COLUMN worker_id TEXT;

CREATE INDEX wharf_runs_job_idx ON wharf_runs (job_id) WHERE job_id IS NOT NULL;

CREATE TABLE wharf_workers (
    id           TEXT    NOT NULL PRIMARY KEY,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    role         TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER
) STRICT;

CREATE TABLE wharf_leases (
    lease_key   TEXT    NOT NULL,
    slot        INTEGER NOT NULL CHECK (slot >= 0),
    holder      TEXT    NOT NULL,
    worker_id   TEXT    NOT NULL,
    acquired_at INTEGER NOT NULL,
    PRIMARY KEY (lease_key, slot)
) STRICT;

CREATE UNIQUE INDEX wharf_leases_run_idx ON wharf_leases (lease_key, holder);
