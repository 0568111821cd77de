//! Diesel models and queries, one module per aggregate. Table structs live here; the API's
//! request and response types live in `api/`.

pub mod audit;
pub mod cases;
pub mod citizens;
pub mod committees;
pub mod consents;
pub mod decisions;
pub mod events;
pub mod ledger;
pub mod meetings;
pub mod offers;
pub mod plans;
pub mod retention;
pub mod stats;
pub mod tasks;

/// An opaque list cursor: the id of the last item of the previous page.
pub mod cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use uuid::Uuid;

    use crate::error::AppError;

    pub fn encode(id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(id.as_bytes())
    }

    pub fn decode(cursor: &str) -> Result<Uuid, AppError> {
        URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| Uuid::from_slice(&bytes).ok()).ok_or_else(|| {
            AppError::InvalidCursor(vec![crate::domain::FieldError::new("cursor", "is not a cursor this API returned")])
        })
    }

    /// A follow-up list's position: the date and the case id.
    pub fn encode_follow_up(on: chrono::NaiveDate, id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(format!("{on}/{id}"))
    }

    pub fn decode_follow_up(cursor: &str) -> Result<(chrono::NaiveDate, Uuid), AppError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                let (on, id) = text.split_once('/')?;
                let on: chrono::NaiveDate = on.parse().ok()?;
                // A date this API never wrote (before 1900, after 9999) is no cursor of ours.
                (1900..=9999).contains(&chrono::Datelike::year(&on)).then_some(())?;
                Some((on, Uuid::parse_str(id).ok()?))
            })
            .ok_or_else(|| {
                AppError::InvalidCursor(vec![crate::domain::FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )])
            })
    }

    /// A position in the event feed: (transaction id, event id).
    pub fn encode_feed(txid: i64, id: i64) -> String {
        let mut bytes = txid.to_be_bytes().to_vec();
        bytes.extend(id.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode_feed(cursor: &str) -> Result<(i64, i64), AppError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes.as_slice()).ok())
            .map(|b| {
                let (txid, id) = b.split_at(8);
                (i64::from_be_bytes(txid.try_into().unwrap()), i64::from_be_bytes(id.try_into().unwrap()))
            })
            .ok_or_else(|| {
                AppError::InvalidCursor(vec![crate::domain::FieldError::new(
                    "after",
                    "is not a cursor this API returned",
                )])
            })
    }

    pub fn encode_seq(id: i64) -> String {
        URL_SAFE_NO_PAD.encode(id.to_be_bytes())
    }

    pub fn decode_seq(cursor: &str) -> Result<i64, AppError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map(i64::from_be_bytes)
            .ok_or_else(|| {
                AppError::InvalidCursor(vec![crate::domain::FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )])
            })
    }
}
