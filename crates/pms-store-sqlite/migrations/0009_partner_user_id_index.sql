-- A client read asks whether the reader owns the client's partner (`user_id` and `id` of one
-- partner row). With `partner_user_idx (user_id)` SQLite answered it through the primary key and
-- then the table row; `(user_id, id)` answers it, and "owns any partner", from the index alone.
-- The client read names this index (`INDEXED BY`): without statistics SQLite prefers the
-- primary key.
CREATE INDEX partner_user_id_idx ON partner (user_id, id);
DROP INDEX partner_user_idx;
