DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
DROP TABLE case_events;
DROP TABLE cases;
DROP TABLE committee_members;
DROP TABLE committees;
DROP TABLE citizens;
