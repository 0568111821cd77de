-- The coordinator's budget ledger: every spend from the frame and every reversal, append-only.
-- The case row keeps the running total (cases.spent_ore); its CHECK (spent_ore <= frame_ore)
-- is the last guard against overspending, behind the row lock every spend takes.
CREATE TABLE ledger_entries (
    id               uuid PRIMARY KEY,
    case_id          uuid NOT NULL REFERENCES cases (id),
    kind             text NOT NULL CHECK (kind IN ('spend', 'reversal')),
    -- positive for a spend, negative for a reversal
    amount_ore       bigint NOT NULL,
    category         text NOT NULL CHECK (category IN ('housing_support', 'mentor_support', 'transport', 'one_off_benefit', 'special_aids', 'other')),
    description      text NOT NULL,
    intervention_id  uuid,
    -- a reversal names the spend it reverses; a spend is reversed at most once. (No foreign
    -- key: checking one takes a row lock, which needs the UPDATE right this table withholds
    -- even from its owner; entries are never deleted, and the service checks the spend.)
    reverses         uuid UNIQUE,
    reason           text,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    actor_iss        text NOT NULL,
    actor_sub        text NOT NULL,
    actor_dept       text NOT NULL,
    actor_name       text,
    CHECK ((kind = 'spend' AND amount_ore > 0 AND reverses IS NULL)
        OR (kind = 'reversal' AND amount_ore < 0 AND reverses IS NOT NULL AND reason IS NOT NULL))
);
CREATE INDEX ledger_entries_case ON ledger_entries (case_id, recorded_at, id);

CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_entries FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_entries FROM CURRENT_USER;
