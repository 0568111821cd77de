-- Fails while erased cases exist: their citizens are gone and cannot come back.
DROP TRIGGER plan_amendments_no_truncate ON plan_amendments;
DROP TRIGGER plan_versions_no_truncate ON plan_versions;
DROP TRIGGER decisions_no_truncate ON decisions;
DROP TRIGGER case_events_no_truncate ON case_events;
DROP TRIGGER case_events_immutable ON case_events;
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- The audit log keeps allowing action 'delete': the entries of past runs stay, append-only.
ALTER TABLE cases DROP CONSTRAINT cases_erased_have_no_citizen;
ALTER TABLE cases DROP COLUMN erased_at;
ALTER TABLE cases ALTER COLUMN age_at_referral SET NOT NULL;
ALTER TABLE cases ALTER COLUMN citizen_id SET NOT NULL;
