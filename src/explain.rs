//! Explanations: why two accounts belong together, as a chain of evidence an analyst can read.
//!
//! [`explain`] finds the cheapest chain `store —device— store —payment— store …` between two
//! accounts over the evidence that *links* under the index's policy. A step through a shared
//! artifact costs `1 / weight`, with weight `w_kind · ln 2 / ln d` (strong, rare evidence is
//! cheap), scaled by `1 + gap / window` for windowed kinds (time-coincident uses are cheaper),
//! so the chain prefers strong, rare, time-coincident evidence. A step through a weak artifact
//! is taken only between accounts that corroborate it (share enough evidence), and names the
//! corroborating artifacts.
//!
//! When no such chain exists, the search is repeated with every restriction lifted but a heavy
//! cost on each step that does not link, so the chain found uses as few of them as possible;
//! each such step says why it does not link ([`Blocked`]): a suppressed hub, uses outside the
//! kind's time window, or weak evidence nothing corroborates. No chain at all means the two
//! accounts share no evidence at any distance.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use ahash::AHashMap;

use crate::graph::NO_TIME;
use crate::id::{AccountId, ArtifactId, ClusterId};
use crate::index::{Index, Level};
use crate::link::evidence_key;
use crate::policy::Strength;

/// One step of a chain: `from` and `to` both used `artifact`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Step {
    /// The account the step leaves.
    pub from: AccountId,
    /// The account it reaches.
    pub to: AccountId,
    /// The shared artifact.
    pub artifact: ArtifactId,
    /// Its kind's name.
    pub kind: String,
    /// Its value as first written in the input.
    pub value: String,
    /// How many accounts in all used it.
    pub accounts: u32,
    /// When `from` used it (sorted; empty when untimed).
    pub from_times: Vec<i64>,
    /// When `to` used it (sorted; empty when untimed).
    pub to_times: Vec<i64>,
    /// For a weak artifact: the other artifacts `from` and `to` share that corroborate it.
    pub corroborated_by: Vec<ArtifactId>,
    /// For a weak artifact: true when it links as a group (most of its accounts are tied by
    /// other evidence), see [`crate::policy::LinkPolicy::group_cohesion`].
    pub group_corroborated: bool,
    /// Why this step does not link, if it does not (only in a not-linked chain).
    pub blocked: Option<Blocked>,
}

/// Why one step of a chain does not link under the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Blocked {
    /// The artifact is a suppressed hub.
    Hub,
    /// The two accounts used it further apart than the kind's time window.
    OutsideWindow,
    /// Weak evidence that the pair does not corroborate.
    Uncorroborated,
}

impl Blocked {
    /// A short phrase for reports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::explain::Blocked::Hub.describe(), "a suppressed hub");
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            Blocked::Hub => "a suppressed hub",
            Blocked::OutsideWindow => "uses outside the time window",
            Blocked::Uncorroborated => "uncorroborated weak evidence",
        }
    }
}

/// The answer of [`explain`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Explanation {
    /// Linked: the chain of evidence, and whether the operator stage keeps them together.
    Linked {
        /// The chain, from the first account to the second.
        path: Vec<Step>,
        /// Their operators, when the operator stage ran: equal means one operator.
        operators: Option<(ClusterId, ClusterId)>,
    },
    /// The same account twice.
    Same,
    /// Not linked: the chain with the fewest non-linking steps, each marked [`Step::blocked`],
    /// or `None` when no chain of shared artifacts exists at all.
    NotLinked {
        /// The nearest chain, if any.
        path: Option<Vec<Step>>,
    },
}

impl Explanation {
    /// The distinct reasons the chain does not link (empty when linked or without a chain).
    ///
    /// # Examples
    ///
    /// See [`explain`].
    pub fn reasons(&self) -> Vec<Blocked> {
        let mut out = Vec::new();
        if let Explanation::NotLinked { path: Some(path) } = self {
            for b in path.iter().filter_map(|s| s.blocked) {
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
        out
    }
}

/// Cost added per non-linking step in the relaxed search: far above any linking chain.
const BLOCKED_COST: f64 = 1e6;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Linking,
    Relaxed,
}

/// Explains how `a` and `b` are linked, or why they are not; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, explain::{Blocked, Explanation, explain}};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "laptop", None)?;
/// b.add("b", "device", "LAPTOP", None)?;
/// b.add("b", "payment", "mule-1", None)?;
/// b.add("c", "payment", "MULE-1", None)?;
/// for i in 0..50 {
///     b.add(&format!("x{i}"), "wifi", "00:11:22:33:44:55", None)?;
/// }
/// b.add("a", "wifi", "00:11:22:33:44:55", None)?;
/// let index = b.build()?;
/// let id = |n: &str| index.account(n).expect("known");
/// match explain(&index, id("a"), id("c")) {
///     Explanation::Linked { path, .. } => {
///         let kinds: Vec<&str> = path.iter().map(|s| s.kind.as_str()).collect();
///         assert_eq!(kinds, ["device", "payment"]);
///     }
///     other => panic!("{other:?}"),
/// }
/// let why = explain(&index, id("a"), id("x7"));
/// assert!(matches!(why, Explanation::NotLinked { path: Some(_) }));
/// assert_eq!(why.reasons(), vec![Blocked::Hub]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn explain(index: &Index, a: AccountId, b: AccountId) -> Explanation {
    if a == b {
        return Explanation::Same;
    }
    if let Some(path) = search(index, a, b, Mode::Linking) {
        let operators = index
            .operators()
            .and_then(|o| Some((o.clustering().cluster_of(a)?, o.clustering().cluster_of(b)?)));
        return Explanation::Linked { path, operators };
    }
    Explanation::NotLinked { path: search(index, a, b, Mode::Relaxed) }
}

/// True when `a` and `b` are in one cluster at `level`.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, explain::same_cluster, index::Level};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d", None)?;
/// b.add("b", "device", "d", None)?;
/// let index = b.build()?;
/// let (a, bb) = (index.account("a").expect("known"), index.account("b").expect("known"));
/// assert!(same_cluster(&index, Level::Components, a, bb));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn same_cluster(index: &Index, level: Level, a: AccountId, b: AccountId) -> bool {
    let c = index.clustering_at(level);
    c.cluster_of(a).is_some() && c.cluster_of(a) == c.cluster_of(b)
}

#[derive(Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    account: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.cost.total_cmp(&self.cost).then_with(|| other.account.cmp(&self.account))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Times an account used an artifact (sorted; empty when untimed).
pub(crate) fn times_of(index: &Index, f: ArtifactId, a: AccountId) -> Vec<i64> {
    index.graph().uses(f).filter(|u| u.account == a && u.time != NO_TIME).map(|u| u.time).collect()
}

/// The smallest gap between uses of `f` by `x` and `y` (0 when either has an untimed use).
fn min_gap(index: &Index, f: u32, x: u32, y: u32) -> u64 {
    let (accounts, times) = index.graph().use_slices(f);
    let Some(times) = times else { return 0 };
    let (mut tx, mut ty) = (Vec::new(), Vec::new());
    for (i, &acc) in accounts.iter().enumerate() {
        if acc == x {
            tx.push(times[i]);
        } else if acc == y {
            ty.push(times[i]);
        }
    }
    // Both lists are in time order (untimed first): merge them, so the cost is linear.
    if tx.first() == Some(&NO_TIME) || ty.first() == Some(&NO_TIME) {
        return if tx.is_empty() || ty.is_empty() { u64::MAX } else { 0 };
    }
    let (mut i, mut j, mut best) = (0, 0, u64::MAX);
    while i < tx.len() && j < ty.len() {
        best = best.min(tx[i].abs_diff(ty[j]));
        if tx[i] < ty[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    best
}

/// The distinct evidence keys and artifacts through which weak pair `(x, y)` is corroborated
/// (non-hub weak artifacts both used within the kind's window).
fn corroboration(index: &Index, x: u32, y: u32) -> (usize, Vec<ArtifactId>) {
    let g = index.graph();
    let (ax, ay) = (g.artifacts_of(AccountId::from_u32(x)), g.artifacts_of(AccountId::from_u32(y)));
    let (mut i, mut j) = (0, 0);
    let mut keys = Vec::new();
    let mut arts = Vec::new();
    while i < ax.len() && j < ay.len() {
        match ax[i].cmp(&ay[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                let f = ax[i];
                let k = g.art_kind[f as usize].as_usize();
                let windowed = index.resolved.window[k].is_some_and(|w| min_gap(index, f, x, y) > w);
                if !index.hubs.contains(f) && !windowed && index.resolved.strength[k] == Strength::Weak {
                    keys.push(evidence_key(&index.resolved, k, f));
                    arts.push(ArtifactId::from_u32(f));
                }
                i += 1;
                j += 1;
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    (keys.len(), arts)
}

/// Why the step `x —f— y` does not link, if it does not; `gap` is the smallest time gap.
fn blocked(index: &Index, f: u32, x: u32, y: u32, corroborated: &mut AHashMap<u64, bool>) -> Option<Blocked> {
    let k = index.graph().art_kind[f as usize].as_usize();
    if index.hubs.contains(f) {
        return Some(Blocked::Hub);
    }
    if index.resolved.window[k].is_some_and(|w| min_gap(index, f, x, y) > w) {
        return Some(Blocked::OutsideWindow);
    }
    let need = index.resolved.corroboration as usize;
    if index.resolved.strength[k] == Strength::Weak && need > 1 {
        let key = u64::from(x.min(y)) << 32 | u64::from(x.max(y));
        let ok = *corroborated.entry(key).or_insert_with(|| corroboration(index, x, y).0 >= need);
        if !ok && group_ordinal(index, f, x, y).is_none() {
            return Some(Blocked::Uncorroborated);
        }
    }
    None
}

/// The ordinal of the confirmed time group of weak artifact `f` holding both `x` and `y`.
pub(crate) fn group_ordinal(index: &Index, f: u32, x: u32, y: u32) -> Option<u32> {
    let k = index.graph().art_kind[f as usize].as_usize();
    let mut found = None;
    let mut buf = Vec::new();
    crate::link::for_each_time_group(index.graph(), f, index.resolved.window[k], &mut buf, |ordinal, g| {
        if found.is_none()
            && g.binary_search(&x).is_ok()
            && g.binary_search(&y).is_ok()
            && index.is_confirmed(f, ordinal)
        {
            found = Some(ordinal);
        }
    });
    found
}

fn search(index: &Index, a: AccountId, b: AccountId, mode: Mode) -> Option<Vec<Step>> {
    let found = dijkstra(index, &[a.as_u32()], &[b.as_u32()], mode, usize::MAX);
    found.path_to(index, b.as_u32())
}

/// The result of a multi-source search: predecessor and cost per reached account.
pub(crate) struct Found {
    prev: AHashMap<u32, (u32, u32)>,
    pub(crate) dist: AHashMap<u32, f64>,
    sources: Vec<u32>,
    mode: Mode,
}

impl Found {
    /// The chain from the nearest source to `t`, if reached (empty when `t` is a source).
    pub(crate) fn path_to(&self, index: &Index, t: u32) -> Option<Vec<Step>> {
        if !self.dist.contains_key(&t) {
            return None;
        }
        let mut hops = Vec::new();
        let mut at = t;
        while !self.sources.contains(&at) {
            let &(p, f) = self.prev.get(&at)?;
            hops.push((p, at, f));
            at = p;
        }
        hops.reverse();
        let mut memo = AHashMap::new();
        let relaxed = self.mode == Mode::Relaxed;
        Some(
            hops.into_iter()
                .map(|(x, y, f)| {
                    let mut s = step(index, x, y, f);
                    if relaxed {
                        s.blocked = blocked(index, f, x, y, &mut memo);
                    }
                    s
                })
                .collect(),
        )
    }
}

/// Multi-source Dijkstra over evidence; stops once every target is settled or `budget`
/// accounts are settled.
pub(crate) fn dijkstra(index: &Index, sources: &[u32], targets: &[u32], mode: Mode, budget: usize) -> Found {
    let g = index.graph();
    let mut dist: AHashMap<u32, f64> = AHashMap::new();
    let mut prev: AHashMap<u32, (u32, u32)> = AHashMap::new(); // account -> (previous account, artifact)
    let mut corroborated: AHashMap<u64, bool> = AHashMap::new();
    let mut heap = BinaryHeap::new();
    for &s in sources {
        dist.insert(s, 0.0);
        heap.push(Entry { cost: 0.0, account: s });
    }
    let mut pending: ahash::AHashSet<u32> = targets.iter().copied().collect();
    let mut settled = 0usize;
    while let Some(Entry { cost, account: x }) = heap.pop() {
        if dist.get(&x).is_some_and(|&d| cost > d) {
            continue;
        }
        pending.remove(&x);
        settled += 1;
        if pending.is_empty() || settled >= budget {
            break;
        }
        for &f in g.artifacts_of(AccountId::from_u32(x)) {
            let fid = ArtifactId::from_u32(f);
            let d = g.degree(fid);
            if d < 2 || (mode == Mode::Linking && index.hubs.contains(f)) {
                continue;
            }
            let k = g.art_kind[f as usize].as_usize();
            let policy = index.policy().kind_policy(index.kind_name(g.kind(fid)));
            let weight = policy.evidence_weight().max(1e-3) * core::f64::consts::LN_2 / f64::from(d).ln();
            let window = index.resolved.window[k];
            for &y in g.accounts_of(fid) {
                if y == x {
                    continue;
                }
                let penalty = match blocked(index, f, x, y, &mut corroborated) {
                    None => 0.0,
                    Some(_) if mode == Mode::Linking => continue,
                    Some(_) => BLOCKED_COST,
                };
                let gap = if window.is_some() { min_gap(index, f, x, y) } else { 0 };
                let time_factor = window.map_or(1.0, |w| 1.0 + (gap as f64 / w.max(1) as f64).min(1e3));
                let next = cost + penalty + time_factor / weight;
                if dist.get(&y).is_none_or(|&old| next < old) {
                    dist.insert(y, next);
                    prev.insert(y, (x, f));
                    heap.push(Entry { cost: next, account: y });
                }
            }
        }
    }
    Found { prev, dist, sources: sources.to_vec(), mode }
}

fn step(index: &Index, x: u32, y: u32, f: u32) -> Step {
    let fid = ArtifactId::from_u32(f);
    let (from, to) = (AccountId::from_u32(x), AccountId::from_u32(y));
    let kind = index.kind_name(index.artifact_kind(fid)).to_string();
    let weak = index.policy().kind_policy(&kind).strength() == Strength::Weak;
    let corroborated_by = if weak {
        corroboration(index, x, y).1.into_iter().filter(|&o| o != fid).collect()
    } else {
        Vec::new()
    };
    Step {
        from,
        to,
        artifact: fid,
        value: index.artifact_first_written(fid).to_string(),
        kind,
        accounts: index.graph().degree(fid),
        from_times: times_of(index, fid, from),
        to_times: times_of(index, fid, to),
        group_corroborated: weak && group_ordinal(index, f, x, y).is_some(),
        corroborated_by,
        blocked: None,
    }
}
