-- wharf state, version 1: runs, the files they landed, and watermarks.
-- Tables live in the connection's current schema.
-- Watermarks are typed: a coltype kind name plus the canonical text.

CREATE TABLE wharf_runs (
    id                  text        NOT NULL PRIMARY KEY,
    workflow            text        NOT NULL,
    run_trigger         text        NOT NULL CHECK (run_trigger IN ('manual', 'schedule', 'retry')),
    status              text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    row_count           bigint      NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    byte_count          bigint      NOT NULL DEFAULT 0 CHECK (byte_count >= 0),
    file_count          integer     NOT NULL DEFAULT 0 CHECK (file_count >= 0),
    watermark_from_kind text,
    watermark_from      text,
    watermark_to_kind   text,
    watermark_to        text,
    full_load           boolean     NOT NULL DEFAULT false,
    error_message       text        NOT NULL DEFAULT '',
    CHECK ((watermark_from_kind IS NULL) = (watermark_from IS NULL)),
    CHECK ((watermark_to_kind IS NULL) = (watermark_to IS NULL))
);

CREATE INDEX wharf_runs_started_idx ON wharf_runs (started_at DESC, id DESC);
CREATE INDEX wharf_runs_workflow_started_idx ON wharf_runs (workflow, started_at DESC, id DESC);
CREATE INDEX wharf_runs_running_idx ON wharf_runs (workflow, started_at) WHERE status = 'running';

CREATE TABLE wharf_files (
    run_id     text        NOT NULL REFERENCES wharf_runs (id) ON DELETE CASCADE,
    workflow   text        NOT NULL,
    path       text        NOT NULL,
    row_count  bigint      NOT NULL CHECK (row_count >= 0),
    byte_count bigint      NOT NULL CHECK (byte_count >= 0),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, path)
);

CREATE INDEX wharf_files_workflow_idx ON wharf_files (workflow);

CREATE TABLE wharf_watermarks (
    workflow      text        NOT NULL PRIMARY KEY,
    cursor_column text        NOT NULL,
    kind          text        NOT NULL,
    watermark     text        NOT NULL,
    run_id        text        REFERENCES wharf_runs (id) ON DELETE SET NULL,
    updated_at    timestamptz NOT NULL
);
