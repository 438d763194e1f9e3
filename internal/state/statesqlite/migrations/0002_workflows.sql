-- wharf state, version 2: deployed workflows.
-- spec is the canonical spec JSON (staterun.EncodeSpec), spec_hash its sha256 hex.
-- A disabled workflow (enabled = 0) left the catalog: not scheduled, history kept.
-- Times are INTEGER microseconds since the Unix epoch (UTC); fire times are NULL until set.

CREATE TABLE wharf_workflows (
    name         TEXT    NOT NULL PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    spec         TEXT    NOT NULL,
    spec_hash    TEXT    NOT NULL,
    enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_fire_at INTEGER,
    next_fire_at INTEGER
) STRICT;
