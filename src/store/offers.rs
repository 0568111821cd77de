//! The offers catalog (tilbud og indsatsmuligheder).

use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::offers;

/// Which of `ids` name an offer in the catalog.
pub fn existing(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    offers::table.filter(offers::id.eq_any(ids)).select(offers::id).load(conn)
}
