-- The committee at work: meetings and their agenda, immutable decisions, versioned plans with
-- the coordinator's amendments, background groups and the citizen's participation notes.

CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    committee_id     uuid NOT NULL REFERENCES committees (id),
    scheduled_at     timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by_sub   text NOT NULL,
    created_by_dept  text NOT NULL
);
CREATE INDEX meetings_committee ON meetings (committee_id, scheduled_at, id);

CREATE TABLE agenda_items (
    id                      uuid PRIMARY KEY,
    meeting_id              uuid NOT NULL REFERENCES meetings (id),
    case_id                 uuid NOT NULL REFERENCES cases (id),
    position                integer NOT NULL,
    presenting_caseworkers  jsonb NOT NULL DEFAULT '[]',
    added_at                timestamptz NOT NULL DEFAULT now(),
    added_by_sub            text NOT NULL,
    added_by_dept           text NOT NULL,
    UNIQUE (meeting_id, case_id)
);
CREATE INDEX agenda_items_case ON agenda_items (case_id);

-- The caseworkers who present a case at a meeting take part in it from then on.
CREATE TABLE case_presenters (
    case_id     uuid NOT NULL REFERENCES cases (id),
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    sub         text NOT NULL,
    department  text NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (case_id, meeting_id, sub, department)
);
CREATE INDEX case_presenters_person ON case_presenters (sub, department);

CREATE TABLE decisions (
    id                  uuid PRIMARY KEY,
    meeting_id          uuid NOT NULL REFERENCES meetings (id),
    case_id             uuid NOT NULL REFERENCES cases (id),
    kind                text NOT NULL CHECK (kind IN ('initial', 'revision', 'follow_up', 'closure')),
    members_present     text[] NOT NULL,
    took_part           boolean NOT NULL,
    participation_form  text,
    participation_view  text,
    reason_not          text,
    note                text,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    recorded_by_iss     text NOT NULL,
    recorded_by_sub     text NOT NULL,
    recorded_by_dept    text NOT NULL,
    recorded_by_name    text,
    plan_version        integer,
    coordinator         jsonb,
    budget_frame_ore    bigint,
    follow_up_on        date,
    background_group    jsonb,
    closure_reason      text,
    CHECK (took_part OR reason_not IS NOT NULL)
);
CREATE INDEX decisions_meeting ON decisions (meeting_id, recorded_at);
CREATE INDEX decisions_case ON decisions (case_id, recorded_at);
-- A case has one first decision.
CREATE UNIQUE INDEX decisions_one_initial ON decisions (case_id) WHERE kind = 'initial';

-- Adopted plan versions: what the committee decided, as it decided it.
CREATE TABLE plan_versions (
    case_id          uuid NOT NULL REFERENCES cases (id),
    version          integer NOT NULL CHECK (version >= 1),
    kind             text NOT NULL CHECK (kind IN ('ungeplan', 'indsatsplan')),
    adopted_at       timestamptz NOT NULL DEFAULT now(),
    decision_id      uuid NOT NULL REFERENCES decisions (id),
    citizen_goals    text,
    goals            jsonb NOT NULL,
    interventions    jsonb NOT NULL,
    statutory_plans  jsonb NOT NULL,
    PRIMARY KEY (case_id, version)
);

-- The coordinator's minor adjustments between meetings, each the new state of one intervention.
CREATE TABLE plan_amendments (
    id               bigserial PRIMARY KEY,
    case_id          uuid NOT NULL,
    version          integer NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    actor_iss        text NOT NULL,
    actor_sub        text NOT NULL,
    actor_dept       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('intervention_added', 'intervention_changed')),
    intervention_id  uuid NOT NULL,
    intervention     jsonb NOT NULL,
    note             text,
    FOREIGN KEY (case_id, version) REFERENCES plan_versions (case_id, version)
);
CREATE INDEX plan_amendments_version ON plan_amendments (case_id, version, id);

-- The current background group (baggrundsgruppe) of a case.
CREATE TABLE background_members (
    case_id     uuid NOT NULL REFERENCES cases (id),
    sub         text NOT NULL,
    department  text NOT NULL,
    name        text NOT NULL,
    side        text NOT NULL CHECK (side IN ('authority', 'provider')),
    position    integer NOT NULL,
    PRIMARY KEY (case_id, sub, department)
);
CREATE INDEX background_members_person ON background_members (sub, department);

CREATE TABLE participation_notes (
    id                uuid PRIMARY KEY,
    case_id           uuid NOT NULL REFERENCES cases (id),
    on_date           date NOT NULL,
    form              text NOT NULL CHECK (form IN ('meeting', 'phone', 'home_visit', 'written', 'other')),
    citizen_view      text,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    recorded_by_iss   text NOT NULL,
    recorded_by_sub   text NOT NULL,
    recorded_by_dept  text NOT NULL
);
CREATE INDEX participation_notes_case ON participation_notes (case_id, on_date);

-- Decisions, adopted plans and amendments are never changed or removed.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER decisions_immutable BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_versions_immutable BEFORE UPDATE OR DELETE ON plan_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_amendments_immutable BEFORE UPDATE OR DELETE ON plan_amendments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
