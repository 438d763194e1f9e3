-- wharf state, version 3: the engine's bookkeeping.
-- wharf_runs gains the River job that runs a run and the process (worker)
-- running it; wharf_workers holds one heartbeat row per wharf serve/worker
-- process; wharf_leases holds the per-connection concurrency slots, each
-- held by one River job (holder) on one worker.

ALTER TABLE wharf_runs ADD COLUMN job_id bigint;
ALTER TABLE wharf_runs ADD COLUMN worker_id text;

CREATE INDEX wharf_runs_job_idx ON wharf_runs (job_id) WHERE job_id IS NOT NULL;

CREATE TABLE wharf_workers (
    id           text        NOT NULL PRIMARY KEY,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    role         text        NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL,
    stopped_at   timestamptz
);

CREATE TABLE wharf_leases (
    lease_key   text        NOT NULL,
    slot        integer     NOT NULL CHECK (slot >= 0),
    holder      text        NOT NULL,
    worker_id   text        NOT NULL,
    acquired_at timestamptz NOT NULL,
    PRIMARY KEY (lease_key, slot)
);

CREATE UNIQUE INDEX wharf_leases_run_idx ON wharf_leases (lease_key, holder);
