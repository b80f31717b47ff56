-- A number that changes whenever a row a client create checks is written: partners, auth
-- policies, policy groups and partner-policy mappings. A create reads its checks on a read
-- connection before it waits for the writer, and inside the writer's turn only compares this
-- number (one row) instead of reading the checks again: equal means every row the checks read
-- is still as read. Triggers keep it, so every writer (this service, an import, a hand-run
-- statement) moves it, inside the transaction that made the change. A later migration that
-- rebuilds one of these four tables (create, copy, drop, rename) drops its triggers with the
-- old table and must create them again; the store suite's
-- case_check_rows_version_moves_with_the_rows_a_create_checks fails if it does not.
CREATE TABLE check_rows_version (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    n   INTEGER NOT NULL
);
INSERT INTO check_rows_version (one, n) VALUES (1, 0);

CREATE TRIGGER partner_ins_version AFTER INSERT ON partner
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER partner_upd_version AFTER UPDATE ON partner
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER partner_del_version AFTER DELETE ON partner
BEGIN UPDATE check_rows_version SET n = n + 1; END;

CREATE TRIGGER auth_policy_ins_version AFTER INSERT ON auth_policy
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER auth_policy_upd_version AFTER UPDATE ON auth_policy
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER auth_policy_del_version AFTER DELETE ON auth_policy
BEGIN UPDATE check_rows_version SET n = n + 1; END;

CREATE TRIGGER policy_group_ins_version AFTER INSERT ON policy_group
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER policy_group_upd_version AFTER UPDATE ON policy_group
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER policy_group_del_version AFTER DELETE ON policy_group
BEGIN UPDATE check_rows_version SET n = n + 1; END;

CREATE TRIGGER partner_policy_request_ins_version AFTER INSERT ON partner_policy_request
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER partner_policy_request_upd_version AFTER UPDATE ON partner_policy_request
BEGIN UPDATE check_rows_version SET n = n + 1; END;
CREATE TRIGGER partner_policy_request_del_version AFTER DELETE ON partner_policy_request
BEGIN UPDATE check_rows_version SET n = n + 1; END;
