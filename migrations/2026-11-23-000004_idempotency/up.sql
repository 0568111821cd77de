-- Idempotency keys: the first answer to a creating POST, stored in the transaction of its
-- effect, so that a retry (from any instance) replays it instead of acting twice. The key is
-- taken first in that transaction, so a concurrent repeat waits on it and then replays.
CREATE TABLE idempotency_keys (
    actor_iss    text NOT NULL,
    actor_sub    text NOT NULL,
    key          text NOT NULL,
    -- SHA-256 of method, path and the canonical request body
    fingerprint  bytea NOT NULL,
    -- the answer; written at the end of the same transaction that took the key
    status       smallint,
    body         jsonb,
    etag         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_iss, actor_sub, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
