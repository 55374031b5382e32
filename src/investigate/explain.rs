//! Explanations: why two accounts belong together, as a chain of evidence an analyst can read.
//!
//! Every judgement here is the evidence model's (the crate's `evidence` stage): whether a step links, and
//! why not, and how much a shared artifact weighs, are asked of it, as linking asks them.
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
use std::fmt;

use ahash::AHashMap;

pub use crate::evidence::Blocked;
use crate::graph::NO_TIME;
use crate::id::{AccountId, ArtifactId, ClusterId};
use crate::index::{Index, Level};

/// An artifact that corroborates a weak step.
///
/// # Examples
///
/// See [`Step::corroborated_by`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Corroboration {
    /// The artifact.
    pub artifact: ArtifactId,
    /// Its kind's name.
    pub kind: String,
    /// Its value as first written in the input.
    pub value: String,
}

/// One step of a chain: `from` and `to` both used `artifact`.
///
/// # Examples
///
/// See [`explain`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Step {
    /// The account the step leaves.
    pub from: AccountId,
    /// Its name.
    pub from_name: String,
    /// The account it reaches.
    pub to: AccountId,
    /// Its name.
    pub to_name: String,
    /// The shared artifact.
    pub artifact: ArtifactId,
    /// Its kind's name.
    pub kind: String,
    /// Its value as first written in the input.
    pub value: String,
    /// How many accounts in all used it.
    pub accounts: u32,
    /// The evidence weight of the step (`w_kind · ln 2 / ln d`).
    pub weight: f64,
    /// When `from` used it (sorted; empty when untimed).
    pub from_times: Vec<i64>,
    /// When `to` used it (sorted; empty when untimed).
    pub to_times: Vec<i64>,
    /// For a weak artifact: the other artifacts `from` and `to` share that corroborate it.
    pub corroborated_by: Vec<Corroboration>,
    /// For a weak artifact: true when it links as a group (most of its accounts are tied by
    /// other evidence), see [`crate::policy::LinkPolicy::group_cohesion`].
    pub group_corroborated: bool,
    /// Why this step does not link, if it does not (only in a not-linked chain).
    pub blocked: Option<Blocked>,
}

/// The answer of [`explain`]. Its `Display` is the readable text an investigator gets.
///
/// # Examples
///
/// See [`explain`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

fn times(ts: &[i64]) -> String {
    use crate::time::format_rfc3339 as t;
    match ts {
        [] => "untimed".to_string(),
        [one] => t(*one),
        [first, .., last] => format!("{} … {} ({} uses)", t(*first), t(*last), ts.len()),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = self.blocked.map(|b| format!("  ✗ {b}")).unwrap_or_default();
        writeln!(f, "{}  —{}: {}—  {}{mark}", self.from_name, self.kind, self.value, self.to_name)?;
        write!(
            f,
            "     shared by {} account(s); {} used it {}; {} used it {}",
            self.accounts,
            self.from_name,
            times(&self.from_times),
            self.to_name,
            times(&self.to_times)
        )?;
        if self.group_corroborated {
            write!(f, "\n     corroborated as a group: most of its accounts are tied by other evidence")?;
        }
        if !self.corroborated_by.is_empty() {
            let c: Vec<String> =
                self.corroborated_by.iter().map(|c| format!("{} {}", c.kind, c.value)).collect();
            write!(f, "\n     corroborated by: {}", c.join(", "))?;
        }
        Ok(())
    }
}

fn write_path(f: &mut fmt::Formatter<'_>, path: &[Step]) -> fmt::Result {
    for (i, s) in path.iter().enumerate() {
        let text = s.to_string().replace('\n', "\n  ");
        writeln!(f, "  {}. {text}", i + 1)?;
    }
    Ok(())
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Explanation::Same => writeln!(f, "the same account twice"),
            Explanation::Linked { path, operators } => {
                let (a, b) = match (path.first(), path.last()) {
                    (Some(first), Some(last)) => (first.from_name.as_str(), last.to_name.as_str()),
                    _ => ("", ""),
                };
                writeln!(f, "LINKED: {a} and {b} are joined by {} step(s) of evidence:", path.len())?;
                write_path(f, path)?;
                match operators {
                    Some((x, y)) if x == y => writeln!(f, "Community detection puts both in operator {x}."),
                    Some((x, y)) => writeln!(
                        f,
                        "Community detection splits them: {a} is in operator {x}, {b} in operator {y} (the chain is thin)."
                    ),
                    None => Ok(()),
                }
            }
            Explanation::NotLinked { path: None } => {
                writeln!(f, "NOT LINKED: the two accounts share no evidence at any distance.")
            }
            Explanation::NotLinked { path: Some(path) } => {
                let (a, b) = match (path.first(), path.last()) {
                    (Some(first), Some(last)) => (first.from_name.as_str(), last.to_name.as_str()),
                    _ => ("", ""),
                };
                let reasons: Vec<String> = self.reasons().iter().map(|r| r.to_string()).collect();
                writeln!(f, "NOT LINKED: {a} and {b} connect only through {}.", reasons.join(" and "))?;
                writeln!(f, "The nearest chain, with the steps that do not link marked:")?;
                write_path(f, path)
            }
        }
    }
}

/// Cost added per non-linking step in the relaxed search: far above any linking chain.
const BLOCKED_COST: f64 = 1e6;

/// The least kind weight a search step divides by.
const MIN_KIND_WEIGHT: f64 = 1e-3;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Linking,
    Relaxed,
}

/// Explains how `a` and `b` are linked, or why they are not; see the [module docs](self).
///
/// # Panics
///
/// Panics when `a` or `b` is not an account of `index` (see [`Index::check`]).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, explain::{Blocked, Explanation, explain}, policy::Suppressed};
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
/// let why = explain(&index, id("a"), id("c"));
/// match &why {
///     Explanation::Linked { path, .. } => {
///         let kinds: Vec<&str> = path.iter().map(|s| s.kind.as_str()).collect();
///         assert_eq!(kinds, ["device", "payment"]);
///     }
///     other => panic!("{other:?}"),
/// }
/// assert!(why.to_string().starts_with("LINKED: a and c are joined by 2 step(s) of evidence:"));
/// let why = explain(&index, id("a"), id("x7"));
/// assert!(matches!(why, Explanation::NotLinked { path: Some(_) }));
/// assert_eq!(why.reasons(), vec![Blocked::Hub(Suppressed::Incoherent)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn explain(index: &Index, a: AccountId, b: AccountId) -> Explanation {
    for x in [a, b] {
        if let Err(e) = index.check(x) {
            panic!("{e}");
        }
    }
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
/// use sellerlink::{IndexBuilder, Level, explain::same_cluster};
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

/// A search entry: ties in cost go to the account first in name order, so a chain does not
/// depend on how ids were assigned.
#[derive(Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    rank: u32,
    account: AccountId,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.cost.total_cmp(&self.cost).then_with(|| other.rank.cmp(&self.rank))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether two accounts ended in one component.
fn linked(index: &Index) -> impl Fn(AccountId, AccountId) -> bool + '_ {
    |x, y| {
        let c = &index.components;
        c.cluster_of(x).is_some() && c.cluster_of(x) == c.cluster_of(y)
    }
}

/// Times an account used an artifact (sorted; empty when untimed).
pub(crate) fn times_of(index: &Index, f: ArtifactId, a: AccountId) -> Vec<i64> {
    index.graph().uses(f).filter(|u| u.account == a && u.time != NO_TIME).map(|u| u.time).collect()
}

fn search(index: &Index, a: AccountId, b: AccountId, mode: Mode) -> Option<Vec<Step>> {
    let found = dijkstra(index, &[a], &[b], mode, usize::MAX);
    found.path_to(index, b)
}

/// The result of a multi-source search: predecessor and cost per reached account.
pub(crate) struct Found {
    prev: AHashMap<AccountId, (AccountId, ArtifactId)>,
    pub(crate) dist: AHashMap<AccountId, f64>,
    sources: Vec<AccountId>,
    mode: Mode,
}

impl Found {
    /// The chain from the nearest source to `t`, if reached (empty when `t` is a source).
    pub(crate) fn path_to(&self, index: &Index, t: AccountId) -> Option<Vec<Step>> {
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
                        s.blocked = index.evidence.blocked(&index.graph, f, x, y, &mut memo, &linked(index));
                    }
                    s
                })
                .collect(),
        )
    }
}

/// Multi-source Dijkstra over evidence; stops once every target is settled or `budget`
/// accounts are settled.
pub(crate) fn dijkstra(
    index: &Index,
    sources: &[AccountId],
    targets: &[AccountId],
    mode: Mode,
    budget: usize,
) -> Found {
    let g = index.graph();
    let ev = &index.evidence;
    let rank = |a: AccountId| index.order.rank(a);
    let same = linked(index);
    let mut dist: AHashMap<AccountId, f64> = AHashMap::new();
    let mut prev: AHashMap<AccountId, (AccountId, ArtifactId)> = AHashMap::new();
    let mut corroborated: AHashMap<u64, bool> = AHashMap::new();
    let mut heap = BinaryHeap::new();
    for &s in sources {
        dist.insert(s, 0.0);
        heap.push(Entry { cost: 0.0, rank: rank(s), account: s });
    }
    let mut pending: ahash::AHashSet<AccountId> = targets.iter().copied().collect();
    let mut settled = 0usize;
    while let Some(Entry { cost, account: x, .. }) = heap.pop() {
        if dist.get(&x).is_some_and(|&d| cost > d) {
            continue;
        }
        pending.remove(&x);
        settled += 1;
        if pending.is_empty() || settled >= budget {
            break;
        }
        for &f in g.artifacts_of(x) {
            if g.degree(f) < 2 || (mode == Mode::Linking && ev.is_suppressed(f)) {
                continue;
            }
            let weight = ev.weight(g, f, MIN_KIND_WEIGHT);
            let window = ev.resolved.window[g.kind(f).as_usize()];
            for &y in g.accounts_of(f) {
                if y == x {
                    continue;
                }
                let penalty = match ev.blocked(g, f, x, y, &mut corroborated, &same) {
                    None => 0.0,
                    Some(_) if mode == Mode::Linking => continue,
                    Some(_) => BLOCKED_COST,
                };
                let gap = if window.is_some() { crate::evidence::Evidence::min_gap(g, f, x, y) } else { 0 };
                let time_factor = window.map_or(1.0, |w| 1.0 + (gap as f64 / w.max(1) as f64).min(1e3));
                let next = cost + penalty + time_factor / weight;
                match dist.get(&y) {
                    Some(&old) if next > old => {}
                    Some(&old) if next == old => {
                        // A tie: keep the step first in a canonical order (the account before
                        // in name order, then the artifact's kind and value), so the chain does
                        // not depend on how ids were assigned.
                        if let Some(&(px, pf)) = prev.get(&y) {
                            let key = |x: AccountId, f: ArtifactId| {
                                (rank(x), index.kind_name(g.kind(f)), index.artifact_value(f))
                            };
                            if key(x, f) < key(px, pf) {
                                prev.insert(y, (x, f));
                            }
                        }
                    }
                    _ => {
                        dist.insert(y, next);
                        prev.insert(y, (x, f));
                        heap.push(Entry { cost: next, rank: rank(y), account: y });
                    }
                }
            }
        }
    }
    Found { prev, dist, sources: sources.to_vec(), mode }
}

fn step(index: &Index, from: AccountId, to: AccountId, f: ArtifactId) -> Step {
    let g = index.graph();
    let ev = &index.evidence;
    let weak = ev.resolved.strength[g.kind(f).as_usize()] == crate::policy::Strength::Weak;
    let corroborated_by = if weak {
        ev.corroboration(g, from, to)
            .1
            .into_iter()
            .filter(|&o| o != f)
            .map(|o| Corroboration {
                artifact: o,
                kind: index.kind_name(g.kind(o)).to_string(),
                value: index.artifact_first_written(o).to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Step {
        from,
        from_name: index.account_name(from).to_string(),
        to,
        to_name: index.account_name(to).to_string(),
        artifact: f,
        value: index.artifact_first_written(f).to_string(),
        kind: index.kind_name(g.kind(f)).to_string(),
        accounts: g.degree(f),
        weight: ev.weight(g, f, 0.0),
        from_times: times_of(index, f, from),
        to_times: times_of(index, f, to),
        group_corroborated: weak && linked(index)(from, to) && ev.group_ordinal(g, f, from, to).is_some(),
        corroborated_by,
        blocked: None,
    }
}
