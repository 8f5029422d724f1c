-- The dashboard's Users page searches by id prefix in byte order, as items are searched: this
-- index keeps a search page `limit` rows whatever the number of users.
CREATE INDEX users_external_id_c ON users (external_id COLLATE "C");
