//! Building: observations in, a frozen [`Index`] out.
//!
//! [`IndexBuilder`] is the front of the pipeline. Each observation `(account, kind, value,
//! timestamp?)` is checked, its value normalised by its kind's rule, account and artifact
//! interned to dense ids, and one 16-byte edge appended. [`IndexBuilder::build`] then runs the
//! rest of the flow: renumber accounts in name order (so ids, and every id derived from them,
//! do not depend on input order), freeze the bipartite graph, link under the policy, detect
//! operators, and index the result.

use crate::error::{Field, ObservationError};
use crate::graph::{Edge, Graph, NO_TIME};
use crate::id::KindId;
use crate::index::Index;
use crate::intern::{Interner, StrList};
use crate::kind::Kinds;
use crate::normalize::Normalizer;
use crate::operators::Operators;
use crate::policy::LinkPolicy;
use crate::time::{MAX_TIME, MIN_TIME};

/// The longest account name accepted, in bytes.
pub const MAX_ACCOUNT_LEN: usize = 256;

/// Collects observations and builds an [`Index`].
///
/// # Examples
///
/// ```
/// use sellerlink::IndexBuilder;
/// let mut b = IndexBuilder::new();
/// b.add("store-a", "device", "fp-93ab", None)?;
/// b.add("store-b", "device", "FP-93AB", None)?; // same device, other spelling
/// b.add("store-c", "wifi", "a4:2b:b0:12:34:56", None)?;
/// let index = b.build()?;
/// let a = index.account("store-a").expect("known");
/// let b = index.account("store-b").expect("known");
/// assert_eq!(index.cluster_of(a), index.cluster_of(b));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IndexBuilder {
    pub(crate) kinds: Kinds,
    pub(crate) accounts: Interner,
    pub(crate) artifacts: Interner,
    /// Each artifact's first raw spelling (empty when it equals the canonical value).
    pub(crate) first_written: StrList,
    pub(crate) edges: Vec<Edge>,
    pub(crate) policy: LinkPolicy,
    pub(crate) operators: Option<Operators>,
    scratch: String,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexBuilder {
    /// A builder with the built-in kinds, the default policy and operator detection on.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::IndexBuilder::new().observation_count(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_kinds(Kinds::new())
    }

    /// A builder over a kinds registry of the caller's.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, kind::Kinds, normalize::Normalizer};
    /// let mut kinds = Kinds::new();
    /// kinds.register("dob_name", Normalizer::Address)?;
    /// let b = IndexBuilder::with_kinds(kinds);
    /// assert!(b.kinds().get("dob_name").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_kinds(kinds: Kinds) -> Self {
        Self {
            kinds,
            accounts: Interner::new(),
            artifacts: Interner::tagged(),
            first_written: StrList::default(),
            edges: Vec::new(),
            policy: LinkPolicy::default(),
            operators: Some(Operators::default()),
            scratch: String::new(),
        }
    }

    /// Sets the linking policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, policy::{KindPolicy, LinkPolicy}};
    /// let b = IndexBuilder::new().policy(LinkPolicy::new().kind("wifi", KindPolicy::strong()));
    /// # let _ = b;
    /// ```
    pub fn policy(mut self, policy: LinkPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the operator (community detection) stage; `None` stops at linked components.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, operators::Operators};
    /// let components_only = IndexBuilder::new().operators(None);
    /// let tuned = IndexBuilder::new().operators(Some(Operators::new().resolution(0.8)));
    /// # let _ = (components_only, tuned);
    /// ```
    pub fn operators(mut self, operators: Option<Operators>) -> Self {
        self.operators = operators;
        self
    }

    /// Registers (or replaces) a kind's normaliser; see [`Kinds::register`].
    ///
    /// # Errors
    ///
    /// A [`crate::kind::KindError`] when the name is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, normalize::Normalizer};
    /// let mut b = IndexBuilder::new();
    /// b.register_kind("tax_id", Normalizer::Document)?;
    /// b.add("s1", "tax_id", "de 123-456", None)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_kind(
        &mut self,
        name: &str,
        normalizer: Normalizer,
    ) -> Result<KindId, crate::kind::KindError> {
        self.kinds.register(name, normalizer)
    }

    /// The kinds registry.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::IndexBuilder::new().kinds().get("ip").is_some());
    /// ```
    pub fn kinds(&self) -> &Kinds {
        &self.kinds
    }

    /// Makes room for about `observations` more observations, of which `accounts` new accounts
    /// and `artifacts` new artifacts, so that the lookup tables do not grow (and rehash) while
    /// they arrive. Only a hint: more fit, and fewer waste at most the reserved room.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.reserve(1_000, 200, 700);
    /// b.add("s1", "device", "d", None)?;
    /// assert_eq!(b.observation_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve(&mut self, observations: usize, accounts: usize, artifacts: usize) {
        self.edges.reserve(observations);
        self.accounts.reserve(accounts);
        self.artifacts.reserve(artifacts);
    }

    /// Number of observations accepted so far (duplicates included).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s", "email", "a@b.c", None)?;
    /// assert_eq!(b.observation_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observation_count(&self) -> usize {
        self.edges.len()
    }

    /// Adds one observation: `account` used the artifact `value` of `kind` at `time` (unix
    /// seconds), normalising `value` by its kind's rule. An unknown kind becomes a custom kind.
    ///
    /// # Errors
    ///
    /// An [`ObservationError`] naming the field at fault; nothing is added then.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("store-1", "phone", "+86 138 0013 8000", Some(1_700_000_000))?;
    /// assert!(b.add("store-1", "phone", "call me", None).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(
        &mut self,
        account: &str,
        kind: &str,
        value: &str,
        time: Option<i64>,
    ) -> Result<(), ObservationError> {
        let account = check_account(account)?;
        let kind_id = self.kinds.resolve(kind).map_err(ObservationError::Kind)?;
        let time = match time {
            None => NO_TIME,
            Some(t) if (MIN_TIME..=MAX_TIME).contains(&t) => t,
            Some(_) => return Err(ObservationError::Timestamp("timestamp out of range")),
        };
        let mut scratch = core::mem::take(&mut self.scratch);
        let normalized = self.kinds.normalizer(kind_id).normalize(value, &mut scratch);
        let result = normalized
            .map_err(|reason| ObservationError::Value { kind: self.kinds.name(kind_id).to_string(), reason })
            .and_then(|()| self.add_normalized(account, kind_id, &scratch, value, time));
        self.scratch = scratch;
        result
    }

    /// Adds an observation whose value is already canonical (no normalisation).
    pub(crate) fn add_normalized(
        &mut self,
        account: &str,
        kind: KindId,
        value: &str,
        raw: &str,
        time: i64,
    ) -> Result<(), ObservationError> {
        let artifact =
            self.artifacts.intern(kind.as_u32(), value).ok_or(ObservationError::Capacity(Field::Value))?;
        if artifact as usize == self.first_written.len() {
            let raw = raw.trim();
            self.first_written.push(if raw == value { "" } else { raw });
        }
        let account = self.accounts.intern(0, account).ok_or(ObservationError::Capacity(Field::Account))?;
        self.edges.push(Edge { artifact, time, account });
        Ok(())
    }

    /// Runs the pipeline: freeze, link, detect operators, index.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Graph`] when the input exceeds 32-bit offsets.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "payment", "DE89 3704 0044 0532 0130 00", None)?;
    /// b.add("s2", "payment", "de89370400440532013000", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.clustering().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Index, crate::Error> {
        Index::build_from(self, &mut crate::index::NoProgress)
    }

    /// Reorders accounts by name, remapping edges, so that ids are independent of input order;
    /// accounts left without any observation (after removals) are dropped. Returns the new id
    /// of each account id before (`u32::MAX` for dropped ones).
    pub(crate) fn canonicalize_accounts(&mut self) -> Vec<u32> {
        let n = self.accounts.len();
        let mut live = vec![false; n];
        for e in &self.edges {
            live[e.account as usize] = true;
        }
        let mut order: Vec<u32> = (0..n as u32).filter(|&a| live[a as usize]).collect();
        let names = &self.accounts;
        sort_by_name(&mut order, names);
        let mut new_of_old = vec![u32::MAX; n];
        for (new, &old) in order.iter().enumerate() {
            new_of_old[old as usize] = new as u32;
        }
        if order.len() == n && order.iter().enumerate().all(|(i, &o)| i as u32 == o) {
            return new_of_old;
        }
        self.accounts = self.accounts.permuted(&order);
        for e in &mut self.edges {
            e.account = new_of_old[e.account as usize];
        }
        new_of_old
    }

    /// Freezes the graph (consuming the edge list).
    pub(crate) fn freeze(&mut self) -> Result<Graph, crate::graph::GraphError> {
        let art_kind =
            (0..self.artifacts.len() as u32).map(|f| KindId::from_u32(self.artifacts.tag(f))).collect();
        let mut edges = core::mem::take(&mut self.edges);
        Graph::from_edges(self.accounts.len(), art_kind, &mut edges)
    }
}

/// Sorts ids by their names, as a multikey sort: ids are sorted by the first 8 bytes of their
/// names (zero-padded, big-endian, so key order never contradicts name order) in one
/// contiguous array, then each run of equal keys by the next 8 bytes, and so on. Most
/// comparisons are integer compares, and names are read in order of the array, not at random
/// from inside a comparison.
fn sort_by_name(order: &mut [u32], names: &Interner) {
    let mut keyed: Vec<(u64, u32)> = order.iter().map(|&a| (name_key(names.get(a), 0), a)).collect();
    crate::graph::sort_unstable(&mut keyed);
    refine_runs(&mut keyed, 0, names);
    for (slot, (_, a)) in order.iter_mut().zip(keyed) {
        *slot = a;
    }
}

/// Bytes `at..at + 8` of `name`, zero-padded, as a big-endian integer.
fn name_key(name: &str, at: usize) -> u64 {
    let rest = name.as_bytes().get(at..).unwrap_or(&[]);
    let mut b = [0u8; 8];
    let n = rest.len().min(8);
    b[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(b)
}

/// Orders each run of equal keys (names equal up to `depth + 8` bytes) by the following bytes.
fn refine_runs(keyed: &mut [(u64, u32)], depth: usize, names: &Interner) {
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i + 1;
        while j < keyed.len() && keyed[j].0 == keyed[i].0 {
            j += 1;
        }
        if j - i > 1 {
            let run = &mut keyed[i..j];
            let next = depth + 8;
            if run.iter().all(|&(_, a)| names.get(a).len() <= next) {
                // Padding hides the rest (only a name with trailing NULs can get here).
                run.sort_unstable_by(|x, y| names.get(x.1).cmp(names.get(y.1)));
            } else {
                for x in run.iter_mut() {
                    x.0 = name_key(names.get(x.1), next);
                }
                run.sort_unstable();
                refine_runs(run, next, names);
            }
        }
        i = j;
    }
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
    fn sort_by_name_equals_string_order() {
        let mut names = Interner::new();
        let words = [
            "store-12",
            "store-1",
            "store-",
            "store-123456789012",
            "store-123456789011",
            "store-\u{0}",
            "store-\u{0}\u{0}",
            "store-é",
            "store-z",
            "store-12345678",
            "store-1234567",
            "Store-1",
            "a-very-long-common-prefix-of-many-bytes-1",
            "a-very-long-common-prefix-of-many-bytes-10",
            "a-very-long-common-prefix-of-many-bytes-",
            "a-very-long-common-prefix-of-many-bytes-0\u{0}",
            "a-very-long-common-prefix-of-many-bytes-0",
            "b",
        ];
        for w in words {
            names.intern(0, w);
        }
        let mut order: Vec<u32> = (0..words.len() as u32).collect();
        sort_by_name(&mut order, &names);
        let got: Vec<&str> = order.iter().map(|&a| names.get(a)).collect();
        let mut want: Vec<&str> = words.to_vec();
        want.sort_unstable();
        assert_eq!(got, want);
        // One name, and none.
        let mut one = vec![3];
        sort_by_name(&mut one, &names);
        assert_eq!(one, vec![3]);
        sort_by_name(&mut [], &names);
    }

    #[test]
    fn sort_by_name_equals_string_order_on_many_shared_prefixes() {
        // Names from a 3-letter alphabet, 0 to 40 long: long runs of equal 8-byte keys.
        let mut names = Interner::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..5_000 {
            let len = (next() % 41) as usize;
            let name: String = (0..len).map(|_| ['a', 'b', 'é'][(next() % 3) as usize]).collect();
            names.intern(0, &name);
        }
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        sort_by_name(&mut order, &names);
        assert!(order.windows(2).all(|w| names.get(w[0]) < names.get(w[1])));
    }
}
