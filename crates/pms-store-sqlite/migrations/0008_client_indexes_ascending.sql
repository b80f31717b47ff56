-- The client list's two created-time indexes become ascending (SQLite scans them backwards for
-- the default newest-first order, and sorts only the rows of one timestamp for the id
-- tie-break). Descending, every new client's entries went to the front of their range, where
-- SQLite splits pages by redistributing them among siblings; ascending, the all-clients index
-- grows at its right end, where a full page is split by starting a new one.
DROP INDEX oidc_client_created_idx;
CREATE INDEX oidc_client_created_idx ON oidc_client (cr_dtimes, id);
DROP INDEX oidc_client_rp_created_idx;
CREATE INDEX oidc_client_rp_created_idx ON oidc_client (rp_id, cr_dtimes, id);
