ALTER TABLE audit_log DROP CONSTRAINT audit_log_purpose_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_purpose_check
    CHECK (purpose IN ('referral', 'screening', 'committee', 'coordination', 'budget', 'integration', 'audit', 'access_request'));
ALTER TABLE cases DROP COLUMN coordinator_phone, DROP COLUMN coordinator_email;
