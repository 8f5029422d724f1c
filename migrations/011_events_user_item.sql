-- Which of a request's candidates a user has seen is asked per (user, item) for users whose
-- history is longer than the request reads (HISTORY_LIMIT): this index keeps that lookup bounded
-- by the candidates, not by the user's event count.
CREATE INDEX events_user_item ON events (user_id, item_id);
