//! Log lines no input can forge or fill with a CPR number: every value a line prints goes
//! through [`value`], and the process logger ([`init`]) escapes whole messages once more, so a
//! line written by a library is held to the same rule.
//!
//! Escaped: the backslash and the double quote (so `key="value"` stays one value), every
//! control character (CR, LF, ESC, NEL …), the Unicode line and paragraph separators and the
//! bidirectional overrides that can make a terminal show one line as another. Redacted: any run
//! of digits shaped like a CPR number (`DDMMYYSSSS` or `DDMMYY-SSSS`, not part of a longer run).

use std::fmt::Write as _;
use std::io::Write as _;

/// A value as a log line may print it (`key=value`): escaped, redacted, and in double quotes
/// when it is empty or holds a space, `=` or `"`, so that it cannot pose as another key.
pub fn value(text: &str) -> String {
    let escaped = escape(&redact_cpr(text), true);
    if escaped.is_empty() || escaped.contains([' ', '=', '"']) {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

/// The logger of the `helhed` binary: `RUST_LOG` decides the level (default `info`); every
/// message is escaped and redacted before it is written.
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|out, record| {
            let message = escape(&redact_cpr(&record.args().to_string()), false);
            writeln!(
                out,
                "[{} {:<5} {}] {message}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                record.level(),
                record.target()
            )
        })
        .init();
}

/// Characters that could end a line or disguise one, beyond the control characters: line and
/// paragraph separators, bidirectional controls, and the invisible ones (zero-width space and
/// joiners, word joiner, soft hyphen, BOM) that make one `sub` look like another.
fn disguising(c: char) -> bool {
    matches!(
        c,
        '\u{2028}'
            | '\u{2029}'
            | '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// Escapes what could break or forge a line; with `quotes`, also `\` and `"` (for values).
fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' if quotes => out.push_str("\\\\"),
            '"' if quotes => out.push_str("\\\""),
            c if c.is_control() || disguising(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Replaces every CPR-shaped run of digits with `[cpr]`.
pub fn redact_cpr(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // A CPR number stands on its own: a run glued to letters or digits is part of another
        // token (a UUID's last group, a hash), and redacting it would only break that token.
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let run = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let first = run(i);
        let free = |end: usize| bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        let end = if first == 10 && free(i + 10) {
            Some(i + 10)
        } else if first == 6 && bytes.get(i + 6) == Some(&b'-') && run(i + 7) == 4 && free(i + 11) {
            Some(i + 11)
        } else {
            None
        };
        match end {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += first,
        }
    }
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (from, to) in spans {
        out.push_str(&text[at..from]);
        out.push_str("[cpr]");
        at = to;
    }
    out.push_str(&text[at..]);
    std::borrow::Cow::Owned(out)
}

/// Whether a text holds anything CPR-shaped anywhere (`\d{6}-?\d{4}`, also inside a longer run
/// of digits): the stricter test, for values taken from callers (a request id).
pub fn has_cpr(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit);
    (0..b.len()).any(|i| digits(i, 6) && (digits(i + 6, 4) || (b.get(i + 6) == Some(&b'-') && digits(i + 7, 4))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_a_line() {
        assert_eq!(value("anna\nGET /api/v1/cases 200"), "\"anna\\nGET /api/v1/cases 200\"");
        assert_eq!(value("a\r\u{1b}[31mb"), "a\\r\\u{001b}[31mb");
        assert_eq!(value("a\u{2028}b\u{2029}c\u{85}d"), "a\\u{2028}b\\u{2029}c\\u{0085}d");
        assert_eq!(value("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(value("karen.social\u{200b}"), "karen.social\\u{200b}");
        assert_eq!(value(r#"a" sub="b\"#), r#""a\" sub=\"b\\""#);
        assert_eq!(value("anna request_id=forged"), r#""anna request_id=forged""#);
        assert_eq!(value(""), r#""""#);
        assert_eq!(value("plain-sub_1.x"), "plain-sub_1.x");
    }

    #[test]
    fn cpr_shaped_runs_are_redacted() {
        assert_eq!(redact_cpr("sub=0807840694"), "sub=[cpr]");
        assert_eq!(redact_cpr("080784-0694 and 0101901234."), "[cpr] and [cpr].");
        // Longer or shorter runs are other numbers (durations, uuids, counts).
        assert_eq!(redact_cpr("12345678901 123456789 080784-06945"), "12345678901 123456789 080784-06945");
        assert_eq!(redact_cpr("01a2319a-ca78-718a-aabf-ee0101901234"), "01a2319a-ca78-718a-aabf-ee0101901234");
        assert_eq!(redact_cpr("id=0101901234ab"), "id=0101901234ab");
        assert_eq!(redact_cpr("(0101901234)"), "([cpr])");
        assert!(has_cpr("x0101901234"));
        assert!(has_cpr("req-12345678901"));
        assert!(has_cpr("080784-0694"));
        assert!(!has_cpr("0194e7c2-8f3b-7000-8000-0a0b0c0d0e0f"));
        assert!(!redact_cpr("0194e7c2-8f3b-7000-8000-000000000000").contains("[cpr]"));
    }
}
