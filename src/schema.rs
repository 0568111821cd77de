// @generated automatically by Diesel CLI.

diesel::table! {
    agenda_items (id) {
        id -> Uuid,
        meeting_id -> Uuid,
        case_id -> Uuid,
        position -> Int4,
        presenting_caseworkers -> Jsonb,
        added_at -> Timestamptz,
        added_by_sub -> Text,
        added_by_dept -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_iss -> Text,
        actor_sub -> Text,
        actor_dept -> Text,
        action -> Text,
        resource -> Text,
        resource_id -> Nullable<Uuid>,
        case_id -> Nullable<Uuid>,
        citizen_id -> Nullable<Uuid>,
        purpose -> Text,
        status -> Int2,
        request_id -> Text,
        filters -> Nullable<Jsonb>,
        case_ids -> Array<Uuid>,
        citizen_ids -> Array<Uuid>,
    }
}

diesel::table! {
    background_members (case_id, sub, department) {
        case_id -> Uuid,
        sub -> Text,
        department -> Text,
        name -> Text,
        side -> Text,
        position -> Int4,
    }
}

diesel::table! {
    case_events (id) {
        id -> Int8,
        case_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        at -> Timestamptz,
        actor_iss -> Text,
        actor_sub -> Text,
        actor_dept -> Text,
        detail -> Jsonb,
        txid -> Int8,
        trace_id -> Nullable<Text>,
        trace_sampled -> Nullable<Bool>,
    }
}

diesel::table! {
    case_presenters (case_id, meeting_id, sub, department) {
        case_id -> Uuid,
        meeting_id -> Uuid,
        sub -> Text,
        department -> Text,
        name -> Text,
    }
}

diesel::table! {
    cases (id) {
        id -> Uuid,
        citizen_id -> Nullable<Uuid>,
        track -> Text,
        committee_id -> Uuid,
        status -> Text,
        age_at_referral -> Nullable<Int4>,
        problem_areas -> Array<Text>,
        description -> Nullable<Text>,
        involved_departments -> Array<Text>,
        involved_caseworkers -> Jsonb,
        current_interventions -> Array<Text>,
        citizen_view -> Nullable<Text>,
        under_18_justification -> Nullable<Text>,
        exclusions -> Jsonb,
        referred_at -> Timestamptz,
        referrer_iss -> Text,
        referrer_sub -> Text,
        referrer_dept -> Text,
        referrer_name -> Nullable<Text>,
        screened_at -> Nullable<Timestamptz>,
        screener_sub -> Nullable<Text>,
        screener_dept -> Nullable<Text>,
        screener_name -> Nullable<Text>,
        screening_outcome -> Nullable<Text>,
        screening_reason -> Nullable<Text>,
        screening_note -> Nullable<Text>,
        coordinator_sub -> Nullable<Text>,
        coordinator_dept -> Nullable<Text>,
        coordinator_name -> Nullable<Text>,
        follow_up_on -> Nullable<Date>,
        frame_ore -> Int8,
        spent_ore -> Int8,
        closed_at -> Nullable<Timestamptz>,
        closure_reason -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        coordinator_phone -> Nullable<Text>,
        coordinator_email -> Nullable<Text>,
        erased_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    citizens (id) {
        id -> Uuid,
        cpr -> Text,
        name -> Text,
        birth_date -> Date,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    committee_members (committee_id, sub) {
        committee_id -> Uuid,
        sub -> Text,
        name -> Text,
        department -> Text,
        role -> Text,
        position -> Int4,
    }
}

diesel::table! {
    committees (id) {
        id -> Uuid,
        name -> Text,
        track -> Text,
        departments -> Array<Text>,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    consents (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        given_by -> Text,
        form -> Text,
        given_on -> Date,
        expires_on -> Nullable<Date>,
        departments -> Array<Text>,
        note -> Nullable<Text>,
        recorded_by_sub -> Text,
        recorded_by_dept -> Text,
        recorded_by_name -> Nullable<Text>,
        recorded_at -> Timestamptz,
        withdrawn_on -> Nullable<Date>,
        withdrawal_note -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamptz>,
        withdrawn_by_sub -> Nullable<Text>,
        withdrawn_by_dept -> Nullable<Text>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Uuid,
        meeting_id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        members_present -> Array<Text>,
        took_part -> Bool,
        participation_form -> Nullable<Text>,
        participation_view -> Nullable<Text>,
        reason_not -> Nullable<Text>,
        note -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by_iss -> Text,
        recorded_by_sub -> Text,
        recorded_by_dept -> Text,
        recorded_by_name -> Nullable<Text>,
        plan_version -> Nullable<Int4>,
        coordinator -> Nullable<Jsonb>,
        budget_frame_ore -> Nullable<Int8>,
        follow_up_on -> Nullable<Date>,
        background_group -> Nullable<Jsonb>,
        closure_reason -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (actor_iss, actor_sub, actor_dept, key) {
        actor_iss -> Text,
        actor_sub -> Text,
        key -> Text,
        fingerprint -> Bytea,
        status -> Nullable<Int2>,
        body -> Nullable<Jsonb>,
        etag -> Nullable<Text>,
        created_at -> Timestamptz,
        actor_dept -> Text,
        audit -> Nullable<Jsonb>,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        amount_ore -> Int8,
        category -> Text,
        description -> Text,
        intervention_id -> Nullable<Uuid>,
        reverses -> Nullable<Uuid>,
        reason -> Nullable<Text>,
        recorded_at -> Timestamptz,
        actor_iss -> Text,
        actor_sub -> Text,
        actor_dept -> Text,
        actor_name -> Nullable<Text>,
    }
}

diesel::table! {
    meetings (id) {
        id -> Uuid,
        committee_id -> Uuid,
        scheduled_at -> Timestamptz,
        created_at -> Timestamptz,
        created_by_sub -> Text,
        created_by_dept -> Text,
    }
}

diesel::table! {
    offers (id) {
        id -> Uuid,
        name -> Text,
        department -> Text,
        category -> Text,
        description -> Nullable<Text>,
        track -> Text,
        unit_cost_ore -> Nullable<Int8>,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    participation_notes (id) {
        id -> Uuid,
        case_id -> Uuid,
        on_date -> Date,
        form -> Text,
        citizen_view -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by_iss -> Text,
        recorded_by_sub -> Text,
        recorded_by_dept -> Text,
    }
}

diesel::table! {
    plan_amendments (id) {
        id -> Int8,
        case_id -> Uuid,
        version -> Int4,
        at -> Timestamptz,
        actor_iss -> Text,
        actor_sub -> Text,
        actor_dept -> Text,
        kind -> Text,
        intervention_id -> Uuid,
        intervention -> Jsonb,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    plan_versions (case_id, version) {
        case_id -> Uuid,
        version -> Int4,
        kind -> Text,
        adopted_at -> Timestamptz,
        decision_id -> Uuid,
        citizen_goals -> Nullable<Text>,
        goals -> Jsonb,
        interventions -> Jsonb,
        statutory_plans -> Jsonb,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Uuid,
        department -> Text,
        owner_iss -> Text,
        owner_sub -> Text,
        url -> Text,
        secret -> Text,
        created_at -> Timestamptz,
        active -> Bool,
        cursor_txid -> Int8,
        cursor_id -> Int8,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        delivered -> Int8,
    }
}

diesel::joinable!(agenda_items -> cases (case_id));
diesel::joinable!(agenda_items -> meetings (meeting_id));
diesel::joinable!(background_members -> cases (case_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_presenters -> cases (case_id));
diesel::joinable!(case_presenters -> meetings (meeting_id));
diesel::joinable!(cases -> citizens (citizen_id));
diesel::joinable!(cases -> committees (committee_id));
diesel::joinable!(committee_members -> committees (committee_id));
diesel::joinable!(consents -> cases (case_id));
diesel::joinable!(decisions -> cases (case_id));
diesel::joinable!(decisions -> meetings (meeting_id));
diesel::joinable!(ledger_entries -> cases (case_id));
diesel::joinable!(meetings -> committees (committee_id));
diesel::joinable!(participation_notes -> cases (case_id));
diesel::joinable!(plan_versions -> cases (case_id));
diesel::joinable!(plan_versions -> decisions (decision_id));

diesel::allow_tables_to_appear_in_same_query!(
    agenda_items,
    audit_log,
    background_members,
    case_events,
    case_presenters,
    cases,
    citizens,
    committee_members,
    committees,
    consents,
    decisions,
    idempotency_keys,
    ledger_entries,
    meetings,
    offers,
    participation_notes,
    plan_amendments,
    plan_versions,
    subscriptions,
);
