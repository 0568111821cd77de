-- The foundation: citizens, committees, cases with referral and screening, the case history
-- (which doubles as the integration outbox) and the append-only audit log.

CREATE TABLE citizens (
    id          uuid PRIMARY KEY,
    cpr         text NOT NULL UNIQUE CHECK (cpr ~ '^[0-9]{10}$'),
    name        text NOT NULL,
    birth_date  date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE committees (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    track       text NOT NULL CHECK (track IN ('youth', 'adult')),
    -- the first two departments send leaders and caseworkers, the third the fixed staff member
    departments text[] NOT NULL CHECK (cardinality(departments) = 3),
    active      boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- One active committee per track.
CREATE UNIQUE INDEX committees_one_active_per_track ON committees (track) WHERE active;

CREATE TABLE committee_members (
    committee_id uuid NOT NULL REFERENCES committees (id),
    sub          text NOT NULL,
    name         text NOT NULL,
    department   text NOT NULL,
    role         text NOT NULL CHECK (role IN ('leader', 'caseworker', 'fixed_staff')),
    position     integer NOT NULL,
    PRIMARY KEY (committee_id, sub)
);
CREATE INDEX committee_members_person ON committee_members (sub, department);

CREATE TABLE cases (
    id                      uuid PRIMARY KEY,
    citizen_id              uuid NOT NULL REFERENCES citizens (id),
    track                   text NOT NULL CHECK (track IN ('youth', 'adult')),
    committee_id            uuid NOT NULL REFERENCES committees (id),
    status                  text NOT NULL CHECK (status IN ('referred', 'awaiting_committee', 'declined', 'active', 'closed')),
    age_at_referral         integer NOT NULL,
    -- the referral (indstilling)
    problem_areas           text[] NOT NULL DEFAULT '{}',
    description             text,
    involved_departments    text[] NOT NULL DEFAULT '{}',
    involved_caseworkers    jsonb NOT NULL DEFAULT '[]',
    current_interventions   text[] NOT NULL DEFAULT '{}',
    citizen_view            text,
    under_18_justification  text,
    exclusions              jsonb NOT NULL DEFAULT '{}',
    referred_at             timestamptz NOT NULL,
    referrer_iss            text NOT NULL,
    referrer_sub            text NOT NULL,
    referrer_dept           text NOT NULL,
    referrer_name           text,
    -- the screening (visitation)
    screened_at             timestamptz,
    screener_sub            text,
    screener_dept           text,
    screener_name           text,
    screening_outcome       text CHECK (screening_outcome IN ('accepted', 'declined')),
    screening_reason        text,
    screening_note          text,
    -- the coordinating caseworker (koordinerende sagsbehandler), set by the committee
    coordinator_sub         text,
    coordinator_dept        text,
    coordinator_name        text,
    follow_up_on            date,
    frame_ore               bigint NOT NULL DEFAULT 0 CHECK (frame_ore >= 0),
    spent_ore               bigint NOT NULL DEFAULT 0 CHECK (spent_ore >= 0 AND spent_ore <= frame_ore),
    closed_at               timestamptz,
    closure_reason          text,
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_citizen ON cases (citizen_id);
CREATE INDEX cases_committee ON cases (committee_id, id);
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_referrer ON cases (referrer_sub, referrer_dept);
CREATE INDEX cases_screener ON cases (screener_sub, screener_dept) WHERE screener_sub IS NOT NULL;
CREATE INDEX cases_coordinator ON cases (coordinator_sub, coordinator_dept) WHERE coordinator_sub IS NOT NULL;
CREATE INDEX cases_coordinator_dept ON cases (coordinator_dept) WHERE coordinator_dept IS NOT NULL;
CREATE INDEX cases_involved_departments ON cases USING gin (involved_departments);
CREATE INDEX cases_follow_up ON cases (follow_up_on) WHERE status = 'active';

-- Every change of a case, oldest first. The history endpoint reads it with actor and details;
-- the integration feed exposes only id, type, case_id and time, so no personal data leaves.
CREATE TABLE case_events (
    id          bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    type        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_iss   text NOT NULL,
    actor_sub   text NOT NULL,
    actor_dept  text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- The audit log: who read or wrote which personal data, when, and for what purpose.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_iss    text NOT NULL,
    actor_sub    text NOT NULL,
    actor_dept   text NOT NULL,
    action       text NOT NULL CHECK (action IN ('read', 'create', 'update', 'denied')),
    resource     text NOT NULL,
    resource_id  uuid,
    case_id      uuid,
    citizen_id   uuid,
    purpose      text NOT NULL CHECK (purpose IN ('referral', 'screening', 'committee', 'coordination', 'budget', 'integration', 'audit')),
    status       smallint NOT NULL,
    request_id   text NOT NULL,
    -- a list read: the filters it used and every case (and citizen) it returned
    filters      jsonb,
    case_ids     uuid[] NOT NULL DEFAULT '{}',
    citizen_ids  uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_case ON audit_log (case_id, at) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_citizen ON audit_log (citizen_id, at) WHERE citizen_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_sub, at);
CREATE INDEX audit_log_case_ids ON audit_log USING gin (case_ids) WHERE cardinality(case_ids) > 0;
CREATE INDEX audit_log_citizen_ids ON audit_log USING gin (citizen_ids) WHERE cardinality(citizen_ids) > 0;

-- Append-only, enforced by the database: a trigger refuses UPDATE, DELETE and TRUNCATE for
-- every role, and the privileges are withdrawn from the owner too. The owner could still drop
-- the trigger, which is why production runs the service as a role that owns nothing
-- (`helhed migrate --grant-to <role>`; see README).
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
