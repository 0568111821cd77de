-- The citizen's access request (GDPR art. 15): the export of everything held about them is
-- audited with a purpose of its own.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_purpose_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_purpose_check
    CHECK (purpose IN ('referral', 'screening', 'committee', 'coordination', 'budget', 'integration', 'audit', 'access_request'));
