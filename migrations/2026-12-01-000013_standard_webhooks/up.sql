-- Standard Webhooks (https://www.standardwebhooks.com) and W3C Trace Context.

-- A subscription's secret is a Standard Webhooks secret: `whsec_` and the base64 of the HMAC
-- key. Secrets from before are turned into that form with the very same key bytes (the text
-- the subscriber chose, or the 64 hex characters Helhed made, as UTF-8): a receiver keeps its
-- secret and verifies with `Webhook(b"<its old secret>")`, or with `whsec_` + base64 of it, and
-- only one form of secret exists from here on. Every secret stored before this migration is a
-- raw one, even one that happens to begin with `whsec_`: the former signer used every secret's
-- text as the key. (PostgreSQL's base64 breaks lines every 76 characters; the breaks go.)
UPDATE subscriptions
   SET secret = 'whsec_' || replace(encode(convert_to(secret, 'UTF8'), 'base64'), E'\n', '');
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_secret_is_whsec
    CHECK (secret ~ '^whsec_[A-Za-z0-9+/]+={0,2}$');

-- The W3C trace of the request that wrote an event (its `traceparent`, or the trace Helhed
-- started for it), so that each webhook delivery of the event carries the trace on. Events
-- written outside a request, and those from before, have none.
ALTER TABLE case_events ADD COLUMN trace_id text
    CHECK (trace_id ~ '^[0-9a-f]{32}$' AND trace_id <> repeat('0', 32));
ALTER TABLE case_events ADD COLUMN trace_sampled boolean;
ALTER TABLE case_events ADD CONSTRAINT case_events_trace_whole
    CHECK ((trace_id IS NULL) = (trace_sampled IS NULL));
