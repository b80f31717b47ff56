-- pms schema, SQLite. Timestamps are TEXT in the wire format yyyy-MM-ddTHH:mm:ss.SSSZ (UTC),
-- which sorts in time order. JSON documents are TEXT with their member order kept.

CREATE TABLE policy_group (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    descr       TEXT NOT NULL,
    is_active   INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    cr_by       TEXT NOT NULL,
    cr_dtimes   TEXT NOT NULL,
    upd_by      TEXT,
    upd_dtimes  TEXT,
    CONSTRAINT policy_group_name_key UNIQUE (name)
);

CREATE TABLE auth_policy (
    id               TEXT PRIMARY KEY NOT NULL,
    policy_group_id  TEXT NOT NULL REFERENCES policy_group (id),
    name             TEXT NOT NULL,
    descr            TEXT NOT NULL,
    policy_type      TEXT NOT NULL,
    version          TEXT NOT NULL,
    policies         TEXT NOT NULL,
    schema_url       TEXT,
    is_active        INTEGER NOT NULL,
    valid_from       TEXT NOT NULL,
    valid_to         TEXT NOT NULL,
    cr_by            TEXT NOT NULL,
    cr_dtimes        TEXT NOT NULL,
    upd_by           TEXT,
    upd_dtimes       TEXT,
    CONSTRAINT auth_policy_group_name_key UNIQUE (policy_group_id, name)
);
CREATE INDEX auth_policy_name_idx ON auth_policy (name);

CREATE TABLE partner (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    address            TEXT NOT NULL,
    contact_no         TEXT NOT NULL,
    email_id           TEXT NOT NULL,
    partner_type_code  TEXT NOT NULL,
    policy_group_id    TEXT REFERENCES policy_group (id),
    user_id            TEXT NOT NULL,
    approval_status    TEXT NOT NULL,
    is_active          INTEGER NOT NULL,
    lang_code          TEXT NOT NULL,
    cr_by              TEXT NOT NULL,
    cr_dtimes          TEXT NOT NULL,
    upd_by             TEXT,
    upd_dtimes         TEXT
);
CREATE UNIQUE INDEX partner_email_ci_key ON partner (lower(email_id));
CREATE INDEX partner_user_idx ON partner (user_id);

CREATE TABLE partner_policy_request (
    id                 TEXT PRIMARY KEY NOT NULL,
    partner_id         TEXT NOT NULL REFERENCES partner (id),
    policy_id          TEXT NOT NULL REFERENCES auth_policy (id),
    request_detail     TEXT NOT NULL,
    status_code        TEXT NOT NULL,
    request_datetimes  TEXT NOT NULL,
    cr_by              TEXT NOT NULL,
    cr_dtimes          TEXT NOT NULL,
    upd_by             TEXT,
    upd_dtimes         TEXT
);
-- At most one live (pending or approved) request per partner and policy, also under races.
CREATE UNIQUE INDEX partner_policy_request_live_key
    ON partner_policy_request (partner_id, policy_id)
    WHERE status_code IN ('InProgress', 'approved');
CREATE INDEX partner_policy_request_policy_idx ON partner_policy_request (policy_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    before          TEXT,
    after           TEXT,
    correlation_id  TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
