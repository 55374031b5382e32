//! Observations: the one check-and-normalise step every observation goes through, whether it
//! comes from [`IndexBuilder::add`](crate::IndexBuilder::add), an update or a CSV file.
//!
//! The first stage of the pipeline. An observation `(account, kind, value, timestamp?)` is
//! accepted when its account name is non-empty, at most [`MAX_ACCOUNT_LEN`] bytes and free of
//! control characters (it is trimmed), its kind name is accepted by the [`Kinds`] registry (an
//! unknown name becomes a custom kind), its timestamp lies in [`MIN_TIME`]`..=`[`MAX_TIME`], and
//! its value normalises under the kind's rule; otherwise an [`ObservationError`] names the field
//! at fault.

use crate::error::ObservationError;
use crate::graph::NO_TIME;
use crate::id::KindId;
use crate::kind::Kinds;
use crate::time::{MAX_TIME, MIN_TIME};

/// The longest account name accepted, in bytes.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// let long = "s".repeat(sellerlink::MAX_ACCOUNT_LEN + 1);
/// assert!(b.add(&long, "email", "a@b.c", None).is_err());
/// ```
pub const MAX_ACCOUNT_LEN: usize = 256;

/// An observation that passed the checks; its canonical value is in the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked<'a> {
    /// The account name, trimmed.
    pub(crate) account: &'a str,
    /// The kind.
    pub(crate) kind: KindId,
    /// The timestamp, or [`NO_TIME`].
    pub(crate) time: i64,
}

/// Checks an observation and writes its canonical value into `value_out`.
pub(crate) fn check<'a>(
    kinds: &mut Kinds,
    account: &'a str,
    kind: &str,
    value: &str,
    time: Option<i64>,
    value_out: &mut String,
) -> Result<Checked<'a>, ObservationError> {
    let account = check_account(account)?;
    let kind = kinds.resolve(kind).map_err(ObservationError::Kind)?;
    check_value(kinds, account, kind, value, time, value_out)
}

/// The rest of [`check`] once the account is checked and the kind resolved (ingest resolves
/// kinds itself, to see new kind names as they come).
pub(crate) fn check_value<'a>(
    kinds: &Kinds,
    account: &'a str,
    kind: KindId,
    value: &str,
    time: Option<i64>,
    value_out: &mut String,
) -> Result<Checked<'a>, ObservationError> {
    let time = match time {
        None => NO_TIME,
        Some(t) if (MIN_TIME..=MAX_TIME).contains(&t) => t,
        Some(_) => return Err(ObservationError::Timestamp("timestamp out of range")),
    };
    kinds
        .normalizer(kind)
        .normalize(value, value_out)
        .map_err(|reason| ObservationError::Value { kind: kinds.name(kind).to_string(), reason })?;
    Ok(Checked { account, kind, time })
}

/// True when `name` is an account name as a build stores it (checked and trimmed already).
pub(crate) fn is_stored_account(name: &str) -> bool {
    check_account(name) == Ok(name)
}

/// Checks and trims an account name.
pub(crate) fn check_account(account: &str) -> Result<&str, ObservationError> {
    let a = account.trim();
    if a.is_empty() {
        return Err(ObservationError::Account("empty account"));
    }
    if a.len() > MAX_ACCOUNT_LEN {
        return Err(ObservationError::Account("account longer than 256 bytes"));
    }
    if a.chars().any(char::is_control) {
        return Err(ObservationError::Account("control character in account"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_checked() {
        let mut kinds = Kinds::new();
        let mut out = String::new();
        let ok = check(&mut kinds, " s1 ", "Device", " FP-1 ", Some(5), &mut out);
        assert_eq!(ok.map(|c| (c.account, c.time)), Ok(("s1", 5)));
        assert_eq!(out, "fp-1");
        let field = |r: Result<Checked<'_>, ObservationError>| r.map_err(|e| e.field().name()).err();
        assert_eq!(field(check(&mut kinds, " ", "device", "x", None, &mut out)), Some("account"));
        assert_eq!(field(check(&mut kinds, "a\u{7}", "device", "x", None, &mut out)), Some("account"));
        assert_eq!(field(check(&mut kinds, "a", "", "x", None, &mut out)), Some("kind"));
        assert_eq!(field(check(&mut kinds, "a", "ip", "x", None, &mut out)), Some("value"));
        assert_eq!(
            field(check(&mut kinds, "a", "ip", "1.2.3.4", Some(i64::MAX), &mut out)),
            Some("timestamp")
        );
    }
}
