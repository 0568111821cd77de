-- Youth to adult: a decision of kind `transfer` moves an active youth case to the adult
-- committee as the citizen turns 30, keeping its plan (a new version), coordinator and frame.
ALTER TABLE decisions DROP CONSTRAINT decisions_kind_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_kind_check
    CHECK (kind IN ('initial', 'revision', 'follow_up', 'closure', 'transfer'));
