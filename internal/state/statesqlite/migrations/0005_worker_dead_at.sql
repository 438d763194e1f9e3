-- wharf state, version 5: each process's own dead-after.
-- dead_at is heartbeat_at plus the process's own --dead-after, written with
-- every heartbeat: a process is alive while it has not stopped and dead_at
-- is not past (state.Worker.Alive). Rows from before get the default 45s.

ALTER TABLE wharf_workers ADD COLUMN dead_at INTEGER NOT NULL DEFAULT 0;
UPDATE wharf_workers SET dead_at = heartbeat_at + 45000000;
