//! The renderings people read, as pure functions from a view to text: no database, no HTTP.

pub mod danish;
pub mod minutes;
