//! The offers catalog (tilbud og indsatsmuligheder).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::offers;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = offers)]
pub struct Offer {
    pub id: Uuid,
    pub name: String,
    pub department: String,
    pub category: String,
    pub description: Option<String>,
    pub track: String,
    pub unit_cost_ore: Option<i64>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewOffer<'a> {
    pub name: &'a str,
    pub department: &'a str,
    pub category: &'a str,
    pub description: Option<&'a str>,
    pub track: &'a str,
    pub unit_cost_ore: Option<i64>,
    pub active: bool,
}

/// A change; `None` leaves a field as it is (`Some(None)` clears a nullable one).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = offers)]
pub struct OfferChange {
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<Option<String>>,
    pub track: Option<String>,
    pub unit_cost_ore: Option<Option<i64>>,
    pub active: Option<bool>,
}

pub struct OfferFilter {
    /// Every word must appear in the name or the description.
    pub words: Vec<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub track: Option<String>,
    pub active: bool,
}

/// Which of `ids` name an offer in the catalog.
pub fn existing(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    offers::table.filter(offers::id.eq_any(ids)).select(offers::id).load(conn)
}

pub fn create(conn: &mut PgConnection, o: &NewOffer) -> QueryResult<Offer> {
    diesel::insert_into(offers::table)
        .values((
            offers::id.eq(Uuid::now_v7()),
            offers::name.eq(o.name),
            offers::department.eq(o.department),
            offers::category.eq(o.category),
            offers::description.eq(o.description),
            offers::track.eq(o.track),
            offers::unit_cost_ore.eq(o.unit_cost_ore),
            offers::active.eq(o.active),
        ))
        .returning(Offer::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Offer>> {
    offers::table.find(id).select(Offer::as_select()).first(conn).optional()
}

pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Offer>> {
    offers::table.find(id).select(Offer::as_select()).for_update().first(conn).optional()
}

pub fn update(conn: &mut PgConnection, id: Uuid, change: &OfferChange) -> QueryResult<Offer> {
    diesel::update(offers::table.find(id))
        .set((change, offers::version.eq(offers::version + 1), offers::updated_at.eq(diesel::dsl::now)))
        .returning(Offer::as_returning())
        .get_result(conn)
}

/// Escapes LIKE's wildcards, so a search for `50%` finds "50%".
fn like_pattern(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub fn search(conn: &mut PgConnection, f: &OfferFilter, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Offer>> {
    let mut query = offers::table.filter(offers::active.eq(f.active)).into_boxed();
    for word in &f.words {
        let pattern = like_pattern(word);
        query =
            query.filter(offers::name.ilike(pattern.clone()).or(offers::description.ilike(pattern).assume_not_null()));
    }
    if let Some(department) = &f.department {
        query = query.filter(offers::department.eq(department.clone()));
    }
    if let Some(category) = &f.category {
        query = query.filter(offers::category.eq(category.clone()));
    }
    if let Some(track) = &f.track {
        query = query.filter(offers::track.eq(track.clone()).or(offers::track.eq("both")));
    }
    if let Some(after) = after {
        query = query.filter(offers::id.gt(after));
    }
    query.order(offers::id.asc()).limit(limit).select(Offer::as_select()).load(conn)
}
