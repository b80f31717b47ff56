-- OIDC clients (api-oidc-clients.md §2). Lists and the name map are JSON text (member order
-- kept), never comma-joined. No foreign keys to partner or policy: clients migrated from MOSIP
-- may refer to rows that are gone, and reads cope with that (policyName "", orgName null).
CREATE TABLE oidc_client (
    id                   TEXT COLLATE "C" NOT NULL,
    name                 TEXT COLLATE "C" NOT NULL,
    name_lang_map        TEXT COLLATE "C" NOT NULL,
    rp_id                TEXT COLLATE "C" NOT NULL,
    policy_id            TEXT COLLATE "C" NOT NULL,
    logo_uri             TEXT COLLATE "C" NOT NULL,
    redirect_uris        TEXT COLLATE "C" NOT NULL,
    public_key           TEXT COLLATE "C" NOT NULL,
    claims               TEXT COLLATE "C" NOT NULL,
    acr_values           TEXT COLLATE "C" NOT NULL,
    grant_types          TEXT COLLATE "C" NOT NULL,
    client_auth_methods  TEXT COLLATE "C" NOT NULL,
    status               TEXT COLLATE "C" NOT NULL,
    cr_by                TEXT COLLATE "C" NOT NULL,
    cr_dtimes            TIMESTAMPTZ(3) NOT NULL,
    upd_by               TEXT COLLATE "C",
    upd_dtimes           TIMESTAMPTZ(3),
    CONSTRAINT oidc_client_pkey PRIMARY KEY (id)
);
CREATE INDEX oidc_client_rp_idx ON oidc_client (rp_id);
-- The list's default order.
CREATE INDEX oidc_client_created_idx ON oidc_client (cr_dtimes DESC, id);
