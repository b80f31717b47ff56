-- The client list filtered by partner, newest first, walks this index in order (the page) or
-- counts its range (the total) instead of scanning every client. It covers oidc_client_rp_idx.
CREATE INDEX oidc_client_rp_created_idx ON oidc_client (rp_id, cr_dtimes DESC, id);
DROP INDEX oidc_client_rp_idx;
