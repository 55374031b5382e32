//! Timestamps: unix seconds or RFC 3339 text to `i64` unix seconds, range-checked.
//!
//! Accepted: an integer number of unix seconds (optionally signed), or RFC 3339 /
//! ISO 8601 date-times `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space may stand for `T`;
//! the fraction is truncated), or a bare date `YYYY-MM-DD` (midnight UTC). Years 0001 to 9999.

/// The earliest accepted timestamp, 0001-01-01T00:00:00Z.
///
/// # Examples
///
/// ```
/// use sellerlink::time::{MIN_TIME, format_rfc3339};
/// assert_eq!(format_rfc3339(MIN_TIME), "0001-01-01T00:00:00Z");
/// ```
pub const MIN_TIME: i64 = -62_135_596_800;
/// The latest accepted timestamp, 9999-12-31T23:59:59Z.
///
/// # Examples
///
/// ```
/// use sellerlink::time::{MAX_TIME, format_rfc3339};
/// assert_eq!(format_rfc3339(MAX_TIME), "9999-12-31T23:59:59Z");
/// ```
pub const MAX_TIME: i64 = 253_402_300_799;

/// Parses a timestamp; see the [module docs](self).
///
/// # Errors
///
/// A short reason when the text is neither form or is out of range.
///
/// # Examples
///
/// ```
/// use sellerlink::time::parse_timestamp;
/// assert_eq!(parse_timestamp("1700000000"), Ok(1_700_000_000));
/// assert_eq!(parse_timestamp("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
/// assert_eq!(parse_timestamp("2023-11-15T00:13:20+02:00"), Ok(1_700_000_000));
/// assert!(parse_timestamp("yesterday").is_err());
/// ```
pub fn parse_timestamp(text: &str) -> Result<i64, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty timestamp");
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = t.parse().map_err(|_| "timestamp out of range")?;
        return if (MIN_TIME..=MAX_TIME).contains(&v) { Ok(v) } else { Err("timestamp out of range") };
    }
    rfc3339(t).ok_or("not unix seconds or an RFC 3339 date-time")
}

fn num(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let s = b.get(at..at + len)?;
    s.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

fn rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let (y, mo, d) = (num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=9999).contains(&y) || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return Some(days * 86_400);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (h, mi, s) = (num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (num(b, i + 1, 2)?, num(b, i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let v = days * 86_400 + h * 3600 + mi * 60 + s.min(59) - offset;
    (MIN_TIME..=MAX_TIME).contains(&v).then_some(v)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Formats unix seconds as RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SSZ`), the inverse of
/// [`parse_timestamp`] within its range.
///
/// # Examples
///
/// ```
/// use sellerlink::time::{format_rfc3339, parse_timestamp};
/// assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
/// assert_eq!(parse_timestamp(&format_rfc3339(-1)), Ok(-1));
/// ```
pub fn format_rfc3339(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01 (Howard
/// Hinnant's algorithm).
///
/// # Examples
///
/// ```
/// use sellerlink::time::{civil_from_days, days_from_civil};
/// assert_eq!(civil_from_days(0), (1970, 1, 1));
/// assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
/// ```
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink::time::days_from_civil(1970, 1, 2), 1);
/// ```
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_timestamp("0"), Ok(0));
        assert_eq!(parse_timestamp("-86400"), Ok(-86_400));
        assert_eq!(parse_timestamp("1970-01-01"), Ok(0));
        assert_eq!(parse_timestamp("1970-01-02 00:00:00Z"), Ok(86_400));
        assert_eq!(parse_timestamp("2000-02-29T12:00:00.123456Z"), Ok(951_825_600));
        assert_eq!(parse_timestamp("0001-01-01T00:00:00Z"), Ok(MIN_TIME));
        assert_eq!(parse_timestamp("9999-12-31T23:59:59Z"), Ok(MAX_TIME));
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "2001-02-29",
            "2023-13-01",
            "2023-01-01T25:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00+0200",
            "99999999999999999999",
            "253402300800",
            "1e9",
            "2023-01-01T00:00:00.Z",
            "2023-1-01",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} accepted");
        }
    }
}
