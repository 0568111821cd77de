//! The rules of holistic case handling, without HTTP or SQL: the vocabulary of the domain and
//! the pure functions that decide eligibility, composition, screening and status moves.

pub mod budget;
pub mod committee;
pub mod consent;
pub mod cpr;
pub mod decision;
pub mod eligibility;
pub mod plan;
pub mod referral;
pub mod status;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a closed vocabulary stored as text: serde and OpenAPI use the snake_case names,
/// the database stores the same names.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored form; anything else is `None`.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// A department (*afdeling*) with its own case system.
    Department {
        /// Arbejdsmarkedsafdelingen (jobcentre, adults)
        LabourMarket => "labour_market",
        /// Ungeindsatsen og UU
        Youth => "youth",
        /// Socialområdet – Visitationsafdelingen
        Social => "social",
        /// Sundhed og Omsorg – Visitationsafdelingen
        HealthCare => "health_care",
        /// Skoleområdet – Trivsel og Læring
        School => "school",
    }
}

vocabulary! {
    /// The age track of a committee and of a case.
    Track { Youth => "youth", Adult => "adult" }
}

vocabulary! {
    /// What a principal may do, from the token's `roles` claim.
    Role {
        Caseworker => "caseworker",
        Leader => "leader",
        Admin => "admin",
        Auditor => "auditor",
        System => "system",
    }
}

vocabulary! {
    /// Where a case stands.
    CaseStatus {
        Referred => "referred",
        AwaitingCommittee => "awaiting_committee",
        Declined => "declined",
        Active => "active",
        Closed => "closed",
    }
}

vocabulary! {
    /// The citizen's problem areas named in a referral.
    ProblemArea {
        MentalHealth => "mental_health",
        PhysicalDisability => "physical_disability",
        ChronicIllness => "chronic_illness",
        Homelessness => "homelessness",
        SubstanceAbuse => "substance_abuse",
        SocialBehavioural => "social_behavioural",
        Other => "other",
    }
}

vocabulary! {
    /// The outcome of a screening (*visitation*).
    ScreeningOutcome { Accepted => "accepted", Declined => "declined" }
}

vocabulary! {
    /// Why a screening declined a referral.
    DeclineReason {
        NotComplexEnough => "not_complex_enough",
        OutsideTargetGroup => "outside_target_group",
        CitizenDeclined => "citizen_declined",
        Other => "other",
    }
}

vocabulary! {
    /// A committee member's seat.
    MemberRole { Leader => "leader", Caseworker => "caseworker", FixedStaff => "fixed_staff" }
}

/// A problem field: which field, and what is wrong with it, in words that never repeat the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The path of the field in the request, e.g. `plan.goals[0].area`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

vocabulary! {
    /// Which side of the municipality a background-group member (*baggrundsgruppe*) is on.
    Side { Authority => "authority", Provider => "provider" }
}
