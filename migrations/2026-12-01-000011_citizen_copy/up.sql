-- The citizen's own copy of the plan names how to reach the coordinator: a decision may give the
-- coordinator's phone and e-mail, and the case keeps them with the coordinator's name.
ALTER TABLE cases ADD COLUMN coordinator_phone text, ADD COLUMN coordinator_email text;
-- Reading the citizen's copy (HTML or PDF) is audited with a purpose of its own, as is each run
-- of the retention job.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_purpose_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_purpose_check
    CHECK (purpose IN ('referral', 'screening', 'committee', 'coordination', 'budget', 'integration', 'audit',
                       'access_request', 'citizen_copy', 'retention'));
