ALTER TABLE case_events DROP CONSTRAINT case_events_trace_whole;
ALTER TABLE case_events DROP COLUMN trace_sampled;
ALTER TABLE case_events DROP COLUMN trace_id;

ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_secret_is_whsec;
-- Back to raw secrets where the key is text (the secrets converted by up.sql); a secret made
-- since, 32 random bytes, stays in its whsec_ form, which the former signer uses as its key.
CREATE FUNCTION pg_temp.raw_secret(secret text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN convert_from(decode(substr(secret, 7), 'base64'), 'UTF8');
EXCEPTION WHEN others THEN
    RETURN secret;
END;
$$;
UPDATE subscriptions SET secret = pg_temp.raw_secret(secret);
DROP FUNCTION pg_temp.raw_secret(text);
