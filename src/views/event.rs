//! An event as the integration feed and webhooks send it: a CloudEvents 1.0 event in its JSON
//! format, so a receiver reads it with any CloudEvents library. It carries no personal data:
//! what happened, to which case, when; details come through the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::events::{EventTypeName, FeedRow};

/// A change of a case, as a CloudEvent (CloudEvents 1.0, JSON format).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Always `1.0`.
    #[schema(value_type = String, pattern = "^1\\.0$")]
    pub specversion: String,
    /// The event's id: unique within `source`, the same every time the event is sent.
    pub id: String,
    /// `urn:helhed:<HELHED_INSTANCE>`: the Helhed installation the event comes from.
    pub source: String,
    #[serde(rename = "type")]
    pub type_: EventTypeName,
    /// The case the event is about (its id).
    pub subject: String,
    /// When it happened.
    #[serde(serialize_with = "crate::views::time::rfc3339")]
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    #[schema(value_type = String, pattern = "^application/json$")]
    pub datacontenttype: String,
    pub data: EventData,
}

/// What the event is about.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventData {
    pub case_id: Uuid,
}

/// The event's CloudEvent, from `source` (`urn:helhed:<instance>`).
pub fn cloud_event(row: &FeedRow, source: &str) -> Event {
    Event {
        specversion: "1.0".into(),
        id: row.id.to_string(),
        source: source.to_string(),
        type_: EventTypeName(row.type_.clone()),
        subject: row.case_id.to_string(),
        time: row.at,
        datacontenttype: "application/json".into(),
        data: EventData { case_id: row.case_id },
    }
}
