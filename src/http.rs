//! The outgoing HTTP client's settings, shared by everything that calls out: the key fetches
//! from identity providers and the webhook deliveries (which add their own DNS guard).

use std::time::Duration;

/// The longest any outgoing request may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A blocking client (used only off the actix workers): 5 s in all, no redirects (a 3xx could
/// lead anywhere, past every check of the first address), and Helhed's name as user agent.
pub fn client_builder() -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("helhed/", env!("CARGO_PKG_VERSION")))
}
