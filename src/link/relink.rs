//! Linking after an update: re-link only the accounts the update can reach.

use roaring::RoaringBitmap;

use super::link_core;
use crate::cluster::{Clustering, NO_CLUSTER};
use crate::evidence::{Evidence, group_artifact, group_key};
use crate::graph::{Edge, Graph, NO_TIME};
use crate::id::{AccountId, ArtifactId, ClusterId};
use crate::intern::NameOrder;

/// What an update knew before it: the previous linkage, and which artifacts gained or lost a
/// use. Account and artifact ids are stable across the update, so both graphs share them (the
/// new graph may have more).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prior<'p> {
    /// The previous components.
    pub(crate) components: &'p Clustering,
    /// The previous resolved hub caps, per kind id.
    pub(crate) caps: &'p [u32],
    /// The previous confirmed weak groups (see [`Evidence::confirmed`]).
    pub(crate) confirmed: &'p [u64],
    /// The previous graph.
    pub(crate) graph: &'p Graph,
    /// Artifacts that gained or lost a use.
    pub(crate) touched: &'p RoaringBitmap,
    /// The previous suppressed artifacts (hubs, incoherent, legitimate).
    pub(crate) suppressed: &'p RoaringBitmap,
    /// The previous detached memberships.
    pub(crate) detached: &'p [(ArtifactId, AccountId)],
}

/// The artifacts whose judgement changed between `prior` and `ev`: suppressed before and not
/// after or the other way round, or with other detached memberships. Coherence is judged on
/// the whole graph, so an update can change the judgement of an artifact it did not touch.
fn rejudged(prior: &Prior<'_>, ev: &Evidence) -> RoaringBitmap {
    let mut out = prior.suppressed ^ &ev.suppressed;
    let (mut i, mut j) = (0, 0);
    let (a, b) = (prior.detached, &ev.detached[..]);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                out.insert(x.0.as_u32());
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.insert(y.0.as_u32());
                j += 1;
            }
            (Some(x), None) => {
                out.insert(x.0.as_u32());
                i += 1;
            }
            (None, Some(y)) => {
                out.insert(y.0.as_u32());
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Links after an update, re-linking only the accounts the update can reach; returns the
/// components (equal to [`super::link`] on the same graph) and how many accounts were
/// re-linked, and records the confirmed weak groups in `evidence`.
///
/// The re-linked set starts from the accounts the update added, the accounts of touched
/// artifacts (before and after), the previous components that lost an account, and must-link
/// partners, and is closed under: whole previous components (a component can split), and every
/// account of a weak, non-hub artifact of three or more accounts that group corroboration
/// considers (merging accounts can confirm such a group and pull in its other accounts). Every
/// other account keeps its previous component: the artifacts it uses are untouched, so every
/// union that involves it is the same as before. The set is linked as a subgraph with the
/// suppression decisions of the whole graph. When a hub cap moved, or the set holds most
/// accounts, everything is re-linked.
pub(crate) fn relink(
    graph: &Graph,
    evidence: &mut Evidence,
    order: &NameOrder,
    prior: &Prior<'_>,
) -> (Clustering, usize) {
    let n = graph.account_count();
    let live = (0..n as u32).filter(|&a| !graph.is_vacant(AccountId::from_u32(a))).count();
    if evidence.resolved.cap != prior.caps {
        return (super::link(graph, evidence, order), live);
    }
    let ev = &*evidence;
    let was_live = |a: AccountId| prior.components.cluster_of(a).is_some();
    let mut must_of: ahash::AHashMap<AccountId, Vec<AccountId>> = ahash::AHashMap::new();
    for &(a, b) in &ev.decisions.must {
        must_of.entry(a).or_default().push(b);
        must_of.entry(b).or_default().push(a);
    }

    // The closure.
    let mut in_set = vec![false; n];
    let mut stack: Vec<AccountId> = Vec::new();
    let mut comp_seen = vec![false; prior.components.len()];
    let mut art_seen = vec![false; graph.artifact_count()];
    let mark = |x: AccountId, in_set: &mut [bool], stack: &mut Vec<AccountId>| {
        if !in_set[x.as_usize()] {
            in_set[x.as_usize()] = true;
            stack.push(x);
        }
    };
    let mut add_component = |c: ClusterId, in_set: &mut [bool], stack: &mut Vec<AccountId>| {
        if !std::mem::replace(&mut comp_seen[c.as_usize()], true) {
            for &m in prior.components.members(c) {
                if !graph.is_vacant(m) {
                    mark(m, in_set, stack);
                }
            }
        }
    };
    for x in (0..n as u32).map(AccountId::from_u32) {
        match (was_live(x), graph.is_vacant(x)) {
            (false, false) => mark(x, &mut in_set, &mut stack),
            (true, true) => {
                if let Some(c) = prior.components.cluster_of(x) {
                    add_component(c, &mut in_set, &mut stack);
                }
            }
            _ => {}
        }
    }
    let touched = prior.touched | &rejudged(prior, ev);
    for f in touched.iter().map(ArtifactId::from_u32) {
        // Suppressed before and after, it links nobody either way.
        if ev.is_suppressed(f) && prior.suppressed.contains(f.as_u32()) {
            continue;
        }
        if f.as_usize() < graph.artifact_count() {
            for &a in graph.accounts_of(f) {
                mark(a, &mut in_set, &mut stack);
            }
        }
        if f.as_usize() < prior.graph.artifact_count() {
            for &m in prior.graph.accounts_of(f) {
                if let Some(c) = prior.components.cluster_of(m) {
                    add_component(c, &mut in_set, &mut stack);
                }
            }
        }
    }
    while let Some(x) = stack.pop() {
        if let Some(c) = prior.components.cluster_of(x) {
            add_component(c, &mut in_set, &mut stack);
        }
        for &f in graph.artifacts_of(x) {
            if ev.groupable(graph, f) && !std::mem::replace(&mut art_seen[f.as_usize()], true) {
                for &a in graph.accounts_of(f) {
                    mark(a, &mut in_set, &mut stack);
                }
            }
        }
        for &y in must_of.get(&x).map_or(&[][..], Vec::as_slice) {
            mark(y, &mut in_set, &mut stack);
        }
    }
    let count = in_set.iter().filter(|&&b| b).count();
    if count * 4 > live * 3 {
        return (super::link(graph, evidence, order), live);
    }

    // The subgraph of the set: its accounts, every artifact they use, and those artifacts'
    // uses by accounts of the set.
    let mut local_of = vec![u32::MAX; n];
    let mut global_of: Vec<AccountId> = Vec::with_capacity(count);
    for (x, _) in in_set.iter().enumerate().filter(|(_, b)| **b) {
        local_of[x] = global_of.len() as u32;
        global_of.push(AccountId::from_u32(x as u32));
    }
    let mut art_local = vec![u32::MAX; graph.artifact_count()];
    let mut art_global: Vec<ArtifactId> = Vec::new();
    let mut kinds_local = Vec::new();
    for &x in &global_of {
        for &f in graph.artifacts_of(x) {
            if art_local[f.as_usize()] == u32::MAX {
                art_local[f.as_usize()] = art_global.len() as u32;
                art_global.push(f);
                kinds_local.push(graph.art_kind[f.as_usize()]);
            }
        }
    }
    let mut edges = Vec::new();
    for (lf, &f) in art_global.iter().enumerate() {
        let (accounts, times) = graph.use_slices(f);
        for (i, &a) in accounts.iter().enumerate() {
            if in_set[a.as_usize()] {
                let time = times.map_or(NO_TIME, |t| t[i]);
                edges.push(Edge { artifact: lf as u32, time, account: local_of[a.as_usize()] });
            }
        }
    }
    let Ok(sub) = Graph::from_edges(count, kinds_local, &mut edges) else {
        return (super::link(graph, evidence, order), live);
    };
    let must: Vec<(AccountId, AccountId)> = ev
        .decisions
        .must
        .iter()
        .filter(|&&(a, b)| in_set[a.as_usize()] && in_set[b.as_usize()])
        .map(|&(a, b)| {
            (AccountId::from_u32(local_of[a.as_usize()]), AccountId::from_u32(local_of[b.as_usize()]))
        })
        .collect();
    // The subgraph's own artifacts carry the whole graph's kinds, caps and suppression.
    let (uf, sub_confirmed) = link_core(
        &sub,
        ev,
        |lf| ev.is_suppressed(art_global[lf.as_usize()]),
        |lf, la| ev.is_detached(art_global[lf.as_usize()], global_of[la.as_usize()]),
        |la| order.rank(global_of[la.as_usize()]),
        &must,
        None,
    );

    // Labels: an account's smallest-id component mate serves as its label.
    let roots = uf.roots();
    let mut labels = vec![NO_CLUSTER; n];
    for (l, &r) in roots.iter().enumerate() {
        let (x, root) = (global_of[l].as_u32(), global_of[r as usize].as_usize());
        labels[root] = labels[root].min(x);
    }
    for (l, &r) in roots.iter().enumerate() {
        labels[global_of[l].as_usize()] = labels[global_of[r as usize].as_usize()];
    }
    for x in (0..n as u32).map(AccountId::from_u32) {
        if !in_set[x.as_usize()] {
            labels[x.as_usize()] = match prior.components.cluster_of(x) {
                Some(c) => prior.components.members(c).first().map_or(x.as_u32(), |m| m.as_u32()),
                None => x.as_u32(),
            };
        }
    }
    let mut confirmed: Vec<u64> = prior
        .confirmed
        .iter()
        .copied()
        .filter(|&key| art_local.get(group_artifact(key).as_usize()) == Some(&u32::MAX))
        .collect();
    confirmed.extend(sub_confirmed.into_iter().map(|key| {
        let local = group_artifact(key);
        group_key(art_global[local.as_usize()], (key & 0xffff_ffff) as u32)
    }));
    confirmed.sort_unstable();
    evidence.confirmed = confirmed;
    (Clustering::canonical(labels, order), count)
}
