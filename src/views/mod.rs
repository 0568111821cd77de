//! Request and response shapes that more than one resource uses.

pub mod audit;
pub mod case;
pub mod consent;
pub mod event;
pub mod ledger;
pub mod meeting;
pub mod plan;
pub mod time;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::{Department, Side};

/// A person named in a request or a response: a caseworker, leader or staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PersonRef {
    /// The person's subject in their department's system (the token's `sub`).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sub: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub department: Department,
}

/// The coordinating caseworker a committee appoints, and how the citizen reaches them: the
/// citizen's own copy of the plan prints the phone number and e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(as = Coordinator)]
pub struct CoordinatorRef {
    /// The person's subject in their department's system (the token's `sub`).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sub: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    pub department: Department,
    /// A phone number the citizen can call: 6 to 15 digits, single spaces between them and an
    /// optional leading `+`, e.g. `+45 33 66 33 66`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^\\+?[0-9]( ?[0-9]){5,14}$")]
    pub phone: Option<String>,
    /// An e-mail address the citizen can write to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9_%+-]+(\\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\\.[A-Za-z]{2,}$"
    )]
    #[validate(length(max = 254))]
    pub email: Option<String>,
}

/// A short text in a list (e.g. a current intervention): 1–1000 characters, not blank. Only
/// the OpenAPI document's view of such an item; the Rust type stays `String`.
pub struct ShortText;

impl utoipa::PartialSchema for ShortText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(1000))
            .pattern(Some("\\S"))
            .into()
    }
}

impl utoipa::ToSchema for ShortText {}

/// A person's `sub` in a list (e.g. the members present): 1–255 characters.
pub struct SubText;

impl utoipa::PartialSchema for SubText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .into()
    }
}

impl utoipa::ToSchema for SubText {}

/// Each text of a list is non-empty and at most 1000 characters.
pub fn short_texts(items: &[String]) -> Result<(), ValidationError> {
    if items.iter().all(|t| !t.trim().is_empty() && t.chars().count() <= 1000) {
        Ok(())
    } else {
        Err(ValidationError::new("texts").with_message("each entry must be 1 to 1000 characters".into()))
    }
}

/// A background-group member (*baggrundsgruppe*): authority or provider side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct BackgroundMemberRef {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub sub: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub department: Department,
    pub side: Side,
}
