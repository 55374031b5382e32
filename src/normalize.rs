//! Normalisation: one canonical string per real-world identifier, per kind.
//!
//! The same router written `A4-2B-B0-12-34-56`, `a4:2b:b0:12:34:56` or `a42bb0123456` must be one
//! artifact, or linking misses it; a placeholder such as `unknown` or `00:00:00:00:00:00` must
//! not become one artifact shared by thousands, or linking fuses strangers. This module owns those
//! rules. Each [`Normalizer`] writes the canonical form into a caller's buffer (no allocation per
//! value on the ingest hot path) or rejects the value with an [`InvalidValue`] reason.
//!
//! | normaliser | used by | rule |
//! |---|---|---|
//! | [`Normalizer::Text`] | `device`, custom kinds | trim, fold case, collapse inner whitespace to one space |
//! | [`Normalizer::Mac`] | `wifi` | drop `:` `-` `.` and spaces; 12 hex digits; lowercase `aa:bb:cc:dd:ee:ff` |
//! | [`Normalizer::Ip`] | `ip` | IPv4 or IPv6 (brackets allowed); IPv4-mapped IPv6 becomes IPv4; RFC 5952 text |
//! | [`Normalizer::Phone`] | `phone` | drop spaces, `-` `.` `/` `(` `)` and a trunk `(0)`; `+` or `00` prefix means international, written `+digits`; 6 to 15 digits |
//! | [`Normalizer::Email`] | `email` | trim, fold case; one `@`, both sides non-empty, no whitespace |
//! | [`Normalizer::Document`] | `id_document`, `payment` | drop spaces and dashes, fold case (to upper) |
//! | [`Normalizer::Address`] | `address` | fold case, punctuation to spaces, collapse whitespace |
//!
//! Every normaliser first rejects empty values, control characters (tab aside), values over
//! [`MAX_VALUE_LEN`] bytes and the placeholders in [`PLACEHOLDERS`] (`unknown`, `null`, `n/a`, ...)
//! that real exports use for "missing". A national phone number (no `+` or `00`) is kept as its
//! digits: without a country it cannot be folded into the international form, so
//! `138 0013 8000` and `+86 138 0013 8000` stay two artifacts.
//!
//! Every normaliser is idempotent: normalising a canonical value gives it back.

use core::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Values longer than this many bytes are rejected (no real identifier is this long, and a
/// multi-megabyte "value" is a broken export, not evidence).
///
/// # Examples
///
/// ```
/// use sellerlink::normalize::{MAX_VALUE_LEN, Normalizer};
/// let mut out = String::new();
/// assert!(Normalizer::Text.normalize(&"x".repeat(MAX_VALUE_LEN + 1), &mut out).is_err());
/// ```
pub const MAX_VALUE_LEN: usize = 1024;

/// Values that exports write for "missing"; they are rejected rather than interned, because one
/// placeholder artifact would be shared by every account that lacks the field.
///
/// # Examples
///
/// ```
/// use sellerlink::normalize::{PLACEHOLDERS, Normalizer};
/// let mut out = String::new();
/// assert!(PLACEHOLDERS.iter().all(|p| Normalizer::Text.normalize(p, &mut out).is_err()));
/// ```
pub const PLACEHOLDERS: &[&str] =
    &["unknown", "null", "none", "nil", "n/a", "na", "-", "--", "?", "undefined", "0"];

/// Why a value is not valid for its kind.
///
/// # Examples
///
/// ```
/// use sellerlink::normalize::Normalizer;
/// let mut out = String::new();
/// let err = Normalizer::Ip.normalize("not-an-ip", &mut out).unwrap_err();
/// assert_eq!(err.reason(), "not an IPv4 or IPv6 address");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InvalidValue {
    reason: Reason,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Reason {
    Static(&'static str),
    Owned(String),
}

impl InvalidValue {
    /// An invalid-value error with a fixed reason.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::InvalidValue;
    /// assert_eq!(InvalidValue::new("too short").reason(), "too short");
    /// ```
    pub const fn new(reason: &'static str) -> Self {
        Self { reason: Reason::Static(reason) }
    }

    /// An invalid-value error with a reason built at run time (custom normalisers).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::InvalidValue;
    /// assert_eq!(InvalidValue::owned(format!("{} digits", 3)).reason(), "3 digits");
    /// ```
    pub fn owned(reason: String) -> Self {
        Self { reason: Reason::Owned(reason) }
    }

    /// The reason, in lowercase words.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// let mut out = String::new();
    /// let err = Normalizer::Text.normalize("   ", &mut out).unwrap_err();
    /// assert_eq!(err.reason(), "empty value");
    /// ```
    pub fn reason(&self) -> &str {
        match &self.reason {
            Reason::Static(s) => s,
            Reason::Owned(s) => s,
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for InvalidValue {}

/// The signature of a user-supplied normaliser: raw value in, canonical value out.
///
/// # Examples
///
/// See [`Normalizer::custom`].
pub type CustomFn = dyn Fn(&str) -> Result<String, InvalidValue> + Send + Sync;

/// A per-kind normalisation rule. See the [module docs](self) for the rules.
///
/// # Examples
///
/// ```
/// use sellerlink::normalize::Normalizer;
/// let mut out = String::new();
/// for raw in ["A4-2B-B0-12-34-56", "a4:2b:b0:12:34:56", "a42bb0123456"] {
///     Normalizer::Mac.normalize(raw, &mut out)?;
///     assert_eq!(out, "a4:2b:b0:12:34:56");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Normalizer {
    /// Trim, fold case, collapse inner whitespace.
    Text,
    /// A MAC address or Wi-Fi BSSID.
    Mac,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A phone number.
    Phone,
    /// An email address.
    Email,
    /// An identity document, card or account number.
    Document,
    /// A postal address.
    Address,
    /// A user-supplied rule, with a name for reports and snapshots.
    Custom(Arc<str>, Arc<CustomFn>),
}

impl fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Normalizer {
    /// Wraps a closure as a named custom normaliser.
    ///
    /// The closure receives the raw value after the common checks (trimmed, non-empty, no control
    /// characters, not a placeholder).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::{InvalidValue, Normalizer};
    /// let digits = Normalizer::custom("digits", |raw| {
    ///     let d: String = raw.chars().filter(char::is_ascii_digit).collect();
    ///     if d.is_empty() { Err(InvalidValue::new("no digits")) } else { Ok(d) }
    /// });
    /// let mut out = String::new();
    /// digits.normalize("DOB 1990-01-02", &mut out)?;
    /// assert_eq!(out, "19900102");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom(
        name: &str,
        f: impl Fn(&str) -> Result<String, InvalidValue> + Send + Sync + 'static,
    ) -> Self {
        Normalizer::Custom(Arc::from(name), Arc::new(f))
    }

    /// The rule's name (`text`, `mac`, `ip`, ... or the custom name).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// assert_eq!(Normalizer::Phone.name(), "phone");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Normalizer::Text => "text",
            Normalizer::Mac => "mac",
            Normalizer::Ip => "ip",
            Normalizer::Phone => "phone",
            Normalizer::Email => "email",
            Normalizer::Document => "document",
            Normalizer::Address => "address",
            Normalizer::Custom(name, _) => name,
        }
    }

    /// Every built-in normaliser, in a fixed order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// let all = Normalizer::builtins();
    /// let names: Vec<&str> = all.iter().map(|n| n.name()).collect();
    /// assert_eq!(names, ["text", "mac", "ip", "phone", "email", "document", "address"]);
    /// ```
    pub fn builtins() -> [Normalizer; 7] {
        [
            Normalizer::Text,
            Normalizer::Mac,
            Normalizer::Ip,
            Normalizer::Phone,
            Normalizer::Email,
            Normalizer::Document,
            Normalizer::Address,
        ]
    }

    /// The built-in normaliser of this name, if any (the inverse of [`Normalizer::name`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// assert_eq!(Normalizer::builtin("mac").map(|n| n.name().to_string()), Some("mac".into()));
    /// assert!(Normalizer::builtin("nope").is_none());
    /// ```
    pub fn builtin(name: &str) -> Option<Normalizer> {
        Some(match name {
            "text" => Normalizer::Text,
            "mac" => Normalizer::Mac,
            "ip" => Normalizer::Ip,
            "phone" => Normalizer::Phone,
            "email" => Normalizer::Email,
            "document" => Normalizer::Document,
            "address" => Normalizer::Address,
            _ => return None,
        })
    }

    /// Writes the canonical form of `raw` into `out` (cleared first).
    ///
    /// # Errors
    ///
    /// Returns [`InvalidValue`] when `raw` is empty, a placeholder, too long, contains control
    /// characters, or is not valid for the rule (an `ip` that is no IP address, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// let mut out = String::new();
    /// Normalizer::Ip.normalize("::ffff:192.0.2.1", &mut out)?;
    /// assert_eq!(out, "192.0.2.1");
    /// Normalizer::Phone.normalize("008613800138000", &mut out)?;
    /// assert_eq!(out, "+8613800138000");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn normalize(&self, raw: &str, out: &mut String) -> Result<(), InvalidValue> {
        out.clear();
        let v = precheck(raw)?;
        let result = match self {
            Normalizer::Text => text(v, out),
            Normalizer::Mac => mac(v, out),
            Normalizer::Ip => ip(v, out),
            Normalizer::Phone => phone(v, out),
            Normalizer::Email => email(v, out),
            Normalizer::Document => document(v, out),
            Normalizer::Address => address(v, out),
            Normalizer::Custom(_, f) => {
                let s = f(v)?;
                if s.is_empty() {
                    return Err(InvalidValue::new("custom normaliser returned an empty value"));
                }
                out.push_str(&s);
                Ok(())
            }
        };
        // A value that normalises to a placeholder ("-0" to "0") is one too; this also keeps
        // every rule idempotent.
        if result.is_ok() && is_placeholder(out) {
            out.clear();
            return Err(InvalidValue::new("placeholder for a missing value"));
        }
        // Case folding can grow a value (`Ⱦ` is 2 bytes, `ⱦ` 3): the limit holds for the
        // canonical form too, or the rule would refuse its own output.
        if result.is_ok() && out.len() > MAX_VALUE_LEN {
            out.clear();
            return Err(InvalidValue::new("value longer than 1024 bytes"));
        }
        result
    }
}

fn is_placeholder(v: &str) -> bool {
    v.len() <= 9 && PLACEHOLDERS.iter().any(|p| v.eq_ignore_ascii_case(p))
}

/// Common checks: trim, length, control characters, placeholders.
fn precheck(raw: &str) -> Result<&str, InvalidValue> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(InvalidValue::new("empty value"));
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(InvalidValue::new("value longer than 1024 bytes"));
    }
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(InvalidValue::new("control character in value"));
    }
    if is_placeholder(v) {
        return Err(InvalidValue::new("placeholder for a missing value"));
    }
    Ok(v)
}

fn push_lower(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

fn text(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    let mut space = false;
    for c in v.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        push_lower(c, out);
    }
    Ok(())
}

fn mac(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    let mut digits = [0u8; 12];
    let mut n = 0;
    for b in v.bytes() {
        match b {
            b':' | b'-' | b'.' | b' ' => {}
            _ if b.is_ascii_hexdigit() => {
                if n == 12 {
                    return Err(InvalidValue::new("more than 12 hex digits in a MAC address"));
                }
                digits[n] = b.to_ascii_lowercase();
                n += 1;
            }
            _ => return Err(InvalidValue::new("not a MAC address")),
        }
    }
    if n != 12 {
        return Err(InvalidValue::new("a MAC address has 12 hex digits"));
    }
    if digits.iter().all(|&d| d == b'0') || digits.iter().all(|&d| d == b'f') {
        return Err(InvalidValue::new("placeholder MAC address"));
    }
    for (i, pair) in digits.chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(pair[0] as char);
        out.push(pair[1] as char);
    }
    Ok(())
}

fn ip(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    use std::fmt::Write;
    let inner = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    let addr: IpAddr = inner.parse().map_err(|_| InvalidValue::new("not an IPv4 or IPv6 address"))?;
    let addr = match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    if addr.is_unspecified() {
        return Err(InvalidValue::new("unspecified address"));
    }
    // Writing to a String cannot fail.
    let _ = write!(out, "{addr}");
    Ok(())
}

fn phone(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    // Separators (and a trunk "(0)" after a country code) go first; the international prefix
    // is read from what remains, so the rule is idempotent on its own output.
    let plus = v.starts_with('+');
    let mut cleaned = String::with_capacity(v.len());
    let mut rest = v.strip_prefix('+').unwrap_or(v);
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("(0)") && (plus || cleaned.starts_with("00")) && !cleaned.is_empty() {
            rest = &rest[3..];
            continue;
        }
        match c {
            '0'..='9' => cleaned.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return Err(InvalidValue::new("not a phone number")),
        }
        rest = &rest[c.len_utf8()..];
    }
    let (international, digits) = match cleaned.strip_prefix("00") {
        _ if plus => (true, cleaned.as_str()),
        Some(d) => (true, d),
        None => (false, cleaned.as_str()),
    };
    if !(6..=15).contains(&digits.len()) {
        return Err(InvalidValue::new("a phone number has 6 to 15 digits"));
    }
    if international {
        if digits.starts_with('0') {
            return Err(InvalidValue::new("country code cannot start with 0"));
        }
        out.push('+');
    }
    out.push_str(digits);
    Ok(())
}

fn email(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    if v.chars().any(char::is_whitespace) {
        return Err(InvalidValue::new("whitespace in an email address"));
    }
    let (local, domain) = v.split_once('@').ok_or(InvalidValue::new("an email address has an @"))?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(InvalidValue::new("an email address is local@domain"));
    }
    for c in v.chars() {
        push_lower(c, out);
    }
    Ok(())
}

fn document(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    for c in v.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.extend(c.to_uppercase());
        }
    }
    if out.is_empty() {
        return Err(InvalidValue::new("only separators"));
    }
    Ok(())
}

fn address(v: &str, out: &mut String) -> Result<(), InvalidValue> {
    // Fold case first, then classify: lowercasing can produce marks that are not alphanumeric
    // (`İ` becomes `i` and a combining dot), and classifying after folding keeps the rule
    // idempotent.
    let mut space = false;
    for c in v.chars().flat_map(char::to_lowercase) {
        if !c.is_alphanumeric() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    if out.is_empty() {
        return Err(InvalidValue::new("only punctuation"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(norm: &Normalizer, raw: &str) -> Result<String, InvalidValue> {
        let mut out = String::new();
        norm.normalize(raw, &mut out).map(|()| out)
    }

    #[test]
    fn common_checks() {
        for norm in [Normalizer::Text, Normalizer::Document, Normalizer::Address] {
            assert_eq!(n(&norm, "").unwrap_err().reason(), "empty value");
            assert_eq!(n(&norm, " \t ").unwrap_err().reason(), "empty value");
            assert_eq!(n(&norm, "UNKNOWN").unwrap_err().reason(), "placeholder for a missing value");
            assert_eq!(n(&norm, "N/A").unwrap_err().reason(), "placeholder for a missing value");
            assert_eq!(n(&norm, "a\u{0}b").unwrap_err().reason(), "control character in value");
            assert!(n(&norm, &"x".repeat(MAX_VALUE_LEN + 1)).is_err());
            assert!(n(&norm, &"x".repeat(MAX_VALUE_LEN)).is_ok());
        }
        // Found by fuzzing: folding can push a value past the limit; it is refused up front.
        assert!(n(&Normalizer::Text, &"Ⱦ".repeat(400)).is_err());
        assert!(n(&Normalizer::Document, &"ŉ".repeat(400)).is_err());
    }

    #[test]
    fn text_rule() {
        assert_eq!(n(&Normalizer::Text, "  Dev  Fp\tXYZ ").unwrap(), "dev fp xyz");
        assert_eq!(n(&Normalizer::Text, "ÄBC").unwrap(), "äbc");
    }

    #[test]
    fn mac_rule() {
        for raw in ["A4-2B-B0-12-34-56", "a4:2b:b0:12:34:56", "a42bb0123456", "a42b.b012.3456"] {
            assert_eq!(n(&Normalizer::Mac, raw).unwrap(), "a4:2b:b0:12:34:56");
        }
        assert!(n(&Normalizer::Mac, "a4:2b:b0:12:34").is_err());
        assert!(n(&Normalizer::Mac, "a4:2b:b0:12:34:56:78").is_err());
        assert!(n(&Normalizer::Mac, "g4:2b:b0:12:34:56").is_err());
        assert_eq!(n(&Normalizer::Mac, "00:00:00:00:00:00").unwrap_err().reason(), "placeholder MAC address");
        assert!(n(&Normalizer::Mac, "FF-FF-FF-FF-FF-FF").is_err());
    }

    #[test]
    fn ip_rule() {
        assert_eq!(n(&Normalizer::Ip, " 192.0.2.1 ").unwrap(), "192.0.2.1");
        assert_eq!(n(&Normalizer::Ip, "::ffff:192.0.2.1").unwrap(), "192.0.2.1");
        assert_eq!(n(&Normalizer::Ip, "::FFFF:C000:0201").unwrap(), "192.0.2.1");
        assert_eq!(n(&Normalizer::Ip, "2001:0DB8:0000:0000:0000:0000:0000:0001").unwrap(), "2001:db8::1");
        assert_eq!(n(&Normalizer::Ip, "[2001:db8::1]").unwrap(), "2001:db8::1");
        assert!(n(&Normalizer::Ip, "300.1.1.1").is_err());
        assert!(n(&Normalizer::Ip, "example.com").is_err());
        assert_eq!(n(&Normalizer::Ip, "0.0.0.0").unwrap_err().reason(), "unspecified address");
        assert!(n(&Normalizer::Ip, "::").is_err());
    }

    #[test]
    fn phone_rule() {
        for raw in ["+86 138 0013 8000", "008613800138000", "+86-138-0013-8000", "+86 (138) 0013.8000"] {
            assert_eq!(n(&Normalizer::Phone, raw).unwrap(), "+8613800138000");
        }
        assert_eq!(n(&Normalizer::Phone, "+44 (0)20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(n(&Normalizer::Phone, "138 0013 8000").unwrap(), "13800138000");
        assert!(n(&Normalizer::Phone, "+86 138 abc").is_err());
        assert!(n(&Normalizer::Phone, "12345").is_err());
        assert!(n(&Normalizer::Phone, "+1234567890123456").is_err());
        assert!(n(&Normalizer::Phone, "+0 123 456 789").is_err());
        // Found by fuzzing: the prefix is read after separators go, so these are stable.
        assert!(n(&Normalizer::Phone, "0 00000").is_err());
        assert_eq!(n(&Normalizer::Phone, "0 0123456").unwrap(), "+123456");
        assert_eq!(n(&Normalizer::Phone, "+123456").unwrap(), "+123456");
    }

    #[test]
    fn email_rule() {
        assert_eq!(n(&Normalizer::Email, "  Ann.Lee@Example.COM ").unwrap(), "ann.lee@example.com");
        assert!(n(&Normalizer::Email, "ann.lee").is_err());
        assert!(n(&Normalizer::Email, "@example.com").is_err());
        assert!(n(&Normalizer::Email, "ann@").is_err());
        assert!(n(&Normalizer::Email, "a@b@c").is_err());
        assert!(n(&Normalizer::Email, "ann lee@example.com").is_err());
    }

    #[test]
    fn document_rule() {
        assert_eq!(n(&Normalizer::Document, "ab 12-34 cd").unwrap(), "AB1234CD");
        assert_eq!(n(&Normalizer::Document, "4111-1111 1111-1111").unwrap(), "4111111111111111");
        assert_eq!(n(&Normalizer::Document, "- -").unwrap_err().reason(), "only separators");
    }

    #[test]
    fn address_rule() {
        assert_eq!(n(&Normalizer::Address, "  12, Main St.   Unit #4 ").unwrap(), "12 main st unit 4");
        assert_eq!(n(&Normalizer::Address, "12 MAIN ST UNIT 4").unwrap(), "12 main st unit 4");
        assert!(n(&Normalizer::Address, ".,;!").is_err());
        // Found by fuzzing: folding `İ` yields a combining mark, which separates.
        let once = n(&Normalizer::Address, "İ").unwrap();
        assert_eq!(n(&Normalizer::Address, &once).unwrap(), once);
    }

    #[test]
    fn custom_rule() {
        let c = Normalizer::custom("rev", |s| Ok(s.chars().rev().collect()));
        assert_eq!(n(&c, " abc ").unwrap(), "cba");
        assert_eq!(c.name(), "rev");
        let empty = Normalizer::custom("empty", |_| Ok(String::new()));
        assert!(n(&empty, "x").is_err());
    }
}
