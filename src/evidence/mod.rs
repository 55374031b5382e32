//! Evidence: the one model of what a shared artifact proves, read by every later stage.
//!
//! The fourth stage of the pipeline judges the frozen graph under the [`LinkPolicy`]
//! ([`policy`] holds the settings and their defaults): [`Evidence::judge`] resolves the policy
//! against the graph's kinds (automatic caps become numbers), decides which artifacts are
//! *suppressed* and why ([`Suppressed`]: past their kind's cap or the ceiling, *incoherent*
//! because the accounts that share them are not otherwise related (see `coherence`), or
//! declared legitimate infrastructure by an analyst), which memberships of coherent artifacts
//! are *detached* (a second entity sharing them), and resolves the analyst's must-link and
//! cannot-link pairs to ids. Linking then records which weak artifacts it confirmed as a group
//! ([`Evidence::confirmed`]).
//!
//! Everything that asks "does this artifact link these two accounts, how strongly, and if not,
//! why not" asks it here, so link, explain, operators and reports cannot disagree:
//!
//! - **which accounts an artifact ties** ([`Evidence::strong_ties`], [`artifact_pairs`],
//!   [`for_each_time_group`]): for a strong kind, every account (or, with a time window, each
//!   chain of uses at most the window apart); for a weak kind, each pair of accounts with
//!   compatible uses, which needs corroboration;
//! - **corroboration** ([`Evidence::corroborates`], [`Evidence::corroboration`]): a weak pair
//!   links when it carries at least [`Resolved::corroboration`] distinct evidence keys (an
//!   artifact, or its kind's evidence group), or when its artifact's time group was confirmed
//!   as a whole ([`Evidence::group_confirms`]);
//! - **why not** ([`Evidence::blocked`]): a suppressed hub, uses outside the window, or weak
//!   evidence nothing corroborates;
//! - **how strongly** ([`Evidence::weight`]): a shared artifact of kind weight `w` used by `d`
//!   accounts weighs `w · ln 2 / ln d` per pair (1 for a pair of accounts, about 0.14 for a
//!   mule account serving 150 stores), so a big artifact holds its group together without
//!   outweighing rare, specific evidence;
//! - **pair keys** ([`pair_key`], [`group_key`]): one `u64` per account pair or artifact time
//!   group, wherever such keys are sorted or looked up.

mod coherence;
pub(crate) mod learn;

pub(crate) use coherence::{ACCOUNT_LIMIT, UNVERIFIED_MAX};

/// The coherence judgement of one artifact from a view of its neighbourhood (for `shard`).
pub(crate) mod coherence_view {
    pub(crate) use super::coherence::{AccountView, incoherent_in_round, sample_positions};
}
pub mod policy;

use roaring::RoaringBitmap;

use crate::graph::{Graph, NO_TIME};
use crate::id::{AccountId, ArtifactId};
use crate::intern::{Interner, NameOrder};
use crate::kind::Kinds;
use policy::{HubCap, LinkPolicy, Strength, auto_cap};

/// The key of an unordered account pair: the smaller id in the high half.
#[inline]
pub(crate) fn pair_key(a: AccountId, b: AccountId) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    u64::from(lo.as_u32()) << 32 | u64::from(hi.as_u32())
}

/// The two accounts of a [`pair_key`], smaller first.
#[inline]
pub(crate) fn unpair(key: u64) -> (AccountId, AccountId) {
    (AccountId::from_u32((key >> 32) as u32), AccountId::from_u32(key as u32))
}

/// The key of time group `ordinal` (in time order; 0 when unwindowed) of artifact `f`.
#[inline]
pub(crate) fn group_key(f: ArtifactId, ordinal: u32) -> u64 {
    u64::from(f.as_u32()) << 32 | u64::from(ordinal)
}

/// The artifact of a [`group_key`].
#[inline]
pub(crate) fn group_artifact(key: u64) -> ArtifactId {
    ArtifactId::from_u32((key >> 32) as u32)
}

/// The evidence one pair of accounts gets from one shared artifact of kind weight `w` used by
/// `d` accounts: `w · ln 2 / ln d` (`d` below 2 counts as 2).
#[inline]
pub(crate) fn rarity_weight(w: f64, d: u32) -> f64 {
    w * core::f64::consts::LN_2 / f64::from(d.max(2)).ln()
}

/// Why one shared artifact does not link two accounts under the policy.
///
/// # Examples
///
/// ```
/// use sellerlink::{explain::Blocked, policy::Suppressed};
/// assert_eq!(Blocked::Hub(Suppressed::Incoherent).describe(), "a suppressed hub");
/// assert_eq!(Blocked::Hub(Suppressed::Incoherent).to_string(), "a suppressed hub (incoherent: its accounts share nothing else)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Blocked {
    /// The artifact is suppressed, for the reason given.
    Hub(Suppressed),
    /// The two accounts used it further apart than the kind's time window.
    OutsideWindow,
    /// Weak evidence that the pair does not corroborate.
    Uncorroborated,
    /// One of the two belongs to a second group of the artifact's accounts, related among
    /// themselves but not to its main group: another entity's use of a shared artifact (a
    /// document sold to a second ring), which links it to nobody outside that group.
    Detached,
}

impl Blocked {
    /// A short phrase for reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::explain::Blocked;
    /// assert_eq!(Blocked::OutsideWindow.describe(), "uses outside the time window");
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            Blocked::Hub(_) => "a suppressed hub",
            Blocked::OutsideWindow => "uses outside the time window",
            Blocked::Uncorroborated => "uncorroborated weak evidence",
            Blocked::Detached => "another entity's use of a shared artifact",
        }
    }
}

impl core::fmt::Display for Blocked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Blocked::Hub(why) => write!(f, "{} ({why})", self.describe()),
            _ => f.write_str(self.describe()),
        }
    }
}

/// Why a shared artifact links nobody.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// // A café PC: fifteen storefronts that share nothing else.
/// for i in 0..15 {
///     b.add(&format!("s{i}"), "device", "cafe-pc-7", None)?;
///     b.add(&format!("s{i}"), "email", &format!("s{i}@example.com"), None)?;
/// }
/// let index = b.build()?;
/// let hub = index.hubs().next().expect("the café PC");
/// assert_eq!(hub.reason, sellerlink::policy::Suppressed::Incoherent);
/// assert_eq!(hub.reason.to_string(), "incoherent: its accounts share nothing else");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Suppressed {
    /// More accounts than its kind's cap or the policy's ceiling.
    Degree {
        /// The cap in force for its kind (the ceiling when the kind has no lower cap).
        cap: u32,
    },
    /// Its accounts are not otherwise related: no group related through other evidence holds
    /// the share the policy needs.
    Incoherent,
    /// Declared legitimate shared infrastructure by an analyst.
    Legitimate,
}

impl core::fmt::Display for Suppressed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Suppressed::Degree { cap } => write!(f, "degree: more than {cap} accounts"),
            Suppressed::Incoherent => f.write_str("incoherent: its accounts share nothing else"),
            Suppressed::Legitimate => f.write_str("legitimate shared infrastructure"),
        }
    }
}

/// A policy resolved against one graph's kinds: caps are numbers, windows and weights known.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Resolved {
    /// Strength per kind id.
    pub(crate) strength: Vec<Strength>,
    /// Hub cap per kind id (`u32::MAX` for unlimited).
    pub(crate) cap: Vec<u32>,
    /// Window per kind id.
    pub(crate) window: Vec<Option<u64>>,
    /// Evidence weight per kind id.
    pub(crate) weight: Vec<f64>,
    /// Corroboration weak evidence needs.
    pub(crate) corroboration: u32,
    /// Evidence group per kind id (`None`: each artifact counts on its own).
    pub(crate) group: Vec<Option<u32>>,
    /// Group-corroboration share, if on.
    pub(crate) cohesion: Option<f64>,
    /// Coherence share, if on.
    pub(crate) coherence: Option<f64>,
}

impl Resolved {
    /// Resolves `policy` for the kinds of `graph` (computing automatic caps from its degrees).
    pub(crate) fn new(graph: &Graph, kinds: &Kinds, policy: &LinkPolicy) -> Resolved {
        let mut strength = Vec::with_capacity(kinds.len());
        let mut cap = Vec::with_capacity(kinds.len());
        let mut window = Vec::with_capacity(kinds.len());
        let mut weight = Vec::with_capacity(kinds.len());
        let mut degrees_by_kind: Vec<Option<Vec<u32>>> = vec![None; kinds.len()];
        let mut group = Vec::with_capacity(kinds.len());
        let mut group_names: Vec<String> = Vec::new();
        let learned = policy.learned();
        let applied = |name: &str| learned.and_then(|l| l.kinds.get(name)).filter(|k| k.applied);
        // A kind derived from another is one piece of evidence with it: both take the group of
        // the root of the derivation (its policy group, or one named after it).
        let group_name = |name: &str| -> Option<String> {
            let mut root = name.to_string();
            for _ in 0..kinds.len() {
                match learned.and_then(|l| l.kinds.get(&root)).and_then(|k| k.derived_from.clone()) {
                    Some(base) => root = base,
                    None => break,
                }
            }
            let derived = root != name
                || learned.is_some_and(|l| l.kinds.values().any(|k| k.derived_from.as_deref() == Some(name)));
            match policy.kind_policy(&root).evidence_group() {
                Some(g) => Some(g.to_string()),
                None if derived => Some(format!("derived:{root}")),
                None => None,
            }
        };
        let mut derived: Vec<Option<String>> = Vec::with_capacity(kinds.len());
        for (k, name) in kinds.iter() {
            let p = policy.kind_policy(name);
            group.push(group_name(name).map(|g| match group_names.iter().position(|n| *n == g) {
                Some(i) => i as u32,
                None => {
                    group_names.push(g);
                    group_names.len() as u32 - 1
                }
            }));
            let builtin = k.as_usize() < crate::kind::BUILTINS.len();
            match applied(name) {
                // What was learned decides a custom kind's strength and weight; it can make a
                // weak built-in kind strong, never a strong one weak.
                Some(l) => {
                    let learned_strong = l.strong();
                    let strong = learned_strong || (builtin && p.strength() == Strength::Strong);
                    strength.push(if strong { Strength::Strong } else { Strength::Weak });
                    weight.push(if builtin {
                        p.evidence_weight()
                    } else {
                        l.posterior.max(l.corroborated).max(0.05)
                    });
                }
                None => {
                    strength.push(p.strength());
                    weight.push(p.evidence_weight());
                }
            }
            window.push(p.window());
            derived.push(learned.and_then(|l| l.kinds.get(name)).and_then(|l| l.derived_from.clone()));
            cap.push(match p.cap() {
                HubCap::Fixed(n) => n.min(policy.ceiling_accounts()),
                HubCap::Unlimited => policy.ceiling_accounts(),
                HubCap::Auto => {
                    degrees_by_kind[k.as_usize()] = Some(Vec::new());
                    0
                }
            });
        }
        // A kind derived from another is that kind's evidence again: it takes its strength and
        // weight.
        for k in 0..kinds.len() {
            if let Some(base) = derived[k].as_deref().and_then(|b| kinds.get(b)) {
                strength[k] = strength[base.as_usize()];
                weight[k] = weight[base.as_usize()];
            }
        }
        if degrees_by_kind.iter().any(Option::is_some) {
            for f in 0..graph.artifact_count() {
                let k = usize::from(graph.art_kind[f]);
                if let Some(Some(v)) = degrees_by_kind.get_mut(k) {
                    v.push(graph.art_off[f + 1] - graph.art_off[f]);
                }
            }
            for (k, d) in degrees_by_kind.into_iter().enumerate() {
                if let Some(d) = d {
                    cap[k] = auto_cap(&d).min(policy.ceiling_accounts());
                }
            }
        }
        Resolved {
            strength,
            cap,
            window,
            weight,
            corroboration: policy.corroboration_needed(),
            group,
            cohesion: policy.group_cohesion_needed(),
            coherence: policy.coherence_needed(),
        }
    }

    /// True when kind `k` links only with corroboration.
    #[inline]
    pub(crate) fn is_weak(&self, k: usize) -> bool {
        self.strength[k] == Strength::Weak && self.corroboration > 1
    }

    /// True when artifact `f` of `graph` has more accounts than its kind's cap.
    #[inline]
    pub(crate) fn over_cap(&self, graph: &Graph, f: ArtifactId) -> bool {
        graph.degree(f) > self.cap[graph.kind(f).as_usize()]
    }

    /// What one weak artifact counts as for corroboration: its evidence group, or itself.
    #[inline]
    pub(crate) fn evidence_key(&self, kind: usize, f: ArtifactId) -> u32 {
        match self.group[kind] {
            Some(g) => u32::MAX - g,
            None => f.as_u32(),
        }
    }
}

/// The analyst overrides of a policy, resolved to ids (pairs or artifacts not in the index are
/// ignored: an override about an unseen account takes effect once it is seen).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Decisions {
    /// Must-link account pairs.
    pub(crate) must: Vec<(AccountId, AccountId)>,
    /// Cannot-link account pairs.
    pub(crate) cannot: Vec<(AccountId, AccountId)>,
    /// Artifacts declared legitimate infrastructure.
    pub(crate) legitimate: RoaringBitmap,
}

impl Decisions {
    /// Resolves `policy`'s overrides against interned names; `live` says whether an account
    /// id is in use (an update may have removed it).
    pub(crate) fn resolve(
        policy: &LinkPolicy,
        kinds: &Kinds,
        accounts: &Interner,
        artifacts: &Interner,
        live: impl Fn(AccountId) -> bool,
    ) -> Decisions {
        let o = policy.overrides();
        let find = |name: &str| accounts.find(0, name).map(AccountId::from_u32).filter(|&a| live(a));
        let pair = |(a, b): &(String, String)| Some((find(a)?, find(b)?));
        let legitimate = Decisions::artifacts(kinds, artifacts, &o.legitimate);
        Decisions {
            must: o.must_link.iter().filter_map(pair).collect(),
            cannot: o.cannot_link.iter().filter_map(pair).filter(|(a, b)| a != b).collect(),
            legitimate,
        }
    }
}

impl Decisions {
    /// The ids of the artifacts `(kind, value as written)` that the index holds.
    fn artifacts(kinds: &Kinds, artifacts: &Interner, named: &[(String, String)]) -> RoaringBitmap {
        let mut buf = String::new();
        named
            .iter()
            .filter_map(|(kind, value)| find_written(kinds, artifacts, kind, value, &mut buf))
            .map(ArtifactId::as_u32)
            .collect()
    }
}

/// The artifact `value` of `kind` as written (normalised with the kind's normaliser, in `buf`),
/// if the interner holds it.
pub(crate) fn find_written(
    kinds: &Kinds,
    artifacts: &Interner,
    kind: &str,
    value: &str,
    buf: &mut String,
) -> Option<ArtifactId> {
    let k = kinds.get(kind)?;
    kinds.normalizer(k).normalize(value, buf).ok()?;
    artifacts.find(k.as_u32(), buf).map(ArtifactId::from_u32)
}

/// The judgement of one graph's evidence; see the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Evidence {
    /// The policy as resolved for the graph.
    pub(crate) resolved: Resolved,
    /// Artifacts of two or more accounts that link nobody: hubs past their cap or the ceiling,
    /// incoherent artifacts and legitimate infrastructure.
    pub(crate) suppressed: RoaringBitmap,
    /// The artifacts suppressed as incoherent (a subset of `suppressed`).
    pub(crate) incoherent: RoaringBitmap,
    /// Memberships an accepted artifact does not link (a second entity sharing it), as
    /// `(artifact, account)`, sorted.
    pub(crate) detached: Vec<(ArtifactId, AccountId)>,
    /// The artifacts with detached memberships.
    pub(crate) with_detached: RoaringBitmap,
    /// The analyst's overrides, as ids.
    pub(crate) decisions: Decisions,
    /// Weak artifact time groups confirmed by group corroboration ([`group_key`]s, sorted);
    /// filled in by linking.
    pub(crate) confirmed: Vec<u64>,
}

impl Evidence {
    /// Judges `graph` under `policy`: resolves it, decides the suppressed artifacts and
    /// resolves the overrides. Nothing is confirmed yet (linking does that).
    ///
    /// The artifacts `presumed` (`(kind, value)`) start rejected as incoherent: judged so over
    /// the whole market this graph is a piece of (empty for a whole market).
    pub(crate) fn judge(
        graph: &Graph,
        kinds: &Kinds,
        policy: &LinkPolicy,
        accounts: &Interner,
        artifacts: &Interner,
        order: &NameOrder,
        presumed: &[(String, String)],
    ) -> (Evidence, Option<policy::Learned>) {
        let resolved = Resolved::new(graph, kinds, policy);
        let decisions = Decisions::resolve(policy, kinds, accounts, artifacts, |a| {
            a.as_usize() < graph.account_count() && !graph.is_vacant(a)
        });
        let by_degree =
            |f: ArtifactId| resolved.over_cap(graph, f) || decisions.legitimate.contains(f.as_u32());
        let presumed = Decisions::artifacts(kinds, artifacts, presumed);
        let judgement = match resolved.coherence {
            Some(need) => {
                coherence::judge(graph, order, need, &presumed, |f| !by_degree(f), |g| !by_degree(g))
            }
            None => coherence::Judgement::default(),
        };
        let coherence::Judgement { rejected: incoherent, detached } = judgement;
        let mut suppressed: RoaringBitmap = (0..graph.artifact_count() as u32)
            .map(ArtifactId::from_u32)
            .filter(|&f| graph.degree(f) >= 2 && by_degree(f))
            .map(ArtifactId::as_u32)
            .collect();
        suppressed |= &incoherent;
        let with_detached = detached.iter().map(|(f, _)| f.as_u32()).collect();
        let mut evidence = Evidence {
            resolved,
            suppressed,
            incoherent,
            detached,
            with_detached,
            decisions,
            confirmed: Vec::new(),
        };
        if !policy.learns() || policy.learned().is_some() {
            return (evidence, None);
        }
        // Learn what the policy has not pinned, and resolve again with it (coherence reads only
        // who shares what, so its judgement stands).
        let custom = |k: usize| k >= crate::kind::BUILTINS.len();
        let est = learn::estimate(graph, kinds, &evidence, accounts, order, custom);
        let learned = learned_policy(&est, kinds);
        let pinned = policy.clone().with_learned(Some(learned.clone()));
        evidence.resolved = Resolved::new(graph, kinds, &pinned);
        (evidence, Some(learned))
    }

    /// Why artifact `f` links nobody, if it does not.
    pub(crate) fn suppression(&self, graph: &Graph, f: ArtifactId) -> Option<Suppressed> {
        if !self.is_suppressed(f) {
            None
        } else if self.decisions.legitimate.contains(f.as_u32()) {
            Some(Suppressed::Legitimate)
        } else if self.incoherent.contains(f.as_u32()) {
            Some(Suppressed::Incoherent)
        } else {
            let cap = self.resolved.cap[graph.kind(f).as_usize()];
            Some(Suppressed::Degree { cap })
        }
    }

    /// True when accepted artifact `f` does not link account `a` (a second entity using it).
    #[inline]
    pub(crate) fn is_detached(&self, f: ArtifactId, a: AccountId) -> bool {
        self.with_detached.contains(f.as_u32()) && self.detached.binary_search(&(f, a)).is_ok()
    }

    /// True when artifact `f` links nobody (a hub, or legitimate infrastructure).
    #[inline]
    pub(crate) fn is_suppressed(&self, f: ArtifactId) -> bool {
        self.suppressed.contains(f.as_u32())
    }

    /// True when group `ordinal` of weak artifact `f` was confirmed by group corroboration.
    pub(crate) fn is_confirmed(&self, f: ArtifactId, ordinal: u32) -> bool {
        self.confirmed.binary_search(&group_key(f, ordinal)).is_ok()
    }

    /// The evidence weight of one pair of accounts through artifact `f` of `graph`:
    /// `w_kind · ln 2 / ln d`. `floor` bounds the kind weight from below (a search that divides
    /// by the weight passes a small positive floor).
    #[inline]
    pub(crate) fn weight(&self, graph: &Graph, f: ArtifactId, floor: f64) -> f64 {
        let w = self.resolved.weight[graph.kind(f).as_usize()].max(floor);
        rarity_weight(w, graph.degree(f))
    }

    /// Calls `tie(a, b)` for pairs of accounts whose union makes strong artifact `f` tie what
    /// the policy says it ties: all its accounts, or with a window each chain of uses at most
    /// the window apart (an untimed use is compatible with every use).
    pub(crate) fn strong_ties(
        &self,
        graph: &Graph,
        f: ArtifactId,
        keep: impl Fn(AccountId) -> bool,
        mut tie: impl FnMut(AccountId, AccountId),
    ) {
        let window = self.resolved.window[graph.kind(f).as_usize()];
        let (accounts, times) = graph.use_slices(f);
        // An untimed use fits every window, so a kept untimed use ties all the kept accounts;
        // untimed uses sort first, and one that is not kept (detached) bridges nobody.
        let untimed_kept = |times: &[i64]| {
            accounts.iter().zip(times).take_while(|&(_, &t)| t == NO_TIME).any(|(&a, _)| keep(a))
        };
        match (window, times) {
            (Some(w), Some(times)) if !untimed_kept(times) => {
                let mut prev: Option<usize> = None;
                for i in 0..accounts.len() {
                    if times[i] == NO_TIME || !keep(accounts[i]) {
                        continue;
                    }
                    if let Some(p) = prev {
                        if times[i].abs_diff(times[p]) <= w {
                            tie(accounts[p], accounts[i]);
                        }
                    }
                    prev = Some(i);
                }
            }
            _ => {
                let mut kept = accounts.iter().copied().filter(|&a| keep(a));
                if let Some(first) = kept.next() {
                    for a in kept {
                        tie(first, a);
                    }
                }
            }
        }
    }

    /// True when a weak time group of `size` accounts, `held` of which lie in one component,
    /// attaches its unlinked accounts to that component (group corroboration).
    #[inline]
    pub(crate) fn group_confirms(&self, held: usize, size: usize) -> bool {
        self.resolved.cohesion.is_some_and(|share| size >= 3 && held as f64 >= share * size as f64)
    }

    /// True when group corroboration may consider artifact `f`: weak, three or more accounts,
    /// not suppressed, and the policy has it on.
    #[inline]
    pub(crate) fn groupable(&self, graph: &Graph, f: ArtifactId) -> bool {
        self.resolved.cohesion.is_some()
            && self.resolved.is_weak(graph.kind(f).as_usize())
            && graph.degree(f) >= 3
            && !self.is_suppressed(f)
    }

    /// The smallest gap between uses of `f` by `x` and `y` (0 when either has an untimed use,
    /// `u64::MAX` when one of them never used it).
    pub(crate) fn min_gap(graph: &Graph, f: ArtifactId, x: AccountId, y: AccountId) -> u64 {
        let (accounts, times) = graph.use_slices(f);
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

    /// True when `x` and `y` used `f` further apart than its kind's window.
    fn outside_window(&self, graph: &Graph, f: ArtifactId, x: AccountId, y: AccountId) -> bool {
        self.resolved.window[graph.kind(f).as_usize()].is_some_and(|w| Self::min_gap(graph, f, x, y) > w)
    }

    /// The distinct evidence keys, and the artifacts, through which weak pair `(x, y)` is
    /// corroborated: non-suppressed weak artifacts both used within the kind's window.
    pub(crate) fn corroboration(
        &self,
        graph: &Graph,
        x: AccountId,
        y: AccountId,
    ) -> (usize, Vec<ArtifactId>) {
        let (ax, ay) = (graph.artifacts_of(x), graph.artifacts_of(y));
        let (mut i, mut j) = (0, 0);
        let mut keys = Vec::new();
        let mut arts = Vec::new();
        while i < ax.len() && j < ay.len() {
            match ax[i].cmp(&ay[j]) {
                core::cmp::Ordering::Less => i += 1,
                core::cmp::Ordering::Greater => j += 1,
                core::cmp::Ordering::Equal => {
                    let f = ax[i];
                    let k = graph.kind(f).as_usize();
                    if !self.is_suppressed(f)
                        && !self.is_detached(f, x)
                        && !self.is_detached(f, y)
                        && !self.outside_window(graph, f, x, y)
                        && self.resolved.strength[k] == Strength::Weak
                    {
                        keys.push(self.resolved.evidence_key(k, f));
                        arts.push(f);
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

    /// True when weak pair `(x, y)` carries the corroboration the policy needs.
    pub(crate) fn corroborates(&self, graph: &Graph, x: AccountId, y: AccountId) -> bool {
        self.corroboration(graph, x, y).0 >= self.resolved.corroboration as usize
    }

    /// The ordinal of the confirmed time group of weak artifact `f` holding both `x` and `y`.
    pub(crate) fn group_ordinal(
        &self,
        graph: &Graph,
        f: ArtifactId,
        x: AccountId,
        y: AccountId,
    ) -> Option<u32> {
        let k = graph.kind(f).as_usize();
        let mut found = None;
        let mut buf = Vec::new();
        for_each_time_group(graph, f, self.resolved.window[k], &mut buf, |ordinal, g| {
            if found.is_none()
                && g.binary_search(&x).is_ok()
                && g.binary_search(&y).is_ok()
                && self.is_confirmed(f, ordinal)
            {
                found = Some(ordinal);
            }
        });
        found
    }

    /// Why the step `x —f— y` does not link, if it does not. `memo` caches the corroboration
    /// of pairs (by [`pair_key`]) across calls of one search; `linked` says whether two
    /// accounts ended in one component (a confirmed weak group links only the accounts it
    /// attached to its main component).
    pub(crate) fn blocked(
        &self,
        graph: &Graph,
        f: ArtifactId,
        x: AccountId,
        y: AccountId,
        memo: &mut ahash::AHashMap<u64, bool>,
        linked: &dyn Fn(AccountId, AccountId) -> bool,
    ) -> Option<Blocked> {
        if let Some(why) = self.suppression(graph, f) {
            return Some(Blocked::Hub(why));
        }
        if self.is_detached(f, x) || self.is_detached(f, y) {
            return Some(Blocked::Detached);
        }
        let weak = self.resolved.is_weak(graph.kind(f).as_usize());
        // A confirmed time group links its accounts whatever their pairwise gaps (its uses
        // chain within the window, or it has an untimed use).
        if weak && linked(x, y) && self.group_ordinal(graph, f, x, y).is_some() {
            return None;
        }
        if self.outside_window(graph, f, x, y) {
            return Some(Blocked::OutsideWindow);
        }
        if weak && !*memo.entry(pair_key(x, y)).or_insert_with(|| self.corroborates(graph, x, y)) {
            return Some(Blocked::Uncorroborated);
        }
        None
    }
}

/// Calls `visit(ordinal, accounts)` with each time-compatible group of an artifact's distinct
/// accounts (sorted), in time order: chains of uses at most `window` apart, or all accounts
/// (ordinal 0) when unwindowed or any use is untimed.
pub(crate) fn for_each_time_group(
    graph: &Graph,
    f: ArtifactId,
    window: Option<u64>,
    buf: &mut Vec<AccountId>,
    mut visit: impl FnMut(u32, &[AccountId]),
) {
    let (accounts, times) = graph.use_slices(f);
    match (window, times) {
        (Some(w), Some(times)) if times.first().is_some_and(|&t| t != NO_TIME) => {
            let mut start = 0;
            let mut ordinal = 0;
            for i in 1..=accounts.len() {
                if i == accounts.len() || times[i].abs_diff(times[i - 1]) > w {
                    buf.clear();
                    buf.extend_from_slice(&accounts[start..i]);
                    buf.sort_unstable();
                    buf.dedup();
                    visit(ordinal, buf);
                    ordinal += 1;
                    start = i;
                }
            }
        }
        _ => visit(0, graph.accounts_of(f)),
    }
}

/// Emits every pair of distinct accounts with compatible uses of `f`, as [`pair_key`]s
/// (possibly repeated; the caller deduplicates).
pub(crate) fn artifact_pairs(graph: &Graph, f: ArtifactId, window: Option<u64>, out: &mut Vec<u64>) {
    let (accounts, times) = graph.use_slices(f);
    let push = |out: &mut Vec<u64>, a: AccountId, b: AccountId| {
        if a != b {
            out.push(pair_key(a, b));
        }
    };
    match (window, times) {
        (Some(w), Some(times)) => {
            // Untimed uses sort first and pair with every account of the artifact.
            let untimed = times.iter().take_while(|&&t| t == NO_TIME).count();
            if untimed > 0 {
                let distinct = graph.accounts_of(f);
                for &a in &accounts[..untimed] {
                    for &b in distinct {
                        push(out, a, b);
                    }
                }
            }
            // Timed uses: a sliding window with a count per account, so each use pairs with
            // the distinct accounts in its window (at most the hub cap), not with every use:
            // millions of uses by two accounts cost linear time.
            let mut in_window: Vec<(AccountId, u32)> = Vec::new(); // (account, uses in window)
            let mut lo = untimed;
            for i in untimed..accounts.len() {
                while times[i].abs_diff(times[lo]) > w {
                    if let Some(slot) = in_window.iter_mut().find(|(a, _)| *a == accounts[lo]) {
                        slot.1 -= 1;
                    }
                    in_window.retain(|&(_, n)| n > 0);
                    lo += 1;
                }
                for &(b, _) in &in_window {
                    push(out, accounts[i], b);
                }
                match in_window.iter_mut().find(|(a, _)| *a == accounts[i]) {
                    Some(slot) => slot.1 += 1,
                    None => in_window.push((accounts[i], 1)),
                }
            }
        }
        _ => {
            let distinct = graph.accounts_of(f);
            for (i, &a) in distinct.iter().enumerate() {
                for &b in &distinct[i + 1..] {
                    push(out, a, b);
                }
            }
        }
    }
}

/// The learned policy an estimate gives, per kind by name.
pub(crate) fn learned_policy(est: &learn::Estimate, kinds: &Kinds) -> policy::Learned {
    policy::Learned {
        match_share: est.lambda,
        pairs: est.pairs,
        kinds: kinds
            .iter()
            .map(|(k, name)| {
                let f = est.fields[est.field_of[k.as_usize()]];
                let kind = policy::LearnedKind {
                    m: f.m,
                    u: f.u,
                    posterior: est.posterior(k.as_usize()),
                    corroborated: est.corroborated(k.as_usize()),
                    derived_from: est.derived_from[k.as_usize()].map(|b| kinds.name(b).to_string()),
                    applied: true,
                };
                (name.to_string(), kind)
            })
            .collect(),
    }
}
