//! Operators: community detection on the evidence graph of each linked component.
//!
//! The sixth stage of the pipeline. Its input is narrow: the frozen graph, the evidence judged
//! for it, the components and the accounts' name order; its output is an
//! [`OperatorClustering`].
//!
//! Union-find answers "is there any chain of evidence"; this stage answers "which stores does one
//! operator run". Each linked component with three or more accounts is solved on its own (in
//! parallel with the `rayon` feature; communities never cross components), on a weighted
//! account graph built from the artifacts its accounts share:
//!
//! - **Rarity**: one shared artifact used by `d` accounts adds `w_kind · ln 2 / ln d` to each
//!   pair of them (1 for a pair, about 0.14 for a mule account serving 150 stores), so that a big
//!   artifact holds its group together without outweighing rare, specific evidence.
//! - **Relatedness** (degree is not the whole story): an artifact's accounts are split into
//!   *groups* that are related through other shared, non-hub evidence. Pairs inside a group
//!   get the full weight. Pairs across two groups of two or more accounts each get nothing:
//!   those are two entities that share the artifact (a document and its SIM sold to two rings,
//!   each ring's holders tied to their own ring), as coherence detaches a second group when
//!   linking. Pairs with an account related to none of the others (a mistyped record, a
//!   storefront that used the artifact once) get the weight scaled by the artifact's
//!   *cohesion* (the share of its accounts related to another of its accounts otherwise), at
//!   least [`OperatorSettings::cross_floor`]; for an incoherent hub, cross-group pairs get
//!   nothing, so it counts as evidence exactly where the rest of the evidence agrees. A hub by
//!   degree (past its cap or the ceiling) and legitimate infrastructure count for nothing: an
//!   artifact too big to judge is too big to weigh, and so every edge reads only artifacts
//!   whose accounts all lie in one piece of the market (see the `shard` module). A ring's mule
//!   account serving 150 related storefronts keeps its weight; a café hotspot's 60 unrelated
//!   strangers lose it.
//! - **One bundle is one piece of evidence.** When grouping `f`'s accounts, an artifact `g`
//!   that holds more than half of `f`'s accounts, with at least half of its own accounts among
//!   them, is `f`'s twin (a document and the SIM sold with it; a person's SSN and name) and
//!   relates nothing: otherwise each of the two would vouch for the other across the rings that
//!   bought them. On the hostile 40k market without the base traps this took operator F1
//!   0.977 → 0.985, and on real data pseudopeople_w2 0.911 → 0.925 and patentsview
//!   0.681 → 0.710 (BENCHMARKS.md §2b).
//! - **Time**: an artifact with a time window (an `ip`) is split into its time-coincident
//!   groups of uses first, each counted as one artifact.
//! - **Memory**: no clique is materialised. An artifact's pairs are written out explicitly up
//!   to [`CLIQUE_LIMIT`] accounts; larger ones become a circulant graph with
//!   [`SPARSE_DEGREE`] neighbours each side, each edge scaled so every account keeps its total
//!   evidence strength. Edges per artifact are therefore at most `d · SPARSE_DEGREE · 2`.
//!
//! Leiden runs with the **CPM** quality by default: a set of accounts is one operator when the
//! evidence between its pairs averages more than the resolution γ (default 0.02). Unlike
//! modularity, CPM has no resolution limit and no bias against a component being one
//! community, so a 150-store ring stays whole, while two rings joined by one sold document, or
//! strangers joined by a café PC, fall apart. Modularity is available for users who want it,
//! but measured per component it splits rings into their laptop groups (pairwise recall 0.34
//! against 0.90 for CPM on a 1M-observation synthetic marketplace; see BENCHMARKS.md). The
//! default γ = 0.02 was chosen on two synthetic marketplaces of different size and seed, where
//! 0.01–0.02 gave the best pairwise F1 and larger values traded recall for purity.
//!
//! The result is an [`OperatorClustering`]: an operator id per account, members per operator and
//! a confidence per operator: `1 − e^(−w)`, with `w` the evidence that ties its least-tied
//! member to the rest (so it says how thin the thinnest thread is; 1 for a lone storefront).

use std::borrow::Cow;

use ahash::AHashMap;
use serde::{Deserialize, Serialize};

use crate::cluster::Clustering;
use crate::evidence::Evidence;
use crate::graph::{Graph, NO_TIME};
use crate::id::{AccountId, ArtifactId, ClusterId};
use crate::intern::NameOrder;
use crate::leiden::{Leiden, Quality, WeightedGraph};
use crate::unionfind::UnionFind;

/// Artifacts with at most this many accounts in a component contribute every pair explicitly.
///
/// # Examples
///
/// See the [module docs](self).
pub const CLIQUE_LIMIT: usize = 48;
/// Neighbours on each side in the circulant that stands in for a larger artifact's clique.
///
/// # Examples
///
/// See the [module docs](self).
pub const SPARSE_DEGREE: usize = 8;

/// The operator stage's resolution γ when the [`Leiden`] settings leave it unset.
///
/// # Examples
///
/// See [`OperatorSettings`].
pub const DEFAULT_RESOLUTION: f64 = 0.02;

/// The operator stage's least factor on cross-group pairs when unset.
///
/// # Examples
///
/// See [`OperatorSettings::cross_floor`].
pub const DEFAULT_CROSS_FLOOR: f64 = 0.1;

/// Settings of the operator stage: the [`Leiden`] run on each component's evidence graph, and
/// the least factor on cross-group pairs. Leiden settings left unset take the stage's defaults
/// (CPM, γ = [`DEFAULT_RESOLUTION`], seed 0), not Leiden's own. Serialisable, so that a
/// snapshot or a policy file carries them.
///
/// # Examples
///
/// ```
/// use sellerlink::IndexBuilder;
/// use sellerlink::leiden::{Leiden, Quality};
/// use sellerlink::operators::OperatorSettings;
/// let settings = OperatorSettings::new().leiden(Leiden::new().resolution(0.08).seed(7));
/// assert_eq!(settings.effective_leiden().resolution_value(), 0.08);
/// assert_eq!(settings.effective_leiden().quality_value(), Quality::Cpm);
/// let b = IndexBuilder::new().operators(Some(settings));
/// # let _ = b;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperatorSettings {
    leiden: Leiden,
    cross_floor: Option<f64>,
}

impl OperatorSettings {
    /// The defaults: CPM, γ = 0.02, seed 0, cross floor 0.1.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::operators::OperatorSettings;
    /// assert_eq!(OperatorSettings::new().effective_leiden().resolution_value(), 0.02);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the Leiden settings (its unset values take the stage's defaults).
    ///
    /// # Examples
    ///
    /// See [`OperatorSettings`].
    pub fn leiden(mut self, leiden: Leiden) -> Self {
        self.leiden = leiden;
        self
    }

    /// Sets the least factor on cross-group pairs of a non-hub artifact (clamped to 0..=1; NaN
    /// means the default).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::operators::OperatorSettings;
    /// assert_eq!(OperatorSettings::new().cross_floor(0.2).cross_floor_value(), 0.2);
    /// assert_eq!(OperatorSettings::new().cross_floor(f64::NAN).cross_floor_value(), 0.1);
    /// ```
    pub fn cross_floor(mut self, f: f64) -> Self {
        self.cross_floor = (!f.is_nan()).then(|| f.clamp(0.0, 1.0));
        self
    }

    /// The cross floor in force.
    ///
    /// # Examples
    ///
    /// See [`OperatorSettings::cross_floor`].
    pub fn cross_floor_value(&self) -> f64 {
        self.cross_floor.filter(|f| (0.0..=1.0).contains(f)).unwrap_or(DEFAULT_CROSS_FLOOR)
    }

    /// True when every value set is in range (see the snapshot validation).
    pub(crate) fn is_valid(&self) -> bool {
        self.leiden.is_valid() && self.cross_floor.is_none_or(|f| (0.0..=1.0).contains(&f))
    }

    /// The Leiden settings as given.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{leiden::Leiden, operators::OperatorSettings};
    /// assert_eq!(OperatorSettings::new().leiden_settings(), &Leiden::new());
    /// ```
    pub fn leiden_settings(&self) -> &Leiden {
        &self.leiden
    }

    /// The Leiden settings in force: the given ones, with the stage's defaults where unset.
    ///
    /// # Examples
    ///
    /// See [`OperatorSettings`].
    pub fn effective_leiden(&self) -> Leiden {
        self.leiden.clone().or_defaults(Quality::Cpm, DEFAULT_RESOLUTION)
    }
}

/// The operator stage's input: the evidence of one index, narrowly.
#[derive(Clone, Copy)]
pub(crate) struct Input<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) evidence: &'a Evidence,
    pub(crate) components: &'a Clustering,
    pub(crate) order: &'a NameOrder,
    pub(crate) names: &'a crate::intern::Interner,
}

/// A component's earlier result, where an update can reuse one: given the stage's input and
/// the component's members in name order, the operators of an untouched component.
pub(crate) type Reuse<'r> = &'r (dyn Fn(&Input<'_>, &[AccountId]) -> Option<Solved> + Sync);

/// Detects operators: Leiden per component (in parallel with `rayon`), taking a component's
/// result from `reuse` where it has one.
pub(crate) fn detect(input: &Input<'_>, settings: &OperatorSettings, reuse: Reuse<'_>) -> OperatorClustering {
    let comps = input.components;
    let ids: Vec<ClusterId> = (0..comps.len()).map(ClusterId::must).collect();
    let leiden = settings.effective_leiden();
    let solve = |&c: &ClusterId| -> (Cow<'_, [AccountId]>, Solved) {
        let members = canonical_members(input, comps.members(c));
        if members.len() < 3 {
            let labels = apply_decisions(input, &members, vec![0; members.len()], &[]);
            let edges = match *members {
                [a, b] => vec![(0, 1, pair_weight(input, a, b))],
                _ => Vec::new(),
            };
            let confidence = confidences(&labels, &edges);
            return (members, Solved { labels, confidence });
        }
        if let Some(s) = reuse(input, &members) {
            return (members, s);
        }
        let s = solve_component(input, &members, &leiden, settings.cross_floor_value());
        (members, s)
    };
    // Solved in runs of components, each run's results packed into three flat arrays: one
    // small allocation per component would cost more than the results (14M components at
    // 100M observations, most of them single accounts).
    let run = |chunk: &[ClusterId]| -> Packed {
        let mut out = Packed::default();
        for c in chunk {
            let (members, s) = solve(c);
            let base = out.confidence.len() as u32;
            out.members.extend_from_slice(&members);
            out.labels.extend(s.labels.iter().map(|&l| base + l));
            out.confidence.extend_from_slice(&s.confidence);
        }
        out
    };
    // Runs of up to RUN components, and at least 64 runs when there are enough components, so
    // that a market of a few large components still spreads over the threads.
    let run_len = (ids.len() / 64).clamp(1, RUN);
    #[cfg(feature = "rayon")]
    let solved: Vec<Packed> = {
        use rayon::prelude::*;
        ids.par_chunks(run_len).map(run).collect()
    };
    #[cfg(not(feature = "rayon"))]
    let solved: Vec<Packed> = ids.chunks(run_len).map(run).collect();

    let mut labels = vec![crate::cluster::NO_CLUSTER; input.graph.account_count()];
    let mut confidence_of_label = Vec::new();
    for packed in solved {
        let base = confidence_of_label.len() as u32;
        for (&a, &l) in packed.members.iter().zip(&packed.labels) {
            labels[a.as_usize()] = base + l;
        }
        confidence_of_label.extend_from_slice(&packed.confidence);
    }
    // Canonical renumbering keeps operator ids independent of component numbering; carry
    // each operator's confidence across it.
    let clustering = Clustering::canonical(labels.clone(), input.order);
    let mut confidence = vec![1.0f32; clustering.len()];
    for (a, &old) in labels.iter().enumerate() {
        if let Some(c) = clustering.cluster_of(AccountId::must(a)) {
            confidence[c.as_usize()] = confidence_of_label[old as usize];
        }
    }
    OperatorClustering { clustering, confidence }
}

/// The most components solved per parallel task.
const RUN: usize = 256;

/// The operators of a run of components, packed: every member, its label (numbered across
/// the run) and each label's confidence.
#[derive(Default)]
struct Packed {
    members: Vec<AccountId>,
    labels: Vec<u32>,
    confidence: Vec<f32>,
}

/// A component's members in name order (its members come sorted by id, which is name order
/// unless an update appended accounts).
pub(crate) fn canonical_members<'m>(input: &Input<'_>, members: &'m [AccountId]) -> Cow<'m, [AccountId]> {
    if input.order.is_identity() {
        return Cow::Borrowed(members);
    }
    let mut out = members.to_vec();
    out.sort_unstable_by_key(|&a| input.order.rank(a));
    Cow::Owned(out)
}

/// The position of `a` among `members` (in name order), if there.
#[inline]
fn local_index(input: &Input<'_>, members: &[AccountId], a: AccountId) -> Option<usize> {
    let rank = input.order.rank(a);
    members.binary_search_by_key(&rank, |&m| input.order.rank(m)).ok()
}

fn solve_component(input: &Input<'_>, members: &[AccountId], leiden: &Leiden, cross_floor: f64) -> Solved {
    let edges = component_edges(input, members, cross_floor);
    let n = members.len();
    let graph = match WeightedGraph::from_edges(n, edges.iter().copied()) {
        Ok(g) => g,
        // Weights are finite and ids in range by construction; keep the component whole
        // rather than fail the build if that ever stops holding.
        Err(_) => return Solved { labels: vec![0; n], confidence: vec![1.0] },
    };
    // Each component's seed follows from its first member's name, so it depends neither on
    // how ids were assigned nor on which other accounts exist (an update that removes an
    // account elsewhere keeps this component's operators, and a build gives the same).
    let seed = leiden.seed_value() ^ name_seed(input.names.get(members[0].as_u32()));
    let partition = leiden.clone().seed(seed).run(&graph);
    let labels = apply_decisions(input, members, partition.membership().to_vec(), &edges);
    let confidence = confidences(&labels, &edges);
    Solved { labels, confidence }
}

/// A fixed hash of a name (64-bit FNV-1a): the same in every build and on every machine,
/// unlike the interner's keyed hashes.
fn name_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The confidence of each local operator: `1 − e^(−w)`, with `w` the evidence that ties its
/// least-tied member to the others (the sum of the member's edge weights inside the operator).
/// A storefront tied by one laptop shared with one other (`w` = 1) gives 0.63; one tied only
/// through a mule account shared by 150 (`w` ≈ 0.14) gives 0.13; a lone storefront gives 1.
fn confidences(labels: &[u32], edges: &[(u32, u32, f64)]) -> Vec<f32> {
    let k = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut tie = vec![0.0f64; labels.len()];
    for &(u, v, w) in edges {
        if labels[u as usize] == labels[v as usize] {
            tie[u as usize] += w;
            tie[v as usize] += w;
        }
    }
    let (mut least, mut size) = (vec![f64::INFINITY; k], vec![0usize; k]);
    for (i, &l) in labels.iter().enumerate() {
        least[l as usize] = least[l as usize].min(tie[i]);
        size[l as usize] += 1;
    }
    least.iter().zip(&size).map(|(&w, &n)| if n < 2 { 1.0 } else { (1.0 - (-w).exp()) as f32 }).collect()
}

/// The evidence between two accounts: the weights of the artifacts they share that link
/// (not suppressed, neither detached).
fn pair_weight(input: &Input<'_>, a: AccountId, b: AccountId) -> f64 {
    let (g, ev) = (input.graph, input.evidence);
    let (xa, xb) = (g.artifacts_of(a), g.artifacts_of(b));
    let (mut i, mut j, mut w) = (0, 0, 0.0);
    while i < xa.len() && j < xb.len() {
        match xa[i].cmp(&xb[j]) {
            core::cmp::Ordering::Less => i += 1,
            core::cmp::Ordering::Greater => j += 1,
            core::cmp::Ordering::Equal => {
                let f = xa[i];
                if !ev.is_suppressed(f) && !ev.is_detached(f, a) && !ev.is_detached(f, b) {
                    w += ev.weight(g, f, 0.0);
                }
                i += 1;
                j += 1;
            }
        }
    }
    w
}

/// The operators of one component: a local label per member (in name order) and a
/// confidence per local label.
pub(crate) struct Solved {
    pub(crate) labels: Vec<u32>,
    pub(crate) confidence: Vec<f32>,
}

/// The operator clustering: an operator per account, members per operator, a confidence each.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// b.add("s1", "device", "d", None)?;
/// b.add("s2", "device", "d", None)?;
/// let index = b.build()?;
/// let ops = index.operators().expect("computed by default");
/// let op = ops.clustering().cluster_of(index.account("s1").expect("known")).expect("in range");
/// // One laptop shared by two: a tie of weight 1.
/// let c = ops.confidence(op).expect("in range");
/// assert!((c - (1.0 - (-1.0f32).exp())).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorClustering {
    pub(crate) clustering: Clustering,
    pub(crate) confidence: Vec<f32>,
}

impl OperatorClustering {
    /// The operators as a clustering.
    ///
    /// # Examples
    ///
    /// See [`OperatorClustering`].
    pub fn clustering(&self) -> &Clustering {
        &self.clustering
    }

    /// The confidence of an operator: `1 − e^(−w)`, with `w` the evidence weight that ties its
    /// least-tied member to the others (1 for a lone storefront).
    ///
    /// # Examples
    ///
    /// See [`OperatorClustering`].
    pub fn confidence(&self, op: ClusterId) -> Option<f32> {
        self.confidence.get(op.as_usize()).copied()
    }

    /// Heap bytes held.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert!(index.operators().expect("computed").heap_bytes() < 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heap_bytes(&self) -> usize {
        self.clustering.heap_bytes() + 4 * self.confidence.capacity()
    }
}

/// Applies must-link (merge their communities) and cannot-link (split a community holding
/// both, each member going to the nearer of the two by evidence distance) within a component;
/// returns compact labels.
fn apply_decisions(
    input: &Input<'_>,
    members: &[AccountId],
    mut labels: Vec<u32>,
    edges: &[(u32, u32, f64)],
) -> Vec<u32> {
    let d = &input.evidence.decisions;
    let inside = |pairs: &[(AccountId, AccountId)]| -> Vec<(usize, usize)> {
        pairs
            .iter()
            .filter_map(|&(a, b)| Some((local_index(input, members, a)?, local_index(input, members, b)?)))
            .collect()
    };
    let (must, cannot) = (inside(&d.must), inside(&d.cannot));
    if must.is_empty() && cannot.is_empty() {
        return labels;
    }
    let n = members.len();
    if !must.is_empty() {
        let k = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut uf = UnionFind::new(k);
        for &(x, y) in &must {
            uf.union(labels[x], labels[y]);
        }
        for l in labels.iter_mut() {
            *l = uf.find(*l);
        }
    }
    if !cannot.is_empty() {
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for &(u, v, w) in edges {
            adj[u as usize].push((v as usize, 1.0 / w.max(1e-9)));
            adj[v as usize].push((u as usize, 1.0 / w.max(1e-9)));
        }
        let mut next = labels.iter().map(|&l| l + 1).max().unwrap_or(0);
        for &(x, y) in &cannot {
            if labels[x] != labels[y] {
                continue;
            }
            let c = labels[x];
            // Two-source Dijkstra inside community c; ties and unreachable stay with x.
            let mut dist = vec![(f64::INFINITY, 0u8); n];
            let mut heap = std::collections::BinaryHeap::new();
            for (s, side) in [(x, 0u8), (y, 1u8)] {
                dist[s] = (0.0, side);
                heap.push(std::cmp::Reverse((Ordf(0.0), side, s)));
            }
            while let Some(std::cmp::Reverse((Ordf(du), side, u))) = heap.pop() {
                if du > dist[u].0 || (du == dist[u].0 && side != dist[u].1) {
                    continue;
                }
                for &(v, w) in &adj[u] {
                    let dv = du + w;
                    if labels[v] == c && (dv < dist[v].0 || (dv == dist[v].0 && side < dist[v].1)) {
                        dist[v] = (dv, side);
                        heap.push(std::cmp::Reverse((Ordf(dv), side, v)));
                    }
                }
            }
            for v in 0..n {
                if labels[v] == c && dist[v].1 == 1 && dist[v].0.is_finite() {
                    labels[v] = next;
                }
            }
            next += 1;
        }
    }
    Clustering::from_labels(labels).labels().to_vec()
}

/// A totally ordered f64 for the heap.
#[derive(Clone, Copy, PartialEq)]
struct Ordf(f64);

impl Eq for Ordf {}

impl PartialOrd for Ordf {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordf {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The evidence edges among `members` (in name order), as `(local, local, weight)`, one per
/// artifact and pair (or circulant edge).
pub(crate) fn component_edges(
    input: &Input<'_>,
    members: &[AccountId],
    cross_floor: f64,
) -> Vec<(u32, u32, f64)> {
    let g = input.graph;
    let ev = input.evidence;
    let local = |a: AccountId| local_index(input, members, a).map(|i| i as u32);
    let mut arts: Vec<ArtifactId> = members.iter().flat_map(|&a| g.artifacts_of(a).iter().copied()).collect();
    arts.sort_unstable();
    arts.dedup();

    let mut edges = Vec::new();
    let mut inside: Vec<u32> = Vec::new();
    let mut first_on: AHashMap<ArtifactId, u32> = AHashMap::new();
    let mut shared: AHashMap<ArtifactId, u32> = AHashMap::new();
    let mut anchored: Vec<bool> = Vec::new();
    for &f in &arts {
        if g.degree(f) < 2 {
            continue;
        }
        let base = ev.weight(g, f, 0.0);
        if base <= 0.0 {
            continue;
        }
        // A hub by degree (past its kind's cap or the ceiling) or legitimate infrastructure
        // says nothing about who is one operator; an incoherent hub still holds together the
        // accounts that the rest of the evidence relates (below). (So every operator edge reads
        // only artifacts whose accounts all lie in one piece of the market: see `shard`.)
        if ev.is_suppressed(f) && !ev.incoherent.contains(f.as_u32()) {
            continue;
        }
        let hub = ev.is_suppressed(f);
        // Accounts of f inside the component, as local indices, split by time where windowed.
        for group in time_groups(g, f, ev.resolved.window[g.kind(f).as_usize()]) {
            inside.clear();
            inside.extend(group.iter().filter_map(|&a| local(a)));
            inside.sort_unstable();
            inside.dedup();
            if inside.len() < 2 {
                continue;
            }
            // Relatedness groups: accounts of f joined through other non-hub shared artifacts
            // that are not f's twins. An account with more artifacts than the coherence
            // judgement reads relates nothing here either: one account sharing an artifact with
            // each of N others would cost N².
            let mut uf = UnionFind::new(inside.len());
            first_on.clear();
            shared.clear();
            for &l in inside.iter() {
                let arts = g.artifacts_of(members[l as usize]);
                if arts.len() <= crate::evidence::ACCOUNT_LIMIT {
                    for &other in arts {
                        *shared.entry(other).or_insert(0) += 1;
                    }
                }
            }
            let twin = |other: ArtifactId| {
                let held = shared.get(&other).map_or(0, |&c| c as usize);
                held >= 2 && 2 * held > inside.len() && 2 * held >= g.degree(other) as usize
            };
            // Accounts with other shared evidence at all (as coherence counts them): when fewer
            // than two have any, nothing can say whether they are related, and a small artifact
            // is taken on trust here as it was when judged.
            let mut informative = 0usize;
            // Accounts related through an artifact that reaches past f: their group is part of
            // an entity larger than its share of f (a ring, beside the kit it bought), not a
            // sub-bundle of f's own records (two spellings of one person's name).
            anchored.clear();
            anchored.resize(inside.len(), false);
            for (i, &l) in inside.iter().enumerate() {
                let arts = g.artifacts_of(members[l as usize]);
                if arts.len() > crate::evidence::ACCOUNT_LIMIT {
                    informative += 1;
                    continue;
                }
                let mut has_other = false;
                for &other in arts {
                    if other == f || ev.is_suppressed(other) || g.degree(other) < 2 || twin(other) {
                        continue;
                    }
                    has_other = true;
                    if shared.get(&other).is_some_and(|&c| c < g.degree(other)) {
                        anchored[i] = true;
                    }
                    let first = *first_on.entry(other).or_insert(i as u32);
                    uf.union(first, i as u32);
                }
                informative += usize::from(has_other);
            }
            let labels = Clustering::from_labels(uf.roots()).labels().to_vec();
            let mut sizes = vec![0u32; inside.len()];
            for &l in &labels {
                sizes[l as usize] += 1;
            }
            let related = labels.iter().filter(|&&l| sizes[l as usize] >= 2).count();
            // Groups of two or more accounts anchored past f: each is (part of) another entity.
            let mut entity = vec![false; inside.len()];
            for (i, &l) in labels.iter().enumerate() {
                entity[l as usize] |= anchored[i] && sizes[l as usize] >= 2;
            }
            let cross = if hub {
                0.0
            } else if inside.len() == 2
                || (informative < 2 && inside.len() <= crate::evidence::UNVERIFIED_MAX)
            {
                1.0
            } else {
                (related as f64 / inside.len() as f64).max(cross_floor)
            };
            emit(&inside, &labels, &sizes, &entity, base, cross, &mut edges);
        }
    }
    edges
}

/// The accounts of artifact `f` split into time-coincident groups (one group when unwindowed).
fn time_groups(g: &Graph, f: ArtifactId, window: Option<u64>) -> Vec<Vec<AccountId>> {
    let (accounts, times) = g.use_slices(f);
    match (window, times) {
        (Some(w), Some(times)) if times.first().is_some_and(|&t| t != NO_TIME) => {
            let mut groups = vec![vec![accounts[0]]];
            for i in 1..accounts.len() {
                if times[i].abs_diff(times[i - 1]) > w {
                    groups.push(Vec::new());
                }
                if let Some(last) = groups.last_mut() {
                    last.push(accounts[i]);
                }
            }
            groups
        }
        _ => vec![g.accounts_of(f).to_vec()],
    }
}

/// Writes the (possibly sparsified) weighted clique of one artifact: `base` within a
/// relatedness group, nothing between two groups that are each another entity's
/// (`entity[label]`), `base · cross` across any other two groups. Labels are dense
/// (`0..groups`, from `Clustering::from_labels`), `sizes[label]` each group's size.
fn emit(
    inside: &[u32],
    labels: &[u32],
    sizes: &[u32],
    entity: &[bool],
    base: f64,
    cross: f64,
    edges: &mut Vec<(u32, u32, f64)>,
) {
    let n = inside.len();
    if n <= CLIQUE_LIMIT {
        for i in 0..n {
            for j in i + 1..n {
                let (li, lj) = (labels[i], labels[j]);
                let w = if li == lj {
                    base
                } else if entity[li as usize] && entity[lj as usize] {
                    0.0
                } else {
                    base * cross
                };
                if w > 0.0 {
                    edges.push((inside[i], inside[j], w));
                }
            }
        }
        return;
    }
    // Too many pairs to write: within each group a circulant; across, one circulant over the
    // groups that are no other entity's and the one entity's group they may join without
    // joining two entities (all groups when at most one is an entity's; else the largest, the
    // first in label order among equals).
    let entities = entity.iter().filter(|&&e| e).count();
    let main = (0..n as u32)
        .filter(|&l| entity[l as usize])
        .max_by_key(|&l| (sizes[l as usize], core::cmp::Reverse(l)))
        .unwrap_or(0);
    let crossing = |l: u32| entities <= 1 || !entity[l as usize] || l == main;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (labels[i], inside[i]));
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && labels[order[end]] == labels[order[start]] {
            end += 1;
        }
        let l = labels[order[start]];
        let group: Vec<u32> = order[start..end].iter().map(|&i| inside[i]).collect();
        circulant(&group, if crossing(l) { base * (1.0 - cross) } else { base }, edges);
        start = end;
    }
    if cross > 0.0 {
        let across: Vec<u32> = order.iter().filter(|&&i| crossing(labels[i])).map(|&i| inside[i]).collect();
        circulant(&across, base * cross, edges);
    }
}

/// A clique of weight `w` per pair over `nodes`, exact when small, else a circulant with the
/// same strength per node.
fn circulant(nodes: &[u32], w: f64, edges: &mut Vec<(u32, u32, f64)>) {
    let n = nodes.len();
    if n < 2 || w <= 0.0 {
        return;
    }
    if n <= CLIQUE_LIMIT {
        for i in 0..n {
            for j in i + 1..n {
                edges.push((nodes[i], nodes[j], w));
            }
        }
        return;
    }
    let s = SPARSE_DEGREE;
    let scaled = w * (n - 1) as f64 / (2 * s) as f64;
    for i in 0..n {
        for step in 1..=s {
            edges.push((nodes[i], nodes[(i + step) % n], scaled));
        }
    }
}
