-- Retention and erasure (GDPR art. 5(1)(e)): `helhed retention run`, run by the owner role,
-- erases what the municipality may no longer keep. An erased case keeps what the statistics
-- count (track, committee, statuses and the dates of each step, amounts, participation flags)
-- and loses the link to its citizen, whose row then goes once no case of theirs remains.

-- An erased case names no citizen; a case names no citizen only when it is erased. Its age at
-- referral goes with the citizen (the track says what the statistics need of the age).
ALTER TABLE cases ALTER COLUMN citizen_id DROP NOT NULL;
ALTER TABLE cases ALTER COLUMN age_at_referral DROP NOT NULL;
ALTER TABLE cases ADD COLUMN erased_at timestamptz;
ALTER TABLE cases ADD CONSTRAINT cases_erased_have_no_citizen
    CHECK ((erased_at IS NULL) = (citizen_id IS NOT NULL) AND (erased_at IS NULL) = (age_at_referral IS NOT NULL));

-- A run is audited as a deletion of personal data.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('read', 'create', 'update', 'denied', 'delete'));

-- The one door through the append-only triggers. It opens only for the role that owns the
-- table (the owner, which the service role of a strict deployment is not and cannot become)
-- and only inside a transaction that set `helhed.retention` on (SET LOCAL): the retention job.
-- Through it, audit entries may be deleted (never rewritten), and decisions, plans, amendments,
-- ledger entries and history of an erased case may have their texts blanked (never deleted).
-- The owner still holds no UPDATE or DELETE right on the audit log and the ledger: the job
-- grants them to itself inside its transaction and revokes them before it commits. A
-- single-role deployment, whose service is the owner, could open the door too, just as it
-- could drop a trigger; that is why production runs the service as a role that owns nothing.
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('helhed.retention', true), '') = 'on'
       AND (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID)
           = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    erased boolean;
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('helhed.retention', true), '') = 'on'
       AND (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID)
           = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
       AND NEW.case_id = OLD.case_id THEN
        EXECUTE format('SELECT erased_at IS NOT NULL FROM %I.cases WHERE id = $1', TG_TABLE_SCHEMA)
            INTO erased USING OLD.case_id;
        IF erased THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- The case history was append-only by withdrawn privileges alone, and decisions, plans and
-- amendments refused UPDATE and DELETE but not TRUNCATE (which the owner, the service of a
-- single-role deployment, may do): now the triggers refuse all of it, so that only the
-- retention job, through its door, changes any of them.
CREATE TRIGGER case_events_immutable BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_versions_no_truncate BEFORE TRUNCATE ON plan_versions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_amendments_no_truncate BEFORE TRUNCATE ON plan_amendments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
