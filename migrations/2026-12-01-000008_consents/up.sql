-- Consents: a coordinated plan is an offer the citizen may decline, and sharing what is known
-- about them between departments needs their consent (and, under 18, a custody holder's too).
-- A consent is current from given_on to expires_on (both included) unless withdrawn; only its
-- withdrawal is ever written to a recorded consent.
CREATE TABLE consents (
    id                uuid PRIMARY KEY,
    case_id           uuid NOT NULL REFERENCES cases (id),
    kind              text NOT NULL CHECK (kind IN ('plan', 'data_sharing')),
    given_by          text NOT NULL CHECK (given_by IN ('citizen', 'custody_holder')),
    form              text NOT NULL CHECK (form IN ('written', 'digital', 'oral')),
    given_on          date NOT NULL,
    expires_on        date CHECK (expires_on > given_on),
    departments       text[] NOT NULL DEFAULT '{}',
    note              text,
    recorded_by_sub   text NOT NULL,
    recorded_by_dept  text NOT NULL,
    recorded_by_name  text,
    recorded_at       timestamptz NOT NULL,
    withdrawn_on      date CHECK (withdrawn_on >= given_on),
    withdrawal_note   text,
    withdrawn_at      timestamptz,
    withdrawn_by_sub  text,
    withdrawn_by_dept text
);
CREATE INDEX consents_case ON consents (case_id, recorded_at, id);
-- The access rule asks, for a case, whether a current data_sharing consent names a department.
CREATE INDEX consents_current_sharing ON consents (case_id) WHERE kind = 'data_sharing' AND withdrawn_on IS NULL;
