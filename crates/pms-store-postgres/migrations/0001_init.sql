-- pms schema, PostgreSQL: the same tables, columns and rules as the SQLite schema of the same
-- version, so that every query answers identically on both backends.
--
-- * Text columns use COLLATE "C": comparisons and ORDER BY are byte-wise like SQLite's BINARY
--   collation whatever the database's default collation is, primary-key indexes serve the
--   byte-ordered keyset paging of `export`, and lower() folds ASCII letters only, exactly like
--   SQLite's built-in lower() (so the case-insensitive e-mail key treats the same addresses as
--   equal on both backends).
-- * Timestamps are TIMESTAMPTZ(3): the domain's millisecond UTC instants round-trip exactly and
--   sort in time order, as the TEXT wire format does in SQLite.
-- * JSON documents are TEXT, never jsonb, so their member order is kept byte for byte.
-- * Every key and unique index is named: the store maps unique violations to domain constraints
--   by these names.

CREATE TABLE policy_group (
    id          TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    descr       TEXT COLLATE "C" NOT NULL,
    is_active   BOOLEAN NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL,
    cr_by       TEXT COLLATE "C" NOT NULL,
    cr_dtimes   TIMESTAMPTZ(3) NOT NULL,
    upd_by      TEXT COLLATE "C",
    upd_dtimes  TIMESTAMPTZ(3),
    CONSTRAINT policy_group_pkey PRIMARY KEY (id),
    CONSTRAINT policy_group_name_key UNIQUE (name)
);

CREATE TABLE auth_policy (
    id               TEXT COLLATE "C" NOT NULL,
    policy_group_id  TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    descr            TEXT COLLATE "C" NOT NULL,
    policy_type      TEXT COLLATE "C" NOT NULL,
    version          TEXT COLLATE "C" NOT NULL,
    policies         TEXT COLLATE "C" NOT NULL,
    schema_url       TEXT COLLATE "C",
    is_active        BOOLEAN NOT NULL,
    valid_from       TIMESTAMPTZ(3) NOT NULL,
    valid_to         TIMESTAMPTZ(3) NOT NULL,
    cr_by            TEXT COLLATE "C" NOT NULL,
    cr_dtimes        TIMESTAMPTZ(3) NOT NULL,
    upd_by           TEXT COLLATE "C",
    upd_dtimes       TIMESTAMPTZ(3),
    CONSTRAINT auth_policy_pkey PRIMARY KEY (id),
    CONSTRAINT auth_policy_group_fkey FOREIGN KEY (policy_group_id) REFERENCES policy_group (id),
    CONSTRAINT auth_policy_group_name_key UNIQUE (policy_group_id, name)
);
CREATE INDEX auth_policy_name_idx ON auth_policy (name);

CREATE TABLE partner (
    id                 TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    address            TEXT COLLATE "C" NOT NULL,
    contact_no         TEXT COLLATE "C" NOT NULL,
    email_id           TEXT COLLATE "C" NOT NULL,
    partner_type_code  TEXT COLLATE "C" NOT NULL,
    policy_group_id    TEXT COLLATE "C",
    user_id            TEXT COLLATE "C" NOT NULL,
    approval_status    TEXT COLLATE "C" NOT NULL,
    is_active          BOOLEAN NOT NULL,
    lang_code          TEXT COLLATE "C" NOT NULL,
    cr_by              TEXT COLLATE "C" NOT NULL,
    cr_dtimes          TIMESTAMPTZ(3) NOT NULL,
    upd_by             TEXT COLLATE "C",
    upd_dtimes         TIMESTAMPTZ(3),
    CONSTRAINT partner_pkey PRIMARY KEY (id),
    CONSTRAINT partner_policy_group_fkey FOREIGN KEY (policy_group_id) REFERENCES policy_group (id)
);
-- lower() under "C" folds A-Z only, as SQLite's lower() does.
CREATE UNIQUE INDEX partner_email_ci_key ON partner (lower(email_id COLLATE "C"));
CREATE INDEX partner_user_idx ON partner (user_id);

CREATE TABLE partner_policy_request (
    id                 TEXT COLLATE "C" NOT NULL,
    partner_id         TEXT COLLATE "C" NOT NULL,
    policy_id          TEXT COLLATE "C" NOT NULL,
    request_detail     TEXT COLLATE "C" NOT NULL,
    status_code        TEXT COLLATE "C" NOT NULL,
    request_datetimes  TIMESTAMPTZ(3) NOT NULL,
    cr_by              TEXT COLLATE "C" NOT NULL,
    cr_dtimes          TIMESTAMPTZ(3) NOT NULL,
    upd_by             TEXT COLLATE "C",
    upd_dtimes         TIMESTAMPTZ(3),
    CONSTRAINT partner_policy_request_pkey PRIMARY KEY (id),
    CONSTRAINT partner_policy_request_partner_fkey FOREIGN KEY (partner_id) REFERENCES partner (id),
    CONSTRAINT partner_policy_request_policy_fkey FOREIGN KEY (policy_id) REFERENCES auth_policy (id)
);
-- At most one live (pending or approved) request per partner and policy, also under races.
CREATE UNIQUE INDEX partner_policy_request_live_key
    ON partner_policy_request (partner_id, policy_id)
    WHERE status_code IN ('InProgress', 'approved');
CREATE INDEX partner_policy_request_policy_idx ON partner_policy_request (policy_id);

CREATE TABLE audit_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY,
    at              TIMESTAMPTZ(3) NOT NULL,
    actor           TEXT COLLATE "C" NOT NULL,
    action          TEXT COLLATE "C" NOT NULL,
    entity_type     TEXT COLLATE "C" NOT NULL,
    entity_id       TEXT COLLATE "C" NOT NULL,
    before          TEXT COLLATE "C",
    after           TEXT COLLATE "C",
    correlation_id  TEXT COLLATE "C" NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
