-- The transactional outbox (downstream.md §5) and the client version that orders eSignet
-- deliveries. Timestamps are TEXT in the wire format (sorting in time order); `event` is JSON
-- text with its member order kept.
ALTER TABLE oidc_client ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE outbox (
    -- AUTOINCREMENT: ids never reused, also after purges; a restored row's explicit id moves
    -- the sequence on, so later rows continue above it.
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type   TEXT NOT NULL,
    aggregate_id     TEXT NOT NULL,
    channel          TEXT NOT NULL,
    operation        TEXT NOT NULL,
    client_version   INTEGER,
    event            TEXT,
    -- No foreign key: a delivered row may be purged while a failed row that depended on it is
    -- kept; a missing dependency counts as delivered.
    depends_on       INTEGER,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_attempt_at  TEXT,
    lease_until      TEXT,
    delivered_at     TEXT,
    created_at       TEXT NOT NULL,
    last_error       TEXT
);
-- The rows still to deliver, oldest first: what claim_outbox scans, however many delivered rows
-- the table holds.
CREATE INDEX outbox_open_idx ON outbox (id)
    WHERE state IN ('PENDING', 'IN_FLIGHT', 'FAILED');
-- "No earlier undelivered row of the same aggregate and channel" (§5.3 rule 2).
CREATE INDEX outbox_open_aggregate_idx ON outbox (aggregate_type, aggregate_id, channel, id)
    WHERE state IN ('PENDING', 'IN_FLIGHT', 'FAILED');
-- The rows of an aggregate (delivery status of a client, supersede).
CREATE INDEX outbox_aggregate_idx ON outbox (aggregate_type, aggregate_id, channel, id);
-- Retention: the finished rows by age.
CREATE INDEX outbox_done_idx ON outbox (created_at)
    WHERE state IN ('DELIVERED', 'SUPERSEDED');
