//! Kinds: the registry of artifact kinds, their names and normalisers.
//!
//! Eight kinds are built in (`device`, `wifi`, `ip`, `id_document`, `phone`, `email`, `payment`,
//! `address`); any other name a user or a CSV file uses becomes a custom kind on first sight,
//! normalised with [`Normalizer::Text`] unless the user registered another rule. Kind names are
//! trimmed and folded to lowercase, so `Device` and `device` are one kind.

use crate::id::KindId;
use crate::normalize::Normalizer;

/// What the default linking policy assumes of a kind before it has seen any data: strength,
/// hub cap, time window, evidence weight and evidence group (see [`crate::policy`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Prior {
    pub(crate) strong: bool,
    pub(crate) cap: u32,
    pub(crate) window_secs: Option<u64>,
    pub(crate) weight: f64,
    pub(crate) group: Option<&'static str>,
}

/// A built-in kind: its name, its normaliser's name and its prior.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    pub(crate) normalizer: &'static str,
    pub(crate) prior: Prior,
}

const DAY: u64 = 24 * 3600;

const fn builtin(
    name: &'static str,
    normalizer: &'static str,
    strong: bool,
    cap: u32,
    window_secs: Option<u64>,
    weight: f64,
    group: Option<&'static str>,
) -> Builtin {
    Builtin { name, normalizer, prior: Prior { strong, cap, window_secs, weight, group } }
}

/// The built-in kinds, in [`KindId`] order: the one list of them. The reasoning behind each
/// prior is in the [`crate::policy`] docs.
pub(crate) const BUILTINS: [Builtin; 8] = [
    builtin("device", "text", true, NO_CAP, None, 1.0, None),
    builtin("wifi", "mac", false, NO_CAP, None, 0.5, Some("network")),
    builtin("ip", "ip", false, NO_CAP, Some(DAY), 0.3, Some("network")),
    builtin("id_document", "document", true, NO_CAP, None, 1.0, None),
    builtin("phone", "phone", true, NO_CAP, None, 0.8, None),
    builtin("email", "email", true, NO_CAP, None, 0.8, None),
    builtin("payment", "document", true, NO_CAP, None, 1.0, None),
    builtin("address", "address", false, NO_CAP, None, 0.4, Some("network")),
];

/// A prior without a degree cap: coherence and the policy's ceiling judge the artifact.
pub(crate) const NO_CAP: u32 = u32::MAX;

/// The prior of every kind the user names (a custom kind): weak, no cap, weight 0.5.
pub(crate) const CUSTOM_PRIOR: Prior =
    Prior { strong: false, cap: NO_CAP, window_secs: None, weight: 0.5, group: None };

/// The names of the built-in kinds, in [`KindId`] order.
///
/// # Examples
///
/// ```
/// let names: Vec<&str> = sellerlink::kind::builtin_names().collect();
/// assert_eq!(names[0], "device");
/// assert_eq!(names.len(), 8);
/// ```
pub fn builtin_names() -> impl ExactSizeIterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

/// The most kinds one index holds; a file with more distinct kind names is almost certainly
/// malformed (a value column shifted into the kind column), so further kinds are rejected.
///
/// # Examples
///
/// ```
/// let mut kinds = sellerlink::kind::Kinds::new();
/// for i in kinds.len()..sellerlink::kind::MAX_KINDS {
///     kinds.resolve(&format!("k{i}"))?;
/// }
/// assert!(kinds.resolve("one_more").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAX_KINDS: usize = 256;

/// The longest kind name accepted, in bytes.
///
/// # Examples
///
/// ```
/// use sellerlink::kind::{Kinds, MAX_KIND_NAME};
/// assert!(Kinds::canonical_name(&"k".repeat(MAX_KIND_NAME + 1)).is_err());
/// ```
pub const MAX_KIND_NAME: usize = 64;

/// Why a kind name was refused.
///
/// # Examples
///
/// ```
/// use sellerlink::kind::{KindError, Kinds};
/// let mut kinds = Kinds::new();
/// assert!(matches!(kinds.resolve(""), Err(KindError::Empty)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KindError {
    /// The kind name is empty.
    #[error("empty kind name")]
    Empty,
    /// The kind name is too long or has characters other than letters, digits, `_`, `-`, `.`.
    #[error("kind name must be at most 64 letters, digits, '_', '-' or '.'")]
    BadName,
    /// The registry already holds [`MAX_KINDS`] kinds.
    #[error("more than 256 distinct kinds")]
    TooMany,
    /// A custom kind that the reader was told to refuse unless declared (see
    /// `CsvOptions::declare_kinds` in the `ingest` module); with the
    /// built-in kind it is probably a misspelling of, if any (see [`suggest`]).
    #[error("{}", undeclared(name, *suggestion))]
    Undeclared {
        /// The kind name, canonical (trimmed, lowercase).
        name: String,
        /// The built-in kind within a small edit distance, if any.
        suggestion: Option<&'static str>,
    },
}

fn undeclared(name: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("undeclared kind {name:?} (did you mean {s}?)"),
        None => format!("undeclared kind {name:?} (declare custom kinds, or fix the kind column)"),
    }
}

/// The built-in kind that a new kind name is probably a misspelling of: the nearest built-in
/// name within an edit distance (insertions, deletions, substitutions and swaps of neighbouring
/// letters) of 2. A built-in name of fewer than 4 letters (`ip`) is near too many short words
/// (`id`, `zip`) for that, so it is suggested only for a name that starts with it (`ipv4`,
/// `ip_address`). `None` for a built-in name itself, and when nothing is near. Case and
/// surrounding spaces are ignored.
///
/// # Examples
///
/// ```
/// use sellerlink::kind::suggest;
/// assert_eq!(suggest("devcie"), Some("device"));
/// assert_eq!(suggest("E-mail"), Some("email"));
/// assert_eq!(suggest("id_documnet"), Some("id_document"));
/// assert_eq!(suggest("device"), None);
/// assert_eq!(suggest("dob_name"), None);
/// assert_eq!(suggest("url"), None);
/// assert_eq!(suggest("zip"), None);
/// ```
pub fn suggest(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    let mut best: Option<(usize, &'static str)> = None;
    for b in &BUILTINS {
        if b.name == name {
            return None;
        }
        let d = if b.name.len() < 4 {
            if name.starts_with(b.name) { 2 } else { 3 }
        } else {
            edit_distance(name.as_bytes(), b.name.as_bytes(), 2)
        };
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, b.name));
        }
    }
    best.map(|(_, n)| n)
}

/// The optimal-string-alignment distance between `a` and `b` (a swap of neighbours costs 1),
/// or something above `limit` as soon as it must exceed it.
fn edit_distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let w = b.len() + 1;
    let mut rows = vec![0usize; 3 * w];
    for (j, cell) in rows[..w].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur * w] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d =
                (rows[prev * w + j] + 1).min(rows[cur * w + j - 1] + 1).min(rows[prev * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2 * w + j - 2] + 1);
            }
            rows[cur * w + j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return limit + 1;
        }
    }
    rows[(a.len() % 3) * w + b.len()]
}

/// The registry of kinds.
///
/// # Examples
///
/// ```
/// use sellerlink::kind::Kinds;
/// use sellerlink::normalize::Normalizer;
/// let mut kinds = Kinds::new();
/// let wifi = kinds.get("WiFi").expect("built in");
/// assert_eq!(kinds.name(wifi), "wifi");
/// let dob = kinds.register("dob_name", Normalizer::Address)?;
/// assert_eq!(kinds.normalizer(dob).name(), "address");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Kinds {
    names: Vec<Box<str>>,
    normalizers: Vec<Normalizer>,
}

impl Default for Kinds {
    fn default() -> Self {
        Self::new()
    }
}

impl Kinds {
    /// The registry with the built-in kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::kind::Kinds::new().len(), 8);
    /// ```
    pub fn new() -> Self {
        let mut kinds = Kinds { names: Vec::new(), normalizers: Vec::new() };
        for b in &BUILTINS {
            kinds.names.push(b.name.into());
            kinds.normalizers.push(Normalizer::builtin(b.normalizer).unwrap_or(Normalizer::Text));
        }
        kinds
    }

    /// Number of kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::kind::Kinds::new().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: the built-in kinds are always present.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::kind::Kinds::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The canonical spelling of a kind name (trimmed, lowercase), or why it is refused.
    ///
    /// # Errors
    ///
    /// [`KindError::Empty`] or [`KindError::BadName`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::kind::Kinds;
    /// assert_eq!(Kinds::canonical_name(" Device ")?, "device");
    /// assert!(Kinds::canonical_name("a b").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn canonical_name(name: &str) -> Result<String, KindError> {
        let n = name.trim();
        if n.is_empty() {
            return Err(KindError::Empty);
        }
        if n.len() > MAX_KIND_NAME
            || !n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(KindError::BadName);
        }
        Ok(n.to_ascii_lowercase())
    }

    /// The id of an existing kind (any spelling that folds to its name).
    ///
    /// # Examples
    ///
    /// ```
    /// let kinds = sellerlink::kind::Kinds::new();
    /// assert!(kinds.get("PHONE").is_some());
    /// assert!(kinds.get("shoe_size").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<KindId> {
        let n = name.trim();
        self.names.iter().position(|k| k.eq_ignore_ascii_case(n)).map(KindId::must)
    }

    /// The id of a kind, registering it as a custom kind (text normaliser) if new.
    ///
    /// # Errors
    ///
    /// [`KindError`] when the name is refused or the registry is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut kinds = sellerlink::kind::Kinds::new();
    /// let k = kinds.resolve("dob_name")?;
    /// assert_eq!(kinds.resolve("DOB_NAME")?, k);
    /// assert_eq!(kinds.normalizer(k).name(), "text");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve(&mut self, name: &str) -> Result<KindId, KindError> {
        if let Some(k) = self.get(name) {
            return Ok(k);
        }
        self.register(name, Normalizer::Text)
    }

    /// Registers a kind with a normaliser, or replaces the normaliser of an existing kind
    /// (built-in kinds included).
    ///
    /// # Errors
    ///
    /// [`KindError`] when the name is refused or the registry is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{kind::Kinds, normalize::Normalizer};
    /// let mut kinds = Kinds::new();
    /// let device = kinds.register("device", Normalizer::Document)?;
    /// assert_eq!(kinds.normalizer(device).name(), "document");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register(&mut self, name: &str, normalizer: Normalizer) -> Result<KindId, KindError> {
        let name = Self::canonical_name(name)?;
        if let Some(k) = self.get(&name) {
            self.normalizers[k.as_usize()] = normalizer;
            return Ok(k);
        }
        if self.names.len() >= MAX_KINDS {
            return Err(KindError::TooMany);
        }
        self.names.push(name.into());
        self.normalizers.push(normalizer);
        Ok(KindId::must(self.names.len() - 1))
    }

    /// The name of a kind.
    ///
    /// # Panics
    ///
    /// Panics when `kind` is not from this registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let kinds = sellerlink::kind::Kinds::new();
    /// assert_eq!(kinds.name(sellerlink::KindId::must(0)), "device");
    /// ```
    pub fn name(&self, kind: KindId) -> &str {
        &self.names[kind.as_usize()]
    }

    /// The normaliser of a kind.
    ///
    /// # Panics
    ///
    /// Panics when `kind` is not from this registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let kinds = sellerlink::kind::Kinds::new();
    /// let wifi = kinds.get("wifi").expect("built in");
    /// assert_eq!(kinds.normalizer(wifi).name(), "mac");
    /// ```
    pub fn normalizer(&self, kind: KindId) -> &Normalizer {
        &self.normalizers[kind.as_usize()]
    }

    /// All kinds with their names, in id order.
    ///
    /// # Examples
    ///
    /// ```
    /// let kinds = sellerlink::kind::Kinds::new();
    /// assert_eq!(kinds.iter().next().map(|(_, n)| n), Some("device"));
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (KindId, &str)> + '_ {
        self.names.iter().enumerate().map(|(i, n)| (KindId::must(i), &**n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_names_and_caps_count() {
        let mut k = Kinds::new();
        assert_eq!(k.resolve("  "), Err(KindError::Empty));
        assert_eq!(k.resolve("a,b"), Err(KindError::BadName));
        assert_eq!(k.resolve(&"x".repeat(65)), Err(KindError::BadName));
        for i in k.len()..MAX_KINDS {
            k.resolve(&format!("k{i}")).unwrap();
        }
        assert_eq!(k.resolve("one_more"), Err(KindError::TooMany));
        assert!(k.resolve("k10").is_ok());
    }

    #[test]
    fn suggestions_are_near_built_ins_only() {
        for (name, want) in [
            ("devcie", Some("device")),
            ("divice", Some("device")),
            ("devices", Some("device")),
            ("wifi", None),
            ("wi-fi", Some("wifi")),
            ("ipv4", Some("ip")),
            ("ip_address", Some("ip")),
            ("zip", None),
            ("id", None),
            ("mail", Some("email")),
            ("tax", None),
            ("phnoe", Some("phone")),
            ("emial", Some("email")),
            ("payments", Some("payment")),
            ("adress", Some("address")),
            ("id_doc", None),
            ("shoe_size", None),
            ("", None),
        ] {
            assert_eq!(suggest(name), want, "{name}");
        }
        assert_eq!(edit_distance(b"abc", b"acb", 2), 1);
        assert_eq!(edit_distance(b"abc", b"abc", 2), 0);
        assert_eq!(edit_distance(b"", b"abcd", 2), 3);
        assert_eq!(edit_distance(b"kitten", b"sitting", 3), 3);
    }
}
