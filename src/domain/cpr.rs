//! CPR numbers (*personnummer*): parsing, the birth date with the century rule, and age.
//!
//! A CPR number is sensitive personal data. [`Cpr`] never prints its digits through `Debug`,
//! so a stray `{:?}` in a log line cannot leak one.

use chrono::{Datelike, NaiveDate};

/// A syntactically valid CPR number with a real birth date. No modulus-11 check: numbers
/// issued since 2007 need not pass it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cpr {
    digits: String,
    birth_date: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CprError {
    #[error("must be 10 digits, optionally as DDMMYY-SSSS")]
    Format,
    #[error("does not start with a real date")]
    Date,
    #[error("gives a birth date that has not come yet")]
    Unborn,
    #[error("gives a birth date before 1900, which this service does not take")]
    Before1900,
}

impl Cpr {
    pub fn parse(input: &str) -> Result<Cpr, CprError> {
        let digits: String = match input.len() {
            10 => input.to_string(),
            11 if input.as_bytes()[6] == b'-' => format!("{}{}", &input[..6], &input[7..]),
            _ => return Err(CprError::Format),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CprError::Format);
        }
        let num = |range: std::ops::Range<usize>| digits[range].parse::<u32>().expect("digits");
        let (day, month, yy, seventh) = (num(0..2), num(2..4), num(4..6), num(6..7));
        let year = century(seventh, yy) + yy as i32;
        let birth_date = NaiveDate::from_ymd_opt(year, month, day).ok_or(CprError::Date)?;
        Ok(Cpr { digits, birth_date })
    }

    /// [`Cpr::parse`], for a person registered `today`: the birth date may not lie after it
    /// (0101305000 reads as 1 January 2030), nor before 1900, the first date the service takes
    /// anywhere (the rule reads 2709896631 as 1889: nobody alive).
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Cpr, CprError> {
        let cpr = Cpr::parse(input)?;
        if cpr.birth_date > today {
            return Err(CprError::Unborn);
        }
        if chrono::Datelike::year(&cpr.birth_date) < 1900 {
            return Err(CprError::Before1900);
        }
        Ok(cpr)
    }

    /// The ten digits, without a hyphen: the stored form.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }
}

impl std::fmt::Debug for Cpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cpr(**********)")
    }
}

/// The century of the birth year, from the 7th digit (the first of the serial number) and the
/// two-digit year, as the CPR office defines it.
fn century(seventh: u32, yy: u32) -> i32 {
    match (seventh, yy) {
        (0..=3, _) => 1900,
        (4 | 9, 0..=36) => 2000,
        (4 | 9, _) => 1900,
        (5..=8, 0..=57) => 2000,
        (5..=8, _) => 1800,
        _ => unreachable!("a single digit"),
    }
}

/// Whole years of age on `on`.
pub fn age_on(birth_date: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth_date.year();
    if (on.month(), on.day()) < (birth_date.month(), birth_date.day()) {
        age -= 1;
    }
    age
}

/// The day someone born on `birth_date` turns `years`: the same date, or 1 March for a 29
/// February in a year without one (the first day [`age_on`] counts the new age).
pub fn birthday(birth_date: NaiveDate, years: i32) -> NaiveDate {
    let year = birth_date.year() + years;
    birth_date.with_year(year).or_else(|| NaiveDate::from_ymd_opt(year, 3, 1)).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_birth_date_still_to_come_is_no_cpr_number() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(matches!(Cpr::parse_on("0101305000", today), Err(CprError::Unborn)));
        assert!(Cpr::parse_on("0112264000", today).is_ok(), "born today");
        assert!(matches!(Cpr::parse_on("0212264000", today), Err(CprError::Unborn)));
        assert!(matches!(Cpr::parse_on("2709896631", today), Err(CprError::Before1900)));
        assert!(Cpr::parse_on("0101003999", today).is_ok(), "1 January 1900");
    }

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn century_rule_table() {
        // (cpr, birth date) — one row per branch of the rule and its edges
        let cases = [
            ("0101901234", date(1990, 1, 1)),
            ("0101003999", date(1900, 1, 1)),
            ("0101364000", date(2036, 1, 1)),
            ("0101374000", date(1937, 1, 1)),
            ("0101005000", date(2000, 1, 1)),
            ("0101575999", date(2057, 1, 1)),
            ("0101585000", date(1858, 1, 1)),
            ("3112998999", date(1899, 12, 31)),
            ("0101369000", date(2036, 1, 1)),
            ("0101379999", date(1937, 1, 1)),
            ("010190-1234", date(1990, 1, 1)),
        ];
        for (input, expected) in cases {
            assert_eq!(Cpr::parse(input).unwrap().birth_date(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_bad_forms_and_dates() {
        for input in ["", "123456789", "01019012345", "0101-901234", "01019O1234", "010190 1234", "٠١٠١٩٠١٢٣٤"]
        {
            assert_eq!(Cpr::parse(input), Err(CprError::Format), "{input:?}");
        }
        for input in ["3102901234", "0013901234", "0001901234", "2902014000", "2902004000x"] {
            assert!(Cpr::parse(input).is_err(), "{input:?}");
        }
        // 29 February exists in 2000 (7th digit 4, yy 00) but not in 1900
        assert_eq!(Cpr::parse("2902004000").unwrap().birth_date(), date(2000, 2, 29));
        assert_eq!(Cpr::parse("2902001000"), Err(CprError::Date));
    }

    #[test]
    fn debug_never_shows_digits() {
        let cpr = Cpr::parse("0101901234").unwrap();
        assert!(!format!("{cpr:?}").contains("0101"));
        assert_eq!(cpr.digits(), "0101901234");
    }

    #[test]
    fn age_counts_whole_years() {
        let born = date(2008, 6, 15);
        assert_eq!(age_on(born, date(2026, 6, 14)), 17);
        assert_eq!(age_on(born, date(2026, 6, 15)), 18);
        assert_eq!(age_on(date(2000, 2, 29), date(2015, 2, 28)), 14);
        assert_eq!(age_on(date(2000, 2, 29), date(2015, 3, 1)), 15);
    }
}
