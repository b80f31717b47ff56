-- The client table goes back to an ordinary rowid table. 0004 made it WITHOUT ROWID, but a
-- client row is about 800 bytes, a fifth of a page: the clustered B-tree then holds four rows
-- per leaf and copies whole rows into its interior pages (fan-out of about four, one interior
-- page per four leaves), so every create split pages up the tree (3.5 WAL frames per insert,
-- measured) and a read by id descended many levels. As a rowid table the rows are appended,
-- the id's primary-key index is narrow (about 70 ids per page), and the interior pages hold
-- rowids only. Same columns, same order; rows are copied oldest first so that pages follow
-- creation order, as new rows do.
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
);
INSERT INTO oidc_client_new (id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris,
    public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes,
    upd_by, upd_dtimes, version)
SELECT id, name, name_lang_map, rp_id, policy_id, logo_uri, redirect_uris,
    public_key, claims, acr_values, grant_types, client_auth_methods, status, cr_by, cr_dtimes,
    upd_by, upd_dtimes, version
FROM oidc_client ORDER BY cr_dtimes, id;
DROP TABLE oidc_client;
ALTER TABLE oidc_client_new RENAME TO oidc_client;
CREATE INDEX oidc_client_created_idx ON oidc_client (cr_dtimes DESC, id);
CREATE INDEX oidc_client_rp_created_idx ON oidc_client (rp_id, cr_dtimes DESC, id);
