//! The renderings people read, as pure functions from a view to text: no database, no HTTP.

pub mod citizen_copy;
pub mod danish;
pub mod document;
pub mod fhir;
pub mod minutes;
pub mod pdf;
