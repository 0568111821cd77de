//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the `traceparent` a caller sends,
//! read strictly, and the `traceparent` a webhook delivery carries on.
//!
//! Helhed keeps only the trace id and the sampled flag: the trace id goes on the request's log
//! line and with every event the request writes, so that a receiver's log shows the same trace
//! as the call that caused the event. A header that is not a valid `traceparent` is ignored and
//! a new trace started, as the Recommendation asks; so is one whose trace id holds a CPR number
//! (ten digits beginning with a real date), because a trace id is logged, stored with events and
//! sent to other systems, where no CPR number may go (the rule `X-Request-Id` follows too).

use rand::RngCore;

use crate::domain::cpr::{Cpr, CprError};

/// The trace a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace {
    id: [u8; 16],
    /// The caller's sampled flag (bit 0 of `trace-flags`); a trace Helhed starts is sampled,
    /// since every request's log line records it.
    pub sampled: bool,
}

impl Trace {
    /// The trace of a request: its `traceparent` header when that is valid, else a new one.
    /// `headers` are every `traceparent` header the request carries: more than one is invalid.
    pub fn of_request<'a>(mut headers: impl Iterator<Item = &'a [u8]>) -> Trace {
        let first = headers.next();
        let one = first.filter(|_| headers.next().is_none());
        one.and_then(|h| std::str::from_utf8(h).ok()).and_then(Trace::parse).unwrap_or_else(Trace::start)
    }

    /// Reads a `traceparent` header value; `None` when the Recommendation says to ignore it.
    ///
    /// `version-traceid-parentid-flags`, each lowercase hex: version `00` is exactly 55
    /// characters; a later version may carry more after a further `-`; version `ff`, an
    /// all-zero trace id or parent id are invalid.
    pub fn parse(header: &str) -> Option<Trace> {
        let b = header.as_bytes();
        let lower_hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if b.len() < 55 || !lower_hex(&b[0..2]) || &b[0..2] == b"ff" {
            return None;
        }
        if (&b[0..2] == b"00" && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
            return None;
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let (trace, parent, flags) = (&b[3..35], &b[36..52], &b[53..55]);
        if !lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags) {
            return None;
        }
        if trace.iter().all(|&c| c == b'0') || parent.iter().all(|&c| c == b'0') {
            return None;
        }
        let id: [u8; 16] = hex::decode(trace).ok()?.try_into().ok()?;
        let flags = hex::decode(flags).ok()?[0];
        let trace = Trace { id, sampled: flags & 1 == 1 };
        (!holds_cpr(&trace.id())).then_some(trace)
    }

    /// A new trace, as the root of it.
    pub fn start() -> Trace {
        Trace { id: random_id(), sampled: true }
    }

    /// A trace as stored with an event (`case_events.trace_id`, `trace_sampled`).
    pub fn stored(id: &str, sampled: bool) -> Option<Trace> {
        let id: [u8; 16] = hex::decode(id).ok()?.try_into().ok()?;
        (id != [0; 16]).then_some(Trace { id, sampled })
    }

    /// The trace id: 32 lowercase hex digits.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    /// A `traceparent` for a new request in this trace (a webhook delivery): the trace id and
    /// flags carried on, a new random span id as its parent id.
    pub fn child(&self) -> String {
        let span: [u8; 8] = random_id()[..8].try_into().expect("8 of 16 bytes");
        format!("00-{}-{}-{:02x}", self.id(), hex::encode(span), u8::from(self.sampled))
    }
}

/// 16 random bytes, neither all zero nor holding anything CPR-shaped in their hex form (about
/// one id in 300 is drawn again), so no id Helhed makes can pass for a CPR number either.
fn random_id() -> [u8; 16] {
    loop {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        // A span id is the first half of one, so checking the whole covers it too.
        if id != [0; 16] && !holds_cpr(&hex::encode(id)) {
            return id;
        }
    }
}

/// Whether ten consecutive digits of `text` read as a CPR number with a real birth date. Only a
/// window of ten digits is parsed: the others cannot be one, and every request draws an id.
fn holds_cpr(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).any(|i| {
        bytes[i..i + 10].iter().all(u8::is_ascii_digit)
            && !matches!(Cpr::parse(&text[i..i + 10]), Err(CprError::Format | CprError::Date))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_gives_its_trace_id_and_sampled_flag() {
        let trace = Trace::parse(VALID).unwrap();
        assert_eq!(trace.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(trace.sampled);
        assert!(!Trace::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap().sampled);
        // only bit 0 is the sampled flag
        assert!(!Trace::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02").unwrap().sampled);
        // a later version: more may follow after a dash
        assert!(Trace::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-follows").is_some());
        assert!(Trace::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some());
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // trace id too short
            "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", // too long
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // garbage for 00
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{0}",
            // a CPR number (05-06-78) in the trace id
            "00-0506781234b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // … in its middle and at its end
            "00-4bf92f3b0506781234a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce920506781234-00f067aa0ba902b7-01",
        ] {
            assert_eq!(Trace::parse(bad), None, "{bad:?}");
        }
        // ten digits that are no date are just hex
        assert!(Trace::parse("00-9999991234b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some());
    }

    #[test]
    fn a_request_with_no_or_several_traceparents_starts_a_new_trace() {
        let given = Trace::of_request([VALID.as_bytes()].into_iter());
        assert_eq!(given.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let twice = Trace::of_request([VALID.as_bytes(), VALID.as_bytes()].into_iter());
        assert_ne!(twice.id(), given.id());
        let none = Trace::of_request(std::iter::empty());
        assert!(none.sampled && none.id().len() == 32 && none.id() != Trace::start().id());
    }

    #[test]
    fn a_child_carries_the_trace_with_a_new_span() {
        let trace = Trace::parse(VALID).unwrap();
        let (a, b) = (trace.child(), trace.child());
        assert_ne!(a, b, "a new span id each time");
        let child = Trace::parse(&a).unwrap();
        assert_eq!(child, trace);
        assert!(a.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && a.ends_with("-01"), "{a}");
        let unsampled = Trace::stored("4bf92f3577b34da6a3ce929d0e0e4736", false).unwrap();
        assert!(unsampled.child().ends_with("-00"));
        assert_eq!(Trace::stored("00000000000000000000000000000000", true), None);
    }
}
