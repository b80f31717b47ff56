-- A number that changes whenever a row a client create checks is written: partners, auth
-- policies, policy groups and partner-policy mappings. A create reads its checks in a read
-- transaction before it takes the write lock, and inside its write transaction only compares
-- this number (one row) instead of reading the checks again: equal means every row the checks
-- read is still as read. Triggers keep it, so every writer (pms, an import, a hand-run
-- statement) moves it, inside the transaction that made the change. A later migration that
-- recreates one of these four tables must create its trigger again; the store suite's
-- case_check_rows_version_moves_with_the_rows_a_create_checks fails if it does not.
CREATE TABLE check_rows_version (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    n   BIGINT NOT NULL
);
INSERT INTO check_rows_version (one, n) VALUES (1, 0);

CREATE FUNCTION bump_check_rows_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE check_rows_version SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER partner_check_rows_version AFTER INSERT OR UPDATE OR DELETE ON partner
    FOR EACH STATEMENT EXECUTE FUNCTION bump_check_rows_version();
CREATE TRIGGER auth_policy_check_rows_version AFTER INSERT OR UPDATE OR DELETE ON auth_policy
    FOR EACH STATEMENT EXECUTE FUNCTION bump_check_rows_version();
CREATE TRIGGER policy_group_check_rows_version AFTER INSERT OR UPDATE OR DELETE ON policy_group
    FOR EACH STATEMENT EXECUTE FUNCTION bump_check_rows_version();
CREATE TRIGGER partner_policy_request_check_rows_version
    AFTER INSERT OR UPDATE OR DELETE ON partner_policy_request
    FOR EACH STATEMENT EXECUTE FUNCTION bump_check_rows_version();
