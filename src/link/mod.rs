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
mod unionfind;

pub(crate) use relink::{Prior, relink};
pub(crate) use unionfind::UnionFind;

use crate::cluster::Clustering;
use crate::evidence::{Evidence, artifact_pairs, for_each_time_group, group_key, unpair};
use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId};
use crate::intern::NameOrder;

/// Links the accounts of `graph` under `evidence` (recording confirmed weak groups in it) and
/// returns the components.
pub(crate) fn link(graph: &Graph, evidence: &mut Evidence, order: &NameOrder) -> Clustering {
    let (uf, mut confirmed) =
        link_core(graph, evidence, |f| evidence.is_suppressed(f), &evidence.decisions.must, None);
    confirmed.sort_unstable();
    evidence.confirmed = confirmed;
    Clustering::canonical(uf.roots(), order)
}

/// Every union linking performs, in order: the policy-filtered edge list over accounts (for
/// comparing union-find implementations on the same work).
pub(crate) fn unions(graph: &Graph, evidence: &Evidence) -> Vec<(u32, u32)> {
    let mut log = Vec::new();
    link_core(graph, evidence, |f| evidence.is_suppressed(f), &evidence.decisions.must, Some(&mut log));
    log
}

/// A union-find that can record its unions (for [`unions`]).
struct Unions<'l> {
    uf: UnionFind,
    log: Option<&'l mut Vec<(u32, u32)>>,
}

impl Unions<'_> {
    #[inline]
    fn union(&mut self, a: AccountId, b: AccountId) -> bool {
        if let Some(log) = self.log.as_mut() {
            log.push((a.as_u32(), b.as_u32()));
        }
        self.uf.union(a.as_u32(), b.as_u32())
    }

    #[inline]
    fn find(&mut self, a: AccountId) -> u32 {
        self.uf.find(a.as_u32())
    }
}

/// The linking itself, over any graph: `suppressed` names the artifacts not to link through,
/// `must` the pairs to union regardless. Returns the union-find and the confirmed weak groups
/// (unsorted).
fn link_core(
    graph: &Graph,
    evidence: &Evidence,
    suppressed: impl Fn(ArtifactId) -> bool,
    must: &[(AccountId, AccountId)],
    log: Option<&mut Vec<(u32, u32)>>,
) -> (UnionFind, Vec<u64>) {
    let resolved = &evidence.resolved;
    let mut uf = Unions { uf: UnionFind::new(graph.account_count()), log };
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
            evidence.strong_ties(graph, f, |a, b| {
                uf.union(a, b);
            });
        } else {
            if deg >= 3 {
                weak_artifacts.push(f);
            }
            local.clear();
            artifact_pairs(graph, f, resolved.window[k], &mut local);
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
        group_corroboration(graph, evidence, &weak_artifacts, &mut uf, &mut confirmed);
    }
    (uf.uf, confirmed)
}

/// Unions weak artifacts whose accounts are mostly linked already, until nothing changes.
fn group_corroboration(
    graph: &Graph,
    evidence: &Evidence,
    weak: &[ArtifactId],
    uf: &mut Unions<'_>,
    confirmed: &mut Vec<u64>,
) {
    let mut done: ahash::AHashSet<u64> = ahash::AHashSet::new();
    let mut pending: Vec<ArtifactId> = weak.to_vec();
    let mut roots: Vec<u32> = Vec::new();
    let mut group: Vec<AccountId> = Vec::new();
    loop {
        let before = pending.len();
        pending.retain(|&f| {
            let k = graph.kind(f).as_usize();
            let mut all_done = true;
            for_each_time_group(graph, f, evidence.resolved.window[k], &mut group, |ordinal, g| {
                let key = group_key(f, ordinal);
                if g.len() < 3 || done.contains(&key) {
                    return;
                }
                roots.clear();
                roots.extend(g.iter().map(|&a| uf.find(a)));
                roots.sort_unstable();
                let related = roots
                    .iter()
                    .enumerate()
                    .filter(|&(i, r)| (i > 0 && roots[i - 1] == *r) || roots.get(i + 1) == Some(r))
                    .count();
                if evidence.group_confirms(related, g.len()) {
                    for &a in &g[1..] {
                        uf.union(g[0], a);
                    }
                    done.insert(key);
                } else {
                    all_done = false;
                }
            });
            !all_done
        });
        if pending.len() == before {
            break;
        }
    }
    confirmed.extend(done);
}
