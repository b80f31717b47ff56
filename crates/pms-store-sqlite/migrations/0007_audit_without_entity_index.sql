-- The audit log loses its (entity_type, entity_id) index. Entity ids of clients are hashes, so
-- every audited create put its index entry on a random page of that index: of the ~78 pages a
-- group of 16 client creates wrote to the WAL (and synced), 22 were this index's, more than
-- any other B-tree's, for a lookup no request makes (only `Tx::audit_of`, which reads one
-- entity's trail, uses it; it now scans the log in id order). Measured on the benchmark's
-- create phase, alternating runs: 3053 / 3755, 3100 / 3652, 3035 / 3854 creates/s without the
-- index. An operator who looks entity trails up often on a large log can add it back by hand;
-- a later migration that wants it must say IF NOT EXISTS.
DROP INDEX IF EXISTS audit_log_entity_idx;
