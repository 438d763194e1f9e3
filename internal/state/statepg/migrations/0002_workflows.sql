-- wharf state, version 2: deployed workflows.
-- spec is the canonical spec JSON (staterun.EncodeSpec), spec_hash its sha256 hex.
-- A disabled workflow (enabled = false) left the catalog: not scheduled, history kept.
-- Fire times are NULL until set.

CREATE TABLE wharf_workflows (
    name         text        NOT NULL PRIMARY KEY,
    id           text        NOT NULL UNIQUE,
    spec         jsonb       NOT NULL,
    spec_hash    text        NOT NULL,
    enabled      boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    last_fire_at timestamptz,
    next_fire_at timestamptz
);
