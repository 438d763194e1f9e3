-- wharf state, version 7: the chunks of runs read in parallel streams.
-- A run with parallel > 1 is cut into chunks; each is worked by one stream
-- at a time, on any process of the fleet (its River chunk job, or the
-- run's own streams). status is pending, running (on worker_id) or done
-- (with its files as JSON: [{"path", "rows", "bytes"}]); attempts counts
-- the claims. The run commits once every chunk is done, with all their
-- files. Times are INTEGER microseconds since the Unix epoch (UTC).

CREATE TABLE wharf_chunks (
    run_id        TEXT    NOT NULL,
    chunk         INTEGER NOT NULL CHECK (chunk >= 0),
    workflow      TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    worker_id     TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    row_count     INTEGER NOT NULL DEFAULT 0,
    byte_count    INTEGER NOT NULL DEFAULT 0,
    files         TEXT    NOT NULL DEFAULT '[]',
    error_message TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (run_id, chunk)
) STRICT;

CREATE INDEX wharf_chunks_workflow_idx ON wharf_chunks (workflow);
