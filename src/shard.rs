//! Shards: one build of a market, run as separate pieces whose results add up to the build's.
//!
//! This is the seam a distributed backend (the `sellerlink-dist` crate) runs on, so that it
//! applies this library's rules rather than a copy of them. Every judgement of the evidence
//! reads the neighbourhood of an artifact: its accounts, their other artifacts, and whether
//! those are accepted. Take out the *hubs*, the artifacts suppressed by degree alone (past their
//! kind's cap or the policy's ceiling, or declared legitimate), and the market falls apart into
//! *pieces*: the connected parts of what is left, plus the must-link pairs. A piece holds every
//! observation of its accounts, hub uses included. Each judgement about an artifact that is not
//! a hub then reads only that artifact's piece, and so do linking and community detection.
//!
//! Two things are read from the whole market, and this module computes them from sums over
//! the pieces:
//!
//! - **caps**: an automatic cap is an outlier bound over the degrees of all artifacts of its
//!   kind ([`LinkPolicy::cap_for`], from a degree histogram that pieces can add up); with the
//!   default policy no kind has one, and only the ceiling decides;
//! - **what the data teaches** ([`crate::policy::Learned`]): the estimate reads derivation counts
//!   and the comparison patterns of a subsample of candidate pairs. [`census`] gives a piece's
//!   derivation counts and candidate pair count, [`Census::merge`] adds them up, [`patterns`]
//!   gives a piece's comparison patterns once the market's subsampling rate is known, and
//!   [`learn`] fits the estimate from the sums, with the same code a single build runs.
//!
//! A piece is then built with [`piece_policy`]: caps lifted to the ceiling (the piece's own
//! degree counts would be wrong for a hub, and every other artifact of the piece has all its
//! accounts in it), the market's hubs declared legitimate, and the learned policy pinned. Its
//! components and operators are the whole build's restricted to the piece: Leiden's seed
//! follows from a component's first member's name, and every id is in name order.
//!
//! One limit: coherence compares the times of one account's uses in seconds after the earliest
//! timestamp of the graph, held in 32 bits, so a market whose timestamps span more than 136
//! years may clamp some differently in a piece than in the whole.
//!
//! # Examples
//!
//! Two pieces, each built on its own, against one build of the whole:
//!
//! ```
//! use sellerlink::{IndexBuilder, Level, shard};
//! let rows = [("a1", "device", "pc-1"), ("a2", "device", "pc-1"), ("b1", "phone", "+4915112345678"), ("b2", "phone", "+4915112345678")];
//! let build = |rows: &[(&str, &str, &str)], policy: sellerlink::policy::LinkPolicy| {
//!     let mut b = IndexBuilder::new().policy(policy);
//!     for (account, kind, value) in rows {
//!         b.add(account, kind, value, None).expect("valid");
//!     }
//!     b
//! };
//! let policy = sellerlink::policy::LinkPolicy::new();
//! let whole = build(&rows, policy.clone()).build()?;
//! let mut census = shard::census(build(&rows[..2], policy.clone()))?;
//! census.merge(&shard::census(build(&rows[2..], policy.clone()))?);
//! let keep = census.keep_one_in();
//! let mut patterns = shard::patterns(build(&rows[..2], policy.clone()), keep)?;
//! patterns.merge(&shard::patterns(build(&rows[2..], policy.clone()), keep)?);
//! let learned = shard::learn(whole.kinds(), &policy, &census, &patterns);
//! assert_eq!(learned.as_ref(), whole.policy().learned());
//! let pinned = shard::piece_policy(&policy.with_learned(learned), whole.kinds(), None::<(&str, &str)>);
//! let piece = build(&rows[..2], pinned).build()?;
//! assert_eq!(shard::labels(&piece, Level::Operators), [("a1".to_string(), "a1".to_string()), ("a2".to_string(), "a1".to_string())]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evidence::{Resolved, coherence_view, learn, learned_policy};
use crate::graph::Graph;
use crate::index::{Index, Level};
use crate::kind::Kinds;
use crate::policy::{HubCap, Learned, LinkPolicy};
use crate::{AccountId, ArtifactId, IndexBuilder};

/// A piece's derivation counts and candidate pair count, the first of the sums learning reads.
///
/// # Examples
///
/// See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    /// Kinds counted (the registry's length when counted).
    kinds: usize,
    /// Per (k2, k1), flattened: shared artifacts of k2 inside one artifact of k1.
    inside: Vec<u64>,
    /// Per kind: shared artifacts read.
    shared: Vec<u64>,
    /// Distinct candidate pairs.
    pairs: u64,
}

impl Census {
    /// Adds another piece's counts (pieces built over the same kinds registry, in one order).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut a = sellerlink::shard::Census::default();
    /// a.merge(&sellerlink::shard::Census::default());
    /// assert_eq!(a.candidate_pairs(), 0);
    /// ```
    pub fn merge(&mut self, other: &Census) {
        let n = self.kinds.max(other.kinds);
        let widen = |c: &Census| -> (Vec<u64>, Vec<u64>) {
            let mut inside = vec![0u64; n * n];
            for k2 in 0..c.kinds {
                for k1 in 0..c.kinds {
                    inside[k2 * n + k1] = c.inside[k2 * c.kinds + k1];
                }
            }
            let mut shared = c.shared.clone();
            shared.resize(n, 0);
            (inside, shared)
        };
        let (mut inside, mut shared) = widen(self);
        let (i2, s2) = widen(other);
        inside.iter_mut().zip(i2).for_each(|(x, y)| *x += y);
        shared.iter_mut().zip(s2).for_each(|(x, y)| *x += y);
        *self = Census { kinds: n, inside, shared, pairs: self.pairs + other.pairs };
    }

    /// The distinct candidate pairs counted.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::shard::Census::default().candidate_pairs(), 0);
    /// ```
    pub fn candidate_pairs(&self) -> u64 {
        self.pairs
    }

    /// One in how many candidate pairs the estimate reads, for these counts (1 up to a million
    /// pairs); pass it to [`patterns`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::shard::Census::default().keep_one_in(), 1);
    /// ```
    pub fn keep_one_in(&self) -> u64 {
        learn::keep_one_in(self.pairs)
    }
}

/// A piece's comparison patterns (the sets of kinds each subsampled candidate pair shares,
/// counted), the second of the sums learning reads.
///
/// # Examples
///
/// See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patterns {
    /// (kind set, pairs), sorted by kind set.
    counts: Vec<([u64; 4], u64)>,
    /// Pairs read.
    pairs: u64,
}

impl Patterns {
    /// Adds another piece's patterns.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut a = sellerlink::shard::Patterns::default();
    /// a.merge(&sellerlink::shard::Patterns::default());
    /// assert_eq!(a, sellerlink::shard::Patterns::default());
    /// ```
    pub fn merge(&mut self, other: &Patterns) {
        let mut all: BTreeMap<[u64; 4], u64> = self.counts.iter().copied().collect();
        for &(set, count) in &other.counts {
            *all.entry(set).or_default() += count;
        }
        self.counts = all.into_iter().collect();
        self.pairs += other.pairs;
    }
}

/// The judged piece a census or a pattern count reads.
fn judged(builder: IndexBuilder) -> Result<crate::pipeline::Judged, crate::Error> {
    crate::pipeline::judge_only(builder.collected)
}

/// A piece's [`Census`]: its observations frozen and judged (learning off) under the builder's
/// policy, which should be a [`piece_policy`].
///
/// # Errors
///
/// As [`IndexBuilder::build`].
///
/// # Examples
///
/// See the [module docs](self).
pub fn census(builder: IndexBuilder) -> Result<Census, crate::Error> {
    let j = judged(builder)?;
    let usable = |f: ArtifactId| !j.evidence.is_suppressed(f);
    let (inside, shared) = learn::derivation(&j.graph, j.kinds.len(), &usable);
    let pairs = learn::candidate_pairs(&j.graph, &j.evidence, &j.order).len() as u64;
    Ok(Census { kinds: j.kinds.len(), inside, shared, pairs })
}

/// A piece's [`Patterns`] at the market's subsampling rate ([`Census::keep_one_in`] of the
/// summed census).
///
/// # Errors
///
/// As [`IndexBuilder::build`].
///
/// # Examples
///
/// See the [module docs](self).
pub fn patterns(builder: IndexBuilder, keep_one_in: u64) -> Result<Patterns, crate::Error> {
    let j = judged(builder)?;
    let mut pairs = learn::candidate_pairs(&j.graph, &j.evidence, &j.order);
    learn::subsample(&mut pairs, keep_one_in.max(1), &j.accounts);
    let counts = learn::kind_patterns(&j.graph, &j.evidence, &pairs).into_iter().collect();
    Ok(Patterns { counts, pairs: pairs.len() as u64 })
}

/// What a build under `policy` learns from a market whose pieces' sums are `census` and
/// `patterns`; `None` when the policy does not learn (or has its learned policy pinned
/// already). `kinds` is the market's registry, in the order a single build would number it.
///
/// # Examples
///
/// See the [module docs](self).
pub fn learn(kinds: &Kinds, policy: &LinkPolicy, census: &Census, patterns: &Patterns) -> Option<Learned> {
    if !policy.learns() || policy.learned().is_some() {
        return None;
    }
    let n = kinds.len();
    let empty = Graph::default();
    let resolved = Resolved::new(&empty, kinds, policy);
    // The census may have counted fewer kinds than the registry holds: widen it.
    let mut wide = Census { kinds: n, inside: vec![0; n * n], shared: vec![0; n], pairs: 0 };
    wide.merge(census);
    let counts: BTreeMap<[u64; 4], u64> = patterns.counts.iter().copied().collect();
    let sums =
        learn::Sums { inside: &wide.inside, shared: &wide.shared, patterns: &counts, pairs: patterns.pairs };
    let custom = |k: usize| k >= crate::kind::BUILTINS.len();
    let est = learn::fit(n, &resolved, custom, &sums);
    Some(learned_policy(&est, kinds))
}

/// The policy a piece builds with: `policy` (with its learned policy pinned, for the final
/// build), every kind's cap lifted to the ceiling, and the market's `hubs` (kind, canonical
/// value) declared legitimate, so that the piece suppresses by degree exactly what the whole
/// market does.
///
/// # Examples
///
/// ```
/// use sellerlink::{kind::Kinds, policy::LinkPolicy, shard::piece_policy};
/// let p = piece_policy(&LinkPolicy::new(), &Kinds::new(), [("ip", "10.0.0.1")]);
/// assert_eq!(p.overrides().legitimate.len(), 1);
/// ```
pub fn piece_policy<'h>(
    policy: &LinkPolicy,
    kinds: &Kinds,
    hubs: impl IntoIterator<Item = (&'h str, &'h str)>,
) -> LinkPolicy {
    let mut p = policy.clone();
    for (_, name) in kinds.iter() {
        let lifted = p.kind_policy(name).clone().hub_cap(HubCap::Unlimited);
        p = p.kind(name, lifted);
    }
    for (kind, value) in hubs {
        p = p.legitimate(kind, value);
    }
    p
}

/// Every account of `index` with its cluster's label at `level`: the smallest account name in
/// the cluster, so that labels agree across pieces and processes. In account-name order.
///
/// # Examples
///
/// See the [module docs](self).
pub fn labels(index: &Index, level: Level) -> Vec<(String, String)> {
    let clustering = index.clustering_at(level);
    let mut smallest: Vec<Option<AccountId>> = vec![None; clustering.len()];
    let mut out = Vec::with_capacity(index.account_count());
    for a in index.accounts_by_name() {
        let Some(c) = clustering.cluster_of(a) else { continue };
        let label = *smallest[c.as_usize()].get_or_insert(a);
        out.push((index.account_name(a).to_string(), index.account_name(label).to_string()));
    }
    out
}

/// `builder` with the artifacts `(kind, value)` presumed incoherent: judged so over the whole
/// market ([`incoherent_at_first`]), they start the piece's coherence judgement rejected. A
/// piece cut at such an artifact must hold all of its uses (the other pieces' accounts as
/// accounts with that one use), so that its degree and time groups are the market's.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, shard};
/// let mut b = IndexBuilder::new();
/// for s in ["a", "b", "c"] {
///     b.add(s, "device", "cafe-pc", None)?;
/// }
/// let index = shard::presume_incoherent(b, [("device", "cafe-pc")]).build()?;
/// assert_eq!(index.clustering().len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn presume_incoherent<'a>(
    mut builder: IndexBuilder,
    artifacts: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> IndexBuilder {
    builder.collected.presumed.extend(artifacts.into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
    builder
}

/// [`presume_incoherent`] for artifacts cut from a piece without their other uses: each
/// `(kind, value, degree)` is presumed incoherent, and the piece reads `degree`, the market's
/// number of accounts that use it, as its degree (the piece's judgement of other artifacts and
/// its operators' weights read it). Its time groups are the piece's own uses', so an artifact
/// with a time window needs its uses for the operators (as [`presume_incoherent`] has them);
/// for components its degree is enough. Like [`presume_incoherent`], this holds for the build
/// only: a snapshot of the piece keeps neither the presumption nor the market degree.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, shard};
/// let mut b = IndexBuilder::new();
/// for s in ["a", "b", "c"] {
///     b.add(s, "device", "cafe-pc", None)?;
/// }
/// let index = shard::presume_cut(b, [("device", "cafe-pc", 40)]).build()?;
/// let pc = index.artifact("device", "cafe-pc").expect("known");
/// assert_eq!(index.graph().degree(pc), 40);
/// assert_eq!(index.clustering().len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn presume_cut<'a>(
    mut builder: IndexBuilder,
    artifacts: impl IntoIterator<Item = (&'a str, &'a str, u32)>,
) -> IndexBuilder {
    for (k, v, d) in artifacts {
        let art = (k.to_string(), v.to_string());
        builder.collected.presumed.push(art.clone());
        builder.collected.market_degree.push((art, d));
    }
    builder
}

/// One artifact an account uses, as [`incoherent_at_first`] reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    /// The artifact: its kind and canonical value.
    pub artifact: (String, String),
    /// The account's first use of it, if timed.
    pub first_use: Option<i64>,
    /// How many accounts use it, over the whole market.
    pub degree: u32,
    /// True when it is a hub by degree (past its kind's cap or the ceiling).
    pub hub: bool,
}

/// Which of `n` accounts, in name order, the judgement of an artifact of `n` accounts reads.
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink::shard::sample_positions(3), [0, 1, 2]);
/// assert_eq!(sellerlink::shard::sample_positions(1000).len(), 64);
/// ```
pub fn sample_positions(n: usize) -> Vec<usize> {
    coherence_view::sample_positions(n)
}

/// True when `artifact`, used by `degree` accounts of which `accounts` are the sampled ones
/// ([`sample_positions`], in name order: each with its first use of `artifact` and all its
/// artifacts, `artifact` included, sorted), is incoherent with every other artifact of the
/// market accepted: the first round of the coherence judgement, which rejecting others only
/// confirms, so the whole build rejects it too. `false` when the policy does not judge
/// coherence, or when `artifact` is a hub.
///
/// # Examples
///
/// ```
/// use sellerlink::{policy::LinkPolicy, shard::{Use, incoherent_at_first}};
/// let pc = ("device".to_string(), "cafe-pc".to_string());
/// let own = |n: u32| Use { artifact: ("phone".into(), format!("+49151000000{n}")), first_use: None, degree: 2, hub: false };
/// let pc_use = Use { artifact: pc.clone(), first_use: None, degree: 3, hub: false };
/// // Three strangers, each with a phone shared with someone else: nothing relates them.
/// let accounts: Vec<(Option<i64>, Vec<Use>)> = (0..3).map(|n| (None, vec![pc_use.clone(), own(n)])).collect();
/// assert!(incoherent_at_first(&LinkPolicy::new(), &pc, 3, &accounts));
/// ```
pub fn incoherent_at_first(
    policy: &LinkPolicy,
    artifact: &(String, String),
    degree: u32,
    accounts: &[(Option<i64>, Vec<Use>)],
) -> bool {
    incoherent_given(policy, artifact, degree, accounts, |_| false)
}

/// [`incoherent_at_first`] in a later round of the coherence judgement: with the artifacts for
/// which `rejected` holds already rejected (they still count as evidence an account has, but
/// relate nobody). When every artifact `rejected` names is rejected by the whole build, a
/// `true` here means the whole build rejects `artifact` too; repeating the test until nothing
/// more is rejected reaches the whole build's rejections among the artifacts so judged (tested
/// against the build in `tests/shard.rs`).
///
/// # Examples
///
/// ```
/// use sellerlink::{policy::LinkPolicy, shard::{Use, incoherent_given}};
/// let use_of = |v: &str, degree| Use { artifact: ("device".into(), v.into()), first_use: None, degree, hub: false };
/// let pc = ("device".to_string(), "cafe-pc".to_string());
/// // Three accounts of a café PC, related only through a second PC that they also share.
/// let accounts: Vec<(Option<i64>, Vec<Use>)> =
///     (0..3).map(|_| (None, vec![use_of("cafe-pc", 3), use_of("cafe-pc-2", 3)])).collect();
/// assert!(!incoherent_given(&LinkPolicy::new(), &pc, 3, &accounts, |_| false));
/// // Once the second PC is rejected, nothing relates them.
/// assert!(incoherent_given(&LinkPolicy::new(), &pc, 3, &accounts, |a| a.1 == "cafe-pc-2"));
/// ```
pub fn incoherent_given(
    policy: &LinkPolicy,
    artifact: &(String, String),
    degree: u32,
    accounts: &[(Option<i64>, Vec<Use>)],
    rejected: impl Fn(&(String, String)) -> bool,
) -> bool {
    let Some(need) = policy.coherence_needed() else { return false };
    // Keys: the artifacts' positions in one sorted table; times relative to the earliest
    // (only differences matter; see the module docs for the one limit).
    let mut keys: Vec<&(String, String)> =
        accounts.iter().flat_map(|(_, uses)| uses.iter().map(|u| &u.artifact)).collect();
    keys.sort_unstable();
    keys.dedup();
    let key = |a: &(String, String)| keys.binary_search(&a).map_or(u32::MAX, |i| i as u32);
    let base = accounts
        .iter()
        .flat_map(|(t, uses)| t.iter().copied().chain(uses.iter().filter_map(|u| u.first_use)))
        .min()
        .unwrap_or(0);
    let rel =
        |t: Option<i64>| t.map_or(u32::MAX, |t| u32::try_from((t - base).max(0)).unwrap_or(u32::MAX - 1));
    let views: Vec<coherence_view::AccountView<u32>> = accounts
        .iter()
        .map(|(t, uses)| {
            let mut uses: Vec<(u32, u32, u32, bool)> =
                uses.iter().map(|u| (key(&u.artifact), rel(u.first_use), u.degree, !u.hub)).collect();
            uses.sort_unstable();
            coherence_view::AccountView { first_use: rel(*t), uses }
        })
        .collect();
    coherence_view::incoherent_in_round(need, key(artifact), degree, &views, |k: u32| {
        keys.get(k as usize).is_some_and(|a| rejected(a))
    })
}
