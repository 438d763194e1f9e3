-- wharf state, version 7: the chunks of runs read in parallel streams.
-- A run with parallel > 1 is cut into chunks; each is worked by one stream
-- at a time, on any process of the fleet (its River chunk job, or the
-- run's own streams). status is pending, running (on worker_id) or done
-- (with its files as JSON: [{"path", "rows", "bytes"}]); attempts counts
-- the claims. The run commits once every chunk is done, with all their
-- files.

CREATE TABLE wharf_chunks (
    run_id        text        NOT NULL,
    chunk         integer     NOT NULL CHECK (chunk >= 0),
    workflow      text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    worker_id     text,
    attempts      integer     NOT NULL DEFAULT 0,
    row_count     bigint      NOT NULL DEFAULT 0,
    byte_count    bigint      NOT NULL DEFAULT 0,
    files         text        NOT NULL DEFAULT '[]',
    error_message text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (run_id, chunk)
);

CREATE INDEX wharf_chunks_workflow_idx ON wharf_chunks (workflow);
