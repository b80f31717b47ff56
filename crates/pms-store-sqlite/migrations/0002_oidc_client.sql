-- OIDC clients (api-oidc-clients.md §2). Lists and the name map are JSON text, never
-- comma-joined. No foreign keys to partner or policy: clients migrated from MOSIP may refer to
-- rows that are gone, and reads cope with that (policyName "", orgName null).
CREATE TABLE oidc_client (
    id                   TEXT PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL,
    name_lang_map        TEXT NOT NULL,
    rp_id                TEXT NOT NULL,
    policy_id            TEXT NOT NULL,
    logo_uri             TEXT NOT NULL,
    redirect_uris        TEXT NOT NULL,
    public_key           TEXT NOT NULL,
    claims               TEXT NOT NULL,
    acr_values           TEXT NOT NULL,
    grant_types          TEXT NOT NULL,
    client_auth_methods  TEXT NOT NULL,
    status               TEXT NOT NULL,
    cr_by                TEXT NOT NULL,
    cr_dtimes            TEXT NOT NULL,
    upd_by               TEXT,
    upd_dtimes           TEXT
);
CREATE INDEX oidc_client_rp_idx ON oidc_client (rp_id);
-- The list's default order.
CREATE INDEX oidc_client_created_idx ON oidc_client (cr_dtimes DESC, id);
