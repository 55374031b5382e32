//! Coherence: whether the accounts that share an artifact are otherwise related.
//!
//! A degree cap judges an artifact by its size alone: it counts a café PC shared by 15 strangers
//! as evidence and a 60-record entity's own identifier as a hub. Coherence judges it by its
//! accounts instead. For an artifact `f` of three or more accounts, relate its accounts through
//! the *other* evidence they share, and call `f` coherent when one related group holds at least
//! [`LinkPolicy::coherence_needed`](super::policy::LinkPolicy::coherence_needed) of the accounts
//! that have other evidence. A ring's mule account, whose storefronts also share laptops,
//! documents and office IPs in overlapping subsets, is coherent; a café PC, whose users share
//! nothing else, is not, and neither is a document sold to several rings (its accounts fall
//! into one group per ring). A coherent artifact links its main group and the accounts that
//! belong to no other group; a second group of two or more accounts (the other ring that
//! bought a document) is *detached*: the artifact does not link it. So is a lone account that
//! belongs to another entity: related outside the artifact by two or more accepted artifacts,
//! and none of the accounts it is so related to shares anything with the main group (a ring
//! that used a bought document on one storefront). A lone account whose other evidence leads
//! back to the main group stays linked (a record whose document number was mistyped, related
//! to its entity through its other records). Without this rule, documents sold to several
//! rings chained the rings into one component as soon as brokers were twice as common as in
//! the default hostile market (largest component 3,052 of 40k accounts, component F1 0.05;
//! with it 439 and 0.50), while the real record-linkage sets kept or improved their scores.
//!
//! The rules that keep the judgement honest:
//!
//! - **Only accepted evidence relates.** The set of accepted artifacts is the greatest fixpoint
//!   of "accepted when coherent through accepted others": start from every artifact and reject
//!   the incoherent ones until nothing changes. A café's PC and its router cannot vouch for each
//!   other, because each fails on its own evidence; a ring's artifacts, which relate each
//!   other's accounts in many overlapping ways, survive together. Rejection only removes
//!   support, so the fixpoint is unique and input order cannot change it.
//! - **One event is one piece of evidence.** A use of `g` within [`SESSION`] of the same
//!   account's use of `f` is the same visit seen twice (a café PC, the café's router and its
//!   public IP minutes later), so it does not relate that account through `g` when judging `f`.
//! - **Only comparable evidence relates.** An artifact more than [`SCALE`] times larger than
//!   `f` (a VPN exit or carrier NAT shared by hundreds) says nothing about whether `f`'s few
//!   accounts are one entity, so it neither relates them nor counts as evidence they have.
//! - **What cannot be judged is trusted only when small.** When fewer than two of `f`'s
//!   accounts have any other evidence, `f` links them if it has at most [`UNVERIFIED_MAX`]
//!   accounts (a person's few records, a household, a small firm); a larger crowd that shares
//!   nothing else is a hub.
//! - **Bounded work.** An artifact is judged on at most [`SAMPLE`] of its accounts (an evenly
//!   spaced sample in name order, so the sample does not depend on ids or input order), and an
//!   account with more than [`ACCOUNT_LIMIT`] artifacts relates nothing (a hostile account
//!   sharing one artifact with each of a million others costs nothing here). Judging every
//!   artifact costs `O(Σ_f min(d_f, SAMPLE) · ACCOUNT_LIMIT)` at worst, and about
//!   `Σ_f min(d_f, SAMPLE) · 6` on marketplace data.
//!
//! Artifacts of two accounts are not judged for coherence (there is no third account to
//! relate), but the lone-account rule applies to them: when both accounts belong to other
//! entities (each related elsewhere by two or more accepted artifacts, and nothing related to
//! one leads back to the other), the artifact links nobody. A document sold to two rings and
//! used once by each no longer joins them (hostile 40k market with brokers twice as common:
//! component F1 0.50 -> 0.59), and people who moved (pseudopeople_w2) lose nothing by it
//! (components 0.739 -> 0.798).

use roaring::RoaringBitmap;

use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId};
use crate::intern::NameOrder;
use crate::unionfind::UnionFind;

/// The most accounts of one artifact that its judgement reads.
pub(crate) const SAMPLE: usize = 64;

/// Accounts with more artifacts than this relate nothing in coherence judgements.
pub(crate) const ACCOUNT_LIMIT: usize = 64;

/// The most accounts an artifact may have and still link when it cannot be judged (fewer than
/// two of its accounts have any other evidence): a person's few records, a household or a
/// small firm are taken on trust; a larger crowd that shares nothing else is a hub.
pub(crate) const UNVERIFIED_MAX: usize = 8;

/// An artifact more than this many times larger than the one judged (or than
/// [`UNVERIFIED_MAX`], for small ones) neither informs nor relates its judgement.
pub(crate) const SCALE: usize = 4;

/// The fewest accepted artifacts relating a lone account of an artifact to accounts outside it
/// for the account to count as another entity's (see `Groups::secondary`).
const LONE_MIN: u8 = 2;

/// The most artifact memberships read to tell whether a lone account leads back to the main
/// group; beyond it the account stays linked.
const LONE_READ: usize = 4096;

/// Uses of two artifacts by one account at most this far apart (seconds) are one event.
pub(crate) const SESSION: u64 = 3600;

/// Each account's first use time of each of its artifacts, aligned with the account side of
/// the graph (`u32` seconds after the earliest use; `u32::MAX` when untimed).
pub(crate) struct FirstUse(Vec<u32>);

impl FirstUse {
    pub(crate) fn new(graph: &Graph) -> FirstUse {
        FirstUse::new_in(graph, crate::graph::parts_for(graph.acc_art.len()))
    }

    /// [`FirstUse::new`] in `parts` parts.
    fn new_in(graph: &Graph, parts: usize) -> FirstUse {
        let mut out = crate::graph::filled(graph.acc_art.len(), u32::MAX);
        if !graph.is_timed() {
            return FirstUse(out);
        }
        let base = graph.ev_time.iter().copied().filter(|&t| t != crate::graph::NO_TIME).min().unwrap_or(0);
        // Each part owns a range of accounts (and their slots): it reads every use and records
        // only its own accounts', so the result does not depend on the number of parts.
        let n = graph.account_count();
        let cuts = crate::graph::even_cuts(n, parts);
        let slot_cuts: Vec<usize> = cuts.iter().map(|&c| graph.acc_off[c] as usize).collect();
        crate::graph::for_each_part(&mut out, &slot_cuts, |k, part| {
            let (lo, hi, start) = (cuts[k], cuts[k + 1], slot_cuts[k]);
            // Artifacts in id order meet each account's (sorted) artifacts in order, so a
            // cursor per account finds the slot of each use without a search.
            let mut cursor: Vec<u32> = graph.acc_off[lo..hi].to_vec();
            for f in (0..graph.artifact_count() as u32).map(ArtifactId::from_u32) {
                let (accounts, times) = graph.use_slices(f);
                let Some(times) = times else { continue };
                for (&a, &t) in accounts.iter().zip(times) {
                    if !(lo..hi).contains(&a.as_usize()) {
                        continue;
                    }
                    let end = graph.acc_off[a.as_usize() + 1];
                    let at = &mut cursor[a.as_usize() - lo];
                    while *at < end && graph.acc_art[*at as usize] < f {
                        *at += 1;
                    }
                    if t == crate::graph::NO_TIME || *at == end || graph.acc_art[*at as usize] != f {
                        continue;
                    }
                    let rel = u32::try_from((t - base).max(0)).unwrap_or(u32::MAX - 1);
                    let slot = &mut part[*at as usize - start];
                    *slot = (*slot).min(rel);
                }
            }
        });
        FirstUse(out)
    }

    /// The first use times of account `a`'s artifacts, in the order of `graph.artifacts_of(a)`.
    fn row<'s>(&'s self, graph: &Graph, a: AccountId) -> &'s [u32] {
        let r = graph.acc_off[a.as_usize()] as usize..graph.acc_off[a.as_usize() + 1] as usize;
        &self.0[r]
    }
}

fn coincident(x: u32, y: u32) -> bool {
    x != u32::MAX && y != u32::MAX && u64::from(x.abs_diff(y)) <= SESSION
}

/// The judgement of the artifacts of three or more accounts.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Judgement {
    /// Incoherent artifacts: they link nobody.
    pub(crate) rejected: RoaringBitmap,
    /// Memberships an accepted artifact does not link: accounts of a second related group
    /// (another entity that shares the artifact), as `(artifact, account)`, sorted.
    pub(crate) detached: Vec<(ArtifactId, AccountId)>,
}

/// Judges the artifacts for which `candidate` holds, relating accounts through the artifacts
/// for which `usable` holds (and that are not themselves rejected). `need` is the share of an
/// artifact's informative accounts that one related group must hold.
pub(crate) fn judge(
    graph: &Graph,
    order: &NameOrder,
    need: f64,
    presumed: &RoaringBitmap,
    candidate: impl Fn(ArtifactId) -> bool + Sync,
    usable: impl Fn(ArtifactId) -> bool + Sync,
) -> Judgement {
    // Artifacts presumed incoherent (judged so over the whole market) start rejected and are
    // not judged again.
    let candidates: Vec<ArtifactId> = (0..graph.artifact_count() as u32)
        .map(ArtifactId::from_u32)
        .filter(|&f| graph.degree(f) >= 3 && candidate(f) && !presumed.contains(f.as_u32()))
        .collect();
    let first = FirstUse::new(graph);
    let mut rejected: RoaringBitmap =
        presumed.iter().filter(|&f| candidate(ArtifactId::from_u32(f))).collect();
    let mut queued = RoaringBitmap::new();
    // The secondary groups of each accepted artifact read whole (at most SAMPLE accounts), as
    // of its last judgement. Every rejection that could change an artifact's groups queues it
    // again (below), so its last judgement stands at the fixpoint.
    let mut secondary: ahash::AHashMap<ArtifactId, Vec<AccountId>> = ahash::AHashMap::new();
    let mut work = candidates.clone();
    while !work.is_empty() {
        // Judge the whole round against the rejections so far: rejection only removes
        // support, so rounds reach the same fixpoint as any sequential order.
        let judge = |&f: &ArtifactId| -> (ArtifactId, bool, Vec<AccountId>) {
            let accounts = sample(graph, order, f);
            let groups =
                Groups::new(graph, &first, f, &accounts, &usable, |g| !rejected.contains(g.as_u32()));
            if !groups.coherent(need, graph.degree(f)) {
                return (f, true, Vec::new());
            }
            let whole = accounts.len() == graph.degree(f) as usize;
            let detach = if whole {
                groups.secondary(graph, order, f, |g| usable(g) && !rejected.contains(g.as_u32()))
            } else {
                Vec::new()
            };
            (f, false, detach)
        };
        #[cfg(feature = "rayon")]
        let judged: Vec<(ArtifactId, bool, Vec<AccountId>)> = {
            use rayon::prelude::*;
            work.par_iter().with_min_len(256).map(judge).collect()
        };
        #[cfg(not(feature = "rayon"))]
        let judged: Vec<(ArtifactId, bool, Vec<AccountId>)> = work.iter().map(judge).collect();
        let mut newly = Vec::new();
        for (f, incoherent, detach) in judged {
            if incoherent {
                rejected.insert(f.as_u32());
                newly.push(f);
                secondary.remove(&f);
            } else if detach.is_empty() {
                secondary.remove(&f);
            } else {
                secondary.insert(f, detach);
            }
        }
        // Who may have lost support: the other candidates of the rejected artifacts' accounts.
        queued.clear();
        let mut next = Vec::new();
        for &f in &newly {
            for &a in graph.accounts_of(f) {
                let arts = graph.artifacts_of(a);
                if arts.len() > ACCOUNT_LIMIT {
                    continue;
                }
                for &h in arts {
                    // A rejected artifact far larger than `h` never informed `h`'s judgement.
                    if h != f
                        && graph.degree(h) >= 3
                        && graph.degree(f) as usize <= SCALE * (graph.degree(h) as usize).max(UNVERIFIED_MAX)
                        && !rejected.contains(h.as_u32())
                        && queued.insert(h.as_u32())
                        && candidate(h)
                    {
                        next.push(h);
                    }
                }
            }
        }
        work = next;
    }
    // The accepted artifacts link their main group and every account not in another group;
    // those judged on a sample are grouped whole now.
    let detach = |&f: &ArtifactId| -> Vec<(ArtifactId, AccountId)> {
        let accounts = graph.accounts_of(f);
        if rejected.contains(f.as_u32()) || accounts.len() <= SAMPLE {
            return Vec::new();
        }
        let groups = Groups::new(graph, &first, f, accounts, &usable, |g| !rejected.contains(g.as_u32()));
        groups
            .secondary(graph, order, f, |g| usable(g) && !rejected.contains(g.as_u32()))
            .into_iter()
            .map(|a| (f, a))
            .collect()
    };
    #[cfg(feature = "rayon")]
    let mut detached: Vec<(ArtifactId, AccountId)> = {
        use rayon::prelude::*;
        candidates.par_iter().with_min_len(256).flat_map_iter(detach).collect()
    };
    #[cfg(not(feature = "rayon"))]
    let mut detached: Vec<(ArtifactId, AccountId)> = candidates.iter().flat_map(detach).collect();
    // Artifacts of two accounts have no third to relate, so they are not judged above; but two
    // accounts that each belong to another entity (related elsewhere by two or more accepted
    // artifacts, and nothing they are related to leads back to the other) are two entities
    // that happen to share it: a document sold to two rings, used once by each.
    {
        let pair = |&f: &ArtifactId| -> Option<(ArtifactId, AccountId)> {
            let accounts = graph.accounts_of(f);
            let groups = Groups::new(graph, &first, f, accounts, &usable, |g| !rejected.contains(g.as_u32()));
            // The two in name order (ids are not, after an update), so that the judgement does
            // not depend on how ids were assigned.
            let (first, later) =
                if order.rank(accounts[0]) < order.rank(accounts[1]) { (0, 1) } else { (1, 0) };
            groups
                .strangers(graph, f, (first, later), |g| usable(g) && !rejected.contains(g.as_u32()))
                // Detach the later one: the artifact then links nobody.
                .then(|| (f, accounts[later]))
        };
        let pairs: Vec<ArtifactId> = (0..graph.artifact_count() as u32)
            .map(ArtifactId::from_u32)
            .filter(|&f| graph.degree(f) == 2 && candidate(f))
            .collect();
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            detached.extend(pairs.par_iter().with_min_len(256).filter_map(pair).collect::<Vec<_>>());
        }
        #[cfg(not(feature = "rayon"))]
        detached.extend(pairs.iter().filter_map(pair));
    }
    detached.extend(
        secondary
            .into_iter()
            .filter(|(f, _)| !rejected.contains(f.as_u32()))
            .flat_map(|(f, v)| v.into_iter().map(move |a| (f, a))),
    );
    detached.sort_unstable();
    Judgement { rejected, detached }
}

/// The accounts of `f` that its judgement reads: all of them, or [`SAMPLE`] evenly spaced in
/// name order.
fn sample<'g>(graph: &'g Graph, order: &NameOrder, f: ArtifactId) -> std::borrow::Cow<'g, [AccountId]> {
    let accounts = graph.accounts_of(f);
    if accounts.len() <= SAMPLE {
        return std::borrow::Cow::Borrowed(accounts);
    }
    let mut by_name = accounts.to_vec();
    if !order.is_identity() {
        by_name.sort_unstable_by_key(|&a| order.rank(a));
    }
    std::borrow::Cow::Owned(sample_positions(by_name.len()).into_iter().map(|i| by_name[i]).collect())
}

/// The artifacts through which one account's use of `f` (at first-use time `t_f`) can be
/// related to others: its artifacts other than `f` (`arts`, first used at `times`) that two or
/// more accounts use, that it did not use in the same session as `f`, and that are usable;
/// none when the account has more than [`ACCOUNT_LIMIT`] artifacts.
fn informing<'u, G: Copy + PartialEq + 'u>(
    arts: &'u [G],
    times: &'u [u32],
    f: G,
    t_f: u32,
    degree: impl Fn(G) -> u32 + 'u,
    usable: impl Fn(G) -> bool + 'u,
) -> impl Iterator<Item = G> + 'u {
    let readable = arts.len() <= ACCOUNT_LIMIT;
    arts.iter()
        .zip(times)
        .filter(move |&(&g, &t)| readable && g != f && degree(g) >= 2 && !coincident(t_f, t) && usable(g))
        .map(|(&g, _)| g)
}

/// What grouping some accounts of an artifact of `degree` accounts finds, from their
/// [`informing`] uses `(artifact, account position)`.
struct Core {
    informative: Vec<bool>,
    root: Vec<u32>,
    reaches_out: Vec<bool>,
    related_outside: Vec<u8>,
}

impl Core {
    fn from_uses<G: Copy + Ord>(
        n: usize,
        degree_f: u32,
        mut uses: Vec<(G, u32)>,
        degree: impl Fn(G) -> u32,
        accepted: impl Fn(G) -> bool,
    ) -> Core {
        let mut informative = vec![false; n];
        let mut reaches_out = vec![false; n];
        let mut related_outside = vec![0u8; n];
        uses.sort_unstable();
        let mut uf = UnionFind::new(n);
        let mut i = 0;
        while i < uses.len() {
            let mut j = i + 1;
            while j < uses.len() && uses[j].0 == uses[i].0 {
                j += 1;
            }
            let (g, run) = (uses[i].0, &uses[i..j]);
            i = j;
            // A far larger artifact (a VPN exit, a carrier NAT) says nothing about whether these
            // accounts are one entity: it neither informs nor relates.
            if degree(g) as usize > SCALE * (degree_f as usize).max(UNVERIFIED_MAX) {
                continue;
            }
            for &(_, x) in run {
                informative[x as usize] = true;
            }
            if accepted(g) && run.len() == 1 {
                let c = &mut related_outside[run[0].1 as usize];
                *c = c.saturating_add(1);
            }
            if accepted(g) && run.len() >= 2 {
                let outside = degree(g) as usize > run.len();
                for w in run.windows(2) {
                    uf.union(w[0].1, w[1].1);
                }
                if outside {
                    for &(_, x) in run {
                        reaches_out[x as usize] = true;
                    }
                }
            }
        }
        Core { informative, root: uf.roots(), reaches_out, related_outside }
    }
}

/// True when one group (by `root`) holds at least `need` of the informative accounts, or when
/// too few accounts are informative to judge (fewer than two) and the artifact is small enough
/// to take on trust (`degree` at most [`UNVERIFIED_MAX`]).
fn coherent(informative: &[bool], root: &[u32], need: f64, degree: u32) -> bool {
    let count = informative.iter().filter(|&&b| b).count();
    if count < 2 {
        return degree as usize <= UNVERIFIED_MAX;
    }
    let mut sizes = vec![0usize; root.len()];
    for &r in root {
        sizes[r as usize] += 1;
    }
    let largest = sizes.into_iter().max().unwrap_or(0);
    largest as f64 >= need * count as f64
}

/// One account of an artifact's neighbourhood, for [`incoherent_in_round`]: its first use of
/// the artifact, and each of its artifacts with its first use, its degree and whether it is
/// usable (not a hub by degree), sorted by artifact key.
pub(crate) struct AccountView<K> {
    pub(crate) first_use: u32,
    pub(crate) uses: Vec<(K, u32, u32, bool)>,
}

/// True when an artifact of `degree` accounts, judged on the sampled accounts `accounts` (its
/// [`sample`], in name order) with the other artifacts for which `rejected` holds rejected and
/// every other accepted, is incoherent: a round of [`judge`]. When every artifact `rejected`
/// names is rejected at the fixpoint, rejection only confirms this one, so it is rejected at the
/// fixpoint too (with none rejected, it is the first round). `key` is the artifact's own key in
/// the accounts' lists.
pub(crate) fn incoherent_in_round<K: Copy + Ord>(
    need: f64,
    key: K,
    degree: u32,
    accounts: &[AccountView<K>],
    rejected: impl Fn(K) -> bool,
) -> bool {
    let mut uses: Vec<(K, u32)> = Vec::new();
    let mut degrees: Vec<(K, u32)> = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        let arts: Vec<K> = a.uses.iter().map(|u| u.0).collect();
        let times: Vec<u32> = a.uses.iter().map(|u| u.1).collect();
        let of = |g: K| a.uses.binary_search_by(|u| u.0.cmp(&g)).map_or(0, |j| a.uses[j].2);
        let usable = |g: K| a.uses.binary_search_by(|u| u.0.cmp(&g)).is_ok_and(|j| a.uses[j].3);
        uses.extend(informing(&arts, &times, key, a.first_use, of, usable).map(|g| (g, i as u32)));
        degrees.extend(a.uses.iter().map(|u| (u.0, u.2)));
    }
    degrees.sort_unstable();
    degrees.dedup_by_key(|d| d.0);
    let degree_of = |g: K| degrees.binary_search_by(|d| d.0.cmp(&g)).map_or(0, |j| degrees[j].1);
    let core = Core::from_uses(accounts.len(), degree, uses, degree_of, |g| !rejected(g));
    !coherent(&core.informative, &core.root, need, degree)
}

/// Which of `n` accounts (in name order) a judgement reads: all, or [`SAMPLE`] evenly spaced.
pub(crate) fn sample_positions(n: usize) -> Vec<usize> {
    if n <= SAMPLE {
        return (0..n).collect();
    }
    let step = n as f64 / SAMPLE as f64;
    (0..SAMPLE).map(|i| (i as f64 * step) as usize).collect()
}

/// Some accounts of an artifact `f`, grouped by the other evidence that relates them.
struct Groups<'a> {
    accounts: &'a [AccountId],
    /// Per account: true when it has other usable evidence at all (it could be related).
    informative: Vec<bool>,
    /// Per account: the root of its related group.
    root: Vec<u32>,
    /// Per account: true when evidence relating it to others of `f` also reaches accounts that
    /// do not use `f` (its group is part of something larger than `f`).
    reaches_out: Vec<bool>,
    /// Per account: how many accepted artifacts relate it to accounts outside `f` and to none
    /// of `f`'s other accounts (saturating).
    related_outside: Vec<u8>,
}

impl<'a> Groups<'a> {
    /// Groups `accounts` (of `f`) through the artifacts other than `f` that are usable, accepted
    /// (`accepted`), not used in the same session as `f` by the account, and do not enclose
    /// `accounts`. An account is informative when it has any other usable, non-coincident
    /// artifact, accepted or not (so that rejections only ever shrink groups).
    fn new(
        graph: &Graph,
        first: &FirstUse,
        f: ArtifactId,
        accounts: &'a [AccountId],
        usable: impl Fn(ArtifactId) -> bool,
        accepted: impl Fn(ArtifactId) -> bool,
    ) -> Groups<'a> {
        let degree = |g: ArtifactId| graph.degree(g);
        let mut uses: Vec<(ArtifactId, u32)> = Vec::new();
        for (i, &a) in accounts.iter().enumerate() {
            let arts = graph.artifacts_of(a);
            let times = first.row(graph, a);
            let t_f = arts.binary_search(&f).map_or(u32::MAX, |j| times[j]);
            uses.extend(informing(arts, times, f, t_f, degree, &usable).map(|g| (g, i as u32)));
        }
        let core = Core::from_uses(accounts.len(), graph.degree(f), uses, degree, accepted);
        Groups {
            accounts,
            informative: core.informative,
            root: core.root,
            reaches_out: core.reaches_out,
            related_outside: core.related_outside,
        }
    }

    /// The size of each group, by root.
    fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0usize; self.root.len()];
        for &r in &self.root {
            sizes[r as usize] += 1;
        }
        sizes
    }

    /// True when one group holds at least `need` of the informative accounts, or when too few
    /// accounts are informative to judge (fewer than two) and the artifact is small enough to
    /// take on trust (`degree` at most [`UNVERIFIED_MAX`]).
    fn coherent(&self, need: f64, degree: u32) -> bool {
        coherent(&self.informative, &self.root, need, degree)
    }

    /// The accounts to detach from `f`: those in a group of two or more, other than the main
    /// one (the largest; ties go to the group first in name order), whose relating evidence
    /// reaches beyond `f` (another entity that happens to share `f`), and those alone in their
    /// group that belong to another entity: at least [`LONE_MIN`] accepted artifacts relate
    /// them to accounts outside `f`, and none of those accounts shares an accepted artifact
    /// with the main group (a ring's member that bought one document of another ring's kit).
    /// A group related only by evidence all inside `f` (a ring's laptop group, all on the
    /// ring's mule account) is part of `f`'s entity and stays linked; so does a lone account
    /// whose other evidence leads back to the main group (a record whose document number was
    /// mistyped, related to the entity through its other records).
    fn secondary(
        &self,
        graph: &Graph,
        order: &NameOrder,
        f: ArtifactId,
        accepted: impl Fn(ArtifactId) -> bool,
    ) -> Vec<AccountId> {
        let sizes = self.sizes();
        let mut out_root = vec![false; self.root.len()];
        for (i, &r) in self.root.iter().enumerate() {
            out_root[r as usize] |= self.reaches_out[i];
        }
        let mut main = None::<(usize, u32)>; // (size, rank of first member), best so far
        let mut first_rank = vec![u32::MAX; self.root.len()];
        for (i, &r) in self.root.iter().enumerate() {
            let rank = order.rank(self.accounts[i]);
            let slot = &mut first_rank[r as usize];
            *slot = (*slot).min(rank);
        }
        let mut main_root = u32::MAX;
        for (r, &size) in sizes.iter().enumerate() {
            let key = (size, first_rank[r]);
            if size > 0 && main.is_none_or(|(s, k)| key.0 > s || (key.0 == s && key.1 < k)) {
                main = Some(key);
                main_root = r as u32;
            }
        }
        let mut out = Vec::new();
        let mut main_artifacts: Option<ahash::AHashSet<ArtifactId>> = None;
        for (i, &r) in self.root.iter().enumerate() {
            if r == main_root {
                continue;
            }
            if sizes[r as usize] >= 2 {
                if out_root[r as usize] {
                    out.push(self.accounts[i]);
                }
                continue;
            }
            if self.related_outside[i] < LONE_MIN || sizes[main_root as usize] < 2 {
                continue;
            }
            // The artifacts the main group holds besides `f`, read once per judgement.
            // Only artifacts of comparable size (as everywhere in a judgement): a far larger
            // one says nothing of `f`'s entity, and its rejection does not queue `f` again, so
            // reading it would leave `f`'s judgement depending on when it was made.
            let limit = SCALE * (graph.degree(f) as usize).max(UNVERIFIED_MAX);
            let main_arts = main_artifacts.get_or_insert_with(|| {
                let mut set = ahash::AHashSet::new();
                for (j, &rj) in self.root.iter().enumerate() {
                    let arts = graph.artifacts_of(self.accounts[j]);
                    if rj == main_root && arts.len() <= ACCOUNT_LIMIT {
                        set.extend(
                            arts.iter()
                                .copied()
                                .filter(|&g| g != f && graph.degree(g) as usize <= limit && accepted(g)),
                        );
                    }
                }
                set
            });
            if !self.leads_back(graph, f, self.accounts[i], main_arts, &accepted) {
                out.push(self.accounts[i]);
            }
        }
        out
    }

    /// For an artifact of two accounts (`first` and `later` their positions, in name order):
    /// true when both belong to other entities (each related outside `f` by at least
    /// [`LONE_MIN`] accepted artifacts, and nothing related to the first leads back to the
    /// later one).
    fn strangers(
        &self,
        graph: &Graph,
        f: ArtifactId,
        (first, later): (usize, usize),
        accepted: impl Fn(ArtifactId) -> bool,
    ) -> bool {
        if self.accounts.len() != 2 || self.root[0] == self.root[1] {
            return false;
        }
        if self.related_outside.iter().any(|&c| c < LONE_MIN) {
            return false;
        }
        let other = self.accounts[later];
        let arts = graph.artifacts_of(other);
        if arts.len() > ACCOUNT_LIMIT {
            return false;
        }
        let limit = SCALE * (graph.degree(f) as usize).max(UNVERIFIED_MAX);
        let other_arts: ahash::AHashSet<ArtifactId> = arts
            .iter()
            .copied()
            .filter(|&g| g != f && graph.degree(g) as usize <= limit && accepted(g))
            .collect();
        !self.leads_back(graph, f, self.accounts[first], &other_arts, &accepted)
    }

    /// True when an account related to `x` outside `f` (through an accepted artifact of
    /// comparable size) holds one of `main_arts`, or when that cannot be read within bounds.
    fn leads_back(
        &self,
        graph: &Graph,
        f: ArtifactId,
        x: AccountId,
        main_arts: &ahash::AHashSet<ArtifactId>,
        accepted: &impl Fn(ArtifactId) -> bool,
    ) -> bool {
        let limit = SCALE * (graph.degree(f) as usize).max(UNVERIFIED_MAX);
        let mut read = 0usize;
        for &g in graph.artifacts_of(x) {
            if g == f || graph.degree(g) < 2 || graph.degree(g) as usize > limit || !accepted(g) {
                continue;
            }
            if main_arts.contains(&g) {
                return true;
            }
            for &y in graph.accounts_of(g) {
                let arts = graph.artifacts_of(y);
                if y == x || arts.len() > ACCOUNT_LIMIT {
                    continue;
                }
                read += arts.len();
                if read > LONE_READ {
                    return true; // too much to read: keep the link, as before this rule
                }
                if arts.iter().any(|h| *h != g && main_arts.contains(h)) {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, NO_TIME};

    proptest::proptest! {
        /// First uses found in any number of parts are those of a naive search: per account
        /// and artifact, the earliest timed use, after the market's earliest.
        #[test]
        fn first_use_in_parts_is_the_naive_one(
            uses in proptest::collection::vec((0u32..30, 0u32..20, proptest::option::of(0i64..1000)), 1..120),
        ) {
            let mut edges: Vec<Edge> = uses
                .iter()
                .map(|&(account, artifact, t)| Edge { artifact, time: t.map_or(NO_TIME, |t| 1_700_000_000 + t), account })
                .collect();
            let graph = Graph::from_edges(30, vec![0u8; 20], &mut edges).unwrap();
            let base = uses.iter().filter_map(|u| u.2).min().map(|t| 1_700_000_000 + t);
            for parts in 1..6 {
                let first = FirstUse::new_in(&graph, parts);
                for a in (0..30).map(AccountId::must) {
                    let row = first.row(&graph, a);
                    for (i, f) in graph.artifacts_of(a).iter().enumerate() {
                        let want = uses
                            .iter()
                            .filter(|u| u.0 == a.as_u32() && u.1 == f.as_u32())
                            .filter_map(|u| u.2)
                            .min()
                            .map_or(u32::MAX, |t| (1_700_000_000 + t - base.unwrap_or(0)) as u32);
                        proptest::prop_assert_eq!(row[i], want, "parts {}", parts);
                    }
                }
            }
        }
    }
}
