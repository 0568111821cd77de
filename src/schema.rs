// @generated automatically by Diesel CLI.

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
    }
}

diesel::table! {
    cases (id) {
        id -> Uuid,
        citizen_id -> Uuid,
        track -> Text,
        committee_id -> Uuid,
        status -> Text,
        age_at_referral -> Int4,
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

diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(cases -> citizens (citizen_id));
diesel::joinable!(cases -> committees (committee_id));
diesel::joinable!(committee_members -> committees (committee_id));

diesel::allow_tables_to_appear_in_same_query!(audit_log, case_events, cases, citizens, committee_members, committees,);
