//! Linking: union-find over the bipartite graph, under the [`Evidence`] judged for it.
//!
//! The fifth stage of the pipeline. It never builds the account × account projection. For each
//! artifact that is not suppressed, [`Evidence`] says which of its accounts it ties:
//!
//! - **strong**: all its accounts, or with a window each chain of time-compatible uses, by
//!   unioning consecutive accounts (`d − 1` unions);
//! - **weak**: each pair of distinct accounts with compatible uses is emitted once per artifact
//!   (at most `cap·(cap−1)/2` pairs, bounded by the hub cap) with its *evidence key*; after all
//!   artifacts, a pair is unioned when it carries at least the policy's corroboration in
//!   distinct keys. A weak pair that is also joined by strong evidence is simply redundant.
//! - **weak, as a group**: then each weak non-hub artifact is split into its time-compatible
//!   groups of uses, and a group of three or more accounts is unioned whole when enough of its
//!   accounts already share a component with another of its accounts
//!   ([`Evidence::group_confirms`]). The condition only grows as components merge, so the
//!   fixpoint is unique: input order cannot change it. The confirmed groups are recorded in
//!   [`Evidence::confirmed`], for explanations.
//!
//! Analyst must-link pairs are unioned too. The result is the components as a canonical
//! [`Clustering`] (numbered in account-name order, so the same observations in any order give
//! the same component ids). [`relink`] does the same after an update for only the accounts the
//! update can reach.
//!
//! Cost: `O(E α(n))` for strong kinds and `O(Σ d²)` over weak non-hub artifacts, which the cap
//! bounds; memory: the union-find (5 bytes per account) plus 8 bytes per emitted weak pair.

mod relink;

pub(crate) use crate::unionfind::UnionFind;
pub(crate) use relink::{Prior, relink};

use crate::cluster::Clustering;
use crate::evidence::{Evidence, artifact_pairs, for_each_time_group, group_key, unpair};
use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId};
use crate::intern::NameOrder;

/// Links the accounts of `graph` under `evidence` (recording confirmed weak groups in it) and
/// returns the components.
pub(crate) fn link(graph: &Graph, evidence: &mut Evidence, order: &NameOrder) -> Clustering {
    let ev = &*evidence;
    let (uf, mut confirmed) = link_core(
        graph,
        ev,
        |f| ev.is_suppressed(f),
        |f, a| ev.is_detached(f, a),
        |a| order.rank(a),
        &ev.decisions.must,
        None,
    );
    confirmed.sort_unstable();
    evidence.confirmed = confirmed;
    Clustering::canonical(uf.roots(), order)
}

/// Every union linking performs, in order: the policy-filtered edge list over accounts (for
/// comparing union-find implementations on the same work).
pub(crate) fn unions(graph: &Graph, evidence: &Evidence, order: &NameOrder) -> Vec<(u32, u32)> {
    let mut log = Vec::new();
    let ev = evidence;
    link_core(
        graph,
        ev,
        |f| ev.is_suppressed(f),
        |f, a| ev.is_detached(f, a),
        |a| order.rank(a),
        &ev.decisions.must,
        Some(&mut log),
    );
    log
}

/// A union-find that counts the members of each set and can record its unions (for
/// [`unions`]).
struct Unions<'l> {
    uf: UnionFind,
    size: Vec<u32>,
    log: Option<&'l mut Vec<(u32, u32)>>,
}

impl Unions<'_> {
    #[inline]
    fn union(&mut self, a: AccountId, b: AccountId) -> bool {
        if let Some(log) = self.log.as_mut() {
            log.push((a.as_u32(), b.as_u32()));
        }
        let (ra, rb) = (self.uf.find(a.as_u32()), self.uf.find(b.as_u32()));
        if ra == rb {
            return false;
        }
        self.uf.union(ra, rb);
        let r = self.uf.find(ra);
        self.size[r as usize] = self.size[ra as usize] + self.size[rb as usize];
        true
    }

    #[inline]
    fn find(&mut self, a: AccountId) -> u32 {
        self.uf.find(a.as_u32())
    }

    /// The number of accounts in `a`'s set.
    #[inline]
    fn size_of(&mut self, a: AccountId) -> u32 {
        let r = self.find(a);
        self.size[r as usize]
    }
}

/// The linking itself, over any graph: `suppressed` names the artifacts not to link through,
/// `detached` the memberships not to link through, `must` the pairs to union regardless.
/// Returns the union-find and the confirmed weak groups (unsorted).
fn link_core(
    graph: &Graph,
    evidence: &Evidence,
    suppressed: impl Fn(ArtifactId) -> bool,
    detached: impl Fn(ArtifactId, AccountId) -> bool,
    rank: impl Fn(AccountId) -> u32,
    must: &[(AccountId, AccountId)],
    log: Option<&mut Vec<(u32, u32)>>,
) -> (UnionFind, Vec<u64>) {
    let resolved = &evidence.resolved;
    let n = graph.account_count();
    let mut uf = Unions { uf: UnionFind::new(n), size: vec![1; n], log };
    let mut pairs: Vec<(u64, u32)> = Vec::new();
    let mut local: Vec<u64> = Vec::new();
    let mut weak_artifacts: Vec<ArtifactId> = Vec::new();
    for f in (0..graph.artifact_count() as u32).map(ArtifactId::from_u32) {
        let deg = graph.degree(f);
        if deg < 2 || suppressed(f) {
            continue;
        }
        let k = graph.kind(f).as_usize();
        if !resolved.is_weak(k) {
            evidence.strong_ties(
                graph,
                f,
                |a| !detached(f, a),
                |a, b| {
                    uf.union(a, b);
                },
            );
        } else {
            if deg >= 3 {
                weak_artifacts.push(f);
            }
            local.clear();
            artifact_pairs(graph, f, resolved.window[k], &mut local);
            local.retain(|&p| {
                let (a, b) = unpair(p);
                !detached(f, a) && !detached(f, b)
            });
            local.sort_unstable();
            local.dedup();
            let key = resolved.evidence_key(k, f);
            pairs.extend(local.iter().map(|&p| (p, key)));
        }
    }
    crate::graph::sort_unstable(&mut pairs);
    pairs.dedup();
    let need = resolved.corroboration as usize;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i + 1;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        if j - i >= need {
            let (a, b) = unpair(pairs[i].0);
            uf.union(a, b);
        }
        i = j;
    }
    drop(pairs);
    for &(a, b) in must {
        uf.union(a, b);
    }
    let mut confirmed = Vec::new();
    if resolved.cohesion.is_some() {
        group_corroboration(graph, evidence, &weak_artifacts, &detached, &rank, &mut uf, &mut confirmed);
    }
    (uf.uf, confirmed)
}

/// Group corroboration: a weak time group of three or more accounts whose main component
/// (the one holding most of them) holds at least the policy's cohesion share links its
/// unlinked accounts (those alone in their component) to it, until nothing changes. It never
/// joins two components that hold two or more accounts each: a weak artifact can complete a
/// ring, not merge two.
///
/// It runs in rounds, each judged against the components at its start, so that the result
/// does not depend on the order artifacts are visited: an unlinked account claimed by groups
/// of several components joins the largest (ties to the one first in name order). Each account
/// is attached at most once, and only the artifacts of attached accounts are looked at again,
/// so the fixpoint costs time linear in the uses.
fn group_corroboration(
    graph: &Graph,
    evidence: &Evidence,
    weak: &[ArtifactId],
    detached: &impl Fn(ArtifactId, AccountId) -> bool,
    rank: &impl Fn(AccountId) -> u32,
    uf: &mut Unions<'_>,
    confirmed: &mut Vec<u64>,
) {
    let is_weak_group = |f: ArtifactId| weak.binary_search(&f).is_ok();
    let mut done: ahash::AHashSet<u64> = ahash::AHashSet::new();
    let mut work: Vec<ArtifactId> = weak.to_vec();
    let mut group: Vec<AccountId> = Vec::new();
    let mut tally: Vec<(u32, u32, u32, AccountId)> = Vec::new(); // (root, held, least rank, a member)
    while !work.is_empty() {
        // Claims of this round: (unlinked account, component size, least rank in it, anchor).
        let mut claims: Vec<(AccountId, std::cmp::Reverse<u32>, u32, AccountId)> = Vec::new();
        for &f in &work {
            let k = graph.kind(f).as_usize();
            for_each_time_group(graph, f, evidence.resolved.window[k], &mut group, |ordinal, g| {
                let kept: Vec<AccountId>;
                let g = if g.iter().any(|&a| detached(f, a)) {
                    kept = g.iter().copied().filter(|&a| !detached(f, a)).collect();
                    &kept[..]
                } else {
                    g
                };
                if g.len() < 3 {
                    return;
                }
                tally.clear();
                for &a in g {
                    let r = uf.find(a);
                    match tally.iter_mut().find(|t| t.0 == r) {
                        Some(t) => {
                            t.1 += 1;
                            t.2 = t.2.min(rank(a));
                        }
                        None => tally.push((r, 1, rank(a), a)),
                    }
                }
                // The main component: most accounts of the group, ties to the first in name
                // order (by the least rank of its accounts in the group).
                let Some(&(main, held, least, anchor)) =
                    tally.iter().max_by_key(|t| (t.1, std::cmp::Reverse(t.2)))
                else {
                    return;
                };
                if held < 2 || !evidence.group_confirms(held as usize, g.len()) {
                    return;
                }
                done.insert(group_key(f, ordinal));
                let size = uf.size_of(anchor);
                for &a in g {
                    if uf.find(a) != main && uf.size_of(a) == 1 {
                        claims.push((a, std::cmp::Reverse(size), least, anchor));
                    }
                }
            });
        }
        // Each unlinked account joins the best component that claimed it.
        claims.sort_unstable();
        claims.dedup_by_key(|c| c.0);
        let mut next = Vec::new();
        for &(a, _, _, anchor) in &claims {
            uf.union(anchor, a);
            for &h in graph.artifacts_of(a) {
                if is_weak_group(h) {
                    next.push(h);
                }
            }
        }
        next.sort_unstable();
        next.dedup();
        work = next;
    }
    confirmed.extend(done);
}
