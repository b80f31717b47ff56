-- The client table is rebuilt WITHOUT ROWID: a read by client id is then one B-tree descent
-- instead of two (the primary-key index, then the rowid table), which is what keeps reads flat
-- as the table grows. Same columns, same order.
CREATE TABLE oidc_client_new (
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
    upd_dtimes           TEXT,
    version              INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
INSERT INTO oidc_client_new (id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris,
    public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes,
    upd_by, upd_dtimes, version)
SELECT id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris,
    public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes,
    upd_by, upd_dtimes, version
FROM oidc_client;
DROP TABLE oidc_client;
ALTER TABLE oidc_client_new RENAME TO oidc_client;
-- The list's default order.
CREATE INDEX oidc_client_created_idx ON oidc_client (cr_dtimes DESC, id);
-- The list filtered by partner, newest first, walks this index in order (the page) or counts
-- its range (the total) instead of scanning every client.
CREATE INDEX oidc_client_rp_created_idx ON oidc_client (rp_id, cr_dtimes DESC, id);
