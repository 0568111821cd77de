-- The integration feed reads case_events in commit-safe order. Sequence values are not
-- committed in order, so an event carries the id of the transaction that wrote it, and a reader
-- only sees events of transactions older than every transaction still running
-- (pg_snapshot_xmin): nothing can commit behind its cursor later.
ALTER TABLE case_events ADD COLUMN txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX case_events_feed ON case_events (txid, id);

-- Webhook subscriptions of departmental systems, each with its own delivery cursor, so that
-- deliveries resume from the database after a restart and one instance delivers at a time.
CREATE TABLE subscriptions (
    id               uuid PRIMARY KEY,
    department       text NOT NULL,
    owner_iss        text NOT NULL,
    owner_sub        text NOT NULL,
    url              text NOT NULL,
    secret           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    active           boolean NOT NULL DEFAULT true,
    -- the last event delivered: (txid, id) of case_events
    cursor_txid      bigint NOT NULL DEFAULT 0,
    cursor_id        bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    delivered        bigint NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at) WHERE active;
