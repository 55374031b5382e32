//! The pipeline: the stages of a build, in order, each with a narrow input.
//!
//! ```text
//! observations ─ check, normalise, intern (IndexBuilder, ingest)      → Collected
//!   1. canonicalize  accounts numbered in name order; an update keeps   → NameOrder
//!                    old ids and appends new ones
//!   2. freeze        the bipartite graph, CSR both ways                  → Graph
//!   3. judge         the policy judged on the graph: caps, coherence,    → Evidence
//!                    what the data teaches of each kind
//!   4. link          union-find (after an update, re-linking only what   → components
//!                    it reaches)
//!   5. operators     Leiden per component on the evidence graph          → OperatorClustering
//!   6. bitmaps       the lookup bitmaps, in the index's constructor      → Index
//! ```
//!
//! [`run`] is the only caller of the stages, and every [`Index`] is made by one constructor
//! ([`Index::from_parts`]) from the stages' outputs: by a build, by an update and by a snapshot
//! load. No stage sees a half-built index.

use std::time::{Duration, Instant};

use roaring::RoaringBitmap;

use crate::evidence::Evidence;
use crate::graph::{Edge, Graph};
use crate::index::{BuildStats, Index, Parts, Progress};
use crate::intern::{Interner, NameOrder, StrList, sort_by_name};
use crate::kind::Kinds;
use crate::link::{Prior, link, relink};
use crate::operators::{Input, OperatorSettings, Reuse, detect};
use crate::policy::LinkPolicy;

/// What the first stage collected: interned names, the edge list and the settings.
#[derive(Clone, Debug)]
pub(crate) struct Collected {
    pub(crate) kinds: Kinds,
    pub(crate) accounts: Interner,
    pub(crate) artifacts: Interner,
    /// Each artifact's first raw spelling (empty when it equals the canonical value).
    pub(crate) first_written: StrList,
    pub(crate) edges: Vec<Edge>,
    pub(crate) policy: LinkPolicy,
    pub(crate) operators: Option<OperatorSettings>,
    /// Artifacts `(kind, value)` judged incoherent over a whole market, of which this is a
    /// piece (see the `shard` module): rejected from the start of the coherence judgement.
    pub(crate) presumed: Vec<(String, String)>,
    /// The market's degree of artifacts `(kind, value)` cut from this piece (see
    /// `shard::presume_cut`).
    pub(crate) market_degree: Vec<((String, String), u32)>,
}

/// What an update brings to the pipeline: the index it starts from, the artifacts whose uses
/// changed, and the operators of components it can keep.
pub(crate) struct Update<'u> {
    pub(crate) old: &'u Index,
    pub(crate) touched: &'u RoaringBitmap,
    pub(crate) reuse: Reuse<'u>,
}

/// Runs the stages after collection; also returns how many accounts were linked (all of them,
/// unless an update re-linked fewer).
pub(crate) fn run(
    mut c: Collected,
    progress: &mut dyn Progress,
    update: Option<Update<'_>>,
) -> Result<(Index, usize), crate::Error> {
    let mut timings = Vec::new();
    let observations = c.edges.len() as u64;
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };

    // The observations are in: the lookup tables are not read again unless the policy names
    // accounts or values (they are rebuilt on the first lookup). A fresh build drops them here,
    // so they add nothing to the later stages' peak; an update keeps them for the next one.
    if update.is_none() {
        c.accounts.release_table();
        c.artifacts.release_table();
    }
    progress.stage("canonicalize");
    let old_slots = update.as_ref().map(|u| u.old.account_slots());
    let order = canonicalize(&mut c.accounts, &mut c.edges, old_slots);
    lap("canonicalize", &mut timings);

    progress.stage("freeze");
    let graph = freeze(&mut c)?;
    lap("freeze", &mut timings);

    progress.stage("judge");
    let (mut evidence, learned) =
        Evidence::judge(&graph, &c.kinds, &c.policy, &c.accounts, &c.artifacts, &order, &c.presumed);
    if let Some(learned) = learned {
        c.policy = c.policy.with_learned(Some(learned));
    }
    lap("judge", &mut timings);

    progress.stage("link");
    let (components, linked) = match &update {
        Some(u) => {
            let prior = Prior {
                components: &u.old.components,
                caps: &u.old.evidence.resolved.cap,
                confirmed: &u.old.evidence.confirmed,
                graph: &u.old.graph,
                touched: u.touched,
                suppressed: &u.old.evidence.suppressed,
                detached: &u.old.evidence.detached,
            };
            relink(&graph, &mut evidence, &order, &prior)
        }
        None => (link(&graph, &mut evidence, &order), graph.account_count()),
    };
    lap("link", &mut timings);

    let operators = match &c.operators {
        Some(settings) => {
            progress.stage("operators");
            let input = Input {
                graph: &graph,
                evidence: &evidence,
                components: &components,
                order: &order,
                names: &c.accounts,
            };
            let no_reuse = |_: &Input<'_>, _: &[crate::AccountId]| None;
            let reuse: Reuse<'_> = update.as_ref().map_or(&no_reuse, |u| u.reuse);
            let ops = detect(&input, settings, reuse);
            lap("operators", &mut timings);
            Some(ops)
        }
        None => None,
    };

    progress.stage("bitmaps");
    let mut index = Index::from_parts(Parts {
        kinds: c.kinds,
        policy: c.policy,
        accounts: c.accounts,
        artifacts: c.artifacts,
        first_written: c.first_written,
        order,
        graph,
        evidence,
        components,
        operators,
        operator_settings: c.operators,
        stats: BuildStats::default(),
    });
    lap("bitmaps", &mut timings);
    index.stats = BuildStats { observations, timings };
    Ok((index, linked))
}

/// What stages 1–3 of a fresh build make, without learning: for the `shard` module, which sums
/// what each piece of a market would teach before anything is learned.
pub(crate) struct Judged {
    pub(crate) kinds: Kinds,
    pub(crate) accounts: Interner,
    pub(crate) order: NameOrder,
    pub(crate) graph: Graph,
    pub(crate) evidence: Evidence,
}

/// Runs stages 1–3 of a fresh build (canonicalize, freeze, judge) with learning off.
pub(crate) fn judge_only(mut c: Collected) -> Result<Judged, crate::Error> {
    let order = canonicalize(&mut c.accounts, &mut c.edges, None);
    let graph = freeze(&mut c)?;
    let policy = c.policy.clone().learn(false);
    let (evidence, _) =
        Evidence::judge(&graph, &c.kinds, &policy, &c.accounts, &c.artifacts, &order, &c.presumed);
    Ok(Judged { kinds: c.kinds, accounts: c.accounts, order, graph, evidence })
}

/// Stage 2: the bipartite graph of the collected edges (which it takes).
fn freeze(c: &mut Collected) -> Result<Graph, crate::Error> {
    let art_kind = c.artifacts.raw_parts().2.to_vec();
    let mut graph = Graph::from_edges(c.accounts.len(), art_kind, &mut core::mem::take(&mut c.edges))
        .map_err(|_| crate::Error::Capacity("more than 4294967295 distinct observations"))?;
    let mut buf = String::new();
    for ((kind, value), degree) in &c.market_degree {
        if let Some(f) = crate::evidence::find_written(&c.kinds, &c.artifacts, kind, value, &mut buf) {
            graph.market_degree.push((f, *degree));
        }
    }
    graph.market_degree.sort_unstable();
    graph.market_degree.dedup_by_key(|e| e.0);
    Ok(graph)
}

/// Stage 1: numbers the accounts and returns their name order.
///
/// A fresh build (`old_slots` is `None`) numbers accounts in name order, so that ids, and every
/// id derived from them, do not depend on input order. An update keeps the ids of the first
/// `old_slots` accounts (an account left without observations keeps its slot, unused) and
/// appends its new accounts in name order, dropping new names left without observations.
fn canonicalize(accounts: &mut Interner, edges: &mut [Edge], old_slots: Option<usize>) -> NameOrder {
    let n = accounts.len();
    let mut live = vec![false; n];
    for e in edges.iter() {
        live[e.account as usize] = true;
    }
    let keep = old_slots.unwrap_or(0).min(n);
    let mut fresh: Vec<u32> = (keep as u32..n as u32).filter(|&a| live[a as usize]).collect();
    sort_by_name(&mut fresh, accounts);
    let unchanged = fresh.len() == n - keep && fresh.iter().enumerate().all(|(i, &a)| a as usize == keep + i);
    if !unchanged {
        let order: Vec<u32> = (0..keep as u32).chain(fresh.iter().copied()).collect();
        let mut new_of_old = vec![u32::MAX; n];
        for (new, &old) in order.iter().enumerate() {
            new_of_old[old as usize] = new as u32;
        }
        *accounts = accounts.permuted(&order);
        for e in edges.iter_mut() {
            e.account = new_of_old[e.account as usize];
        }
        live = order.iter().map(|&old| live[old as usize]).collect();
    }
    if old_slots.is_none() {
        return NameOrder::identity(accounts.len());
    }
    let mut by_name: Vec<u32> = (0..accounts.len() as u32).filter(|&a| live[a as usize]).collect();
    sort_by_name(&mut by_name, accounts);
    NameOrder::from_by_name(by_name, accounts.len())
}
