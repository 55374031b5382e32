//! The Leiden optimiser behind [`Leiden::run`](super::Leiden::run): local moving with a queue,
//! refinement, aggregation, per connected component, seeded; private to the engine.

use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

use super::WeightedGraph;
use crate::cluster::{compact_labels, renumber};

/// Iteration cap used when [`Leiden::max_iterations`] is 0 ("until stable").
pub(super) const HARD_ITERATION_CAP: u32 = 256;
/// Node visits allowed per node in one local-moving pass before it gives up (a guard against
/// floating-point cycles; never reached in practice).
const VISITS_PER_NODE: usize = 256;
/// A move must beat staying by this fraction of the magnitudes involved.
const MOVE_TOLERANCE: f64 = 1e-13;
/// Components with at least this many nodes are relabelled by community after the first
/// iteration, for cache locality.
const RELABEL_MIN_NODES: usize = 16_384;
/// Levels with at least this many nodes refine and aggregate in parallel (with the `rayon`
/// feature and more than one thread).
#[cfg(feature = "rayon")]
const PARALLEL_MIN_NODES: usize = 16_384;
/// Levels with at least this many nodes move their nodes colour class by colour class (see
/// [`move_nodes_coloured`]), whatever the thread count, so that results never depend on it.
pub(super) const COLOURED_MIN_NODES: usize = 16_384;
/// Local-moving passes allowed after a run stopped by the tolerance, until one moves nothing.
const POLISH_PASSES: usize = 64;
/// Candidates of one colour class are evaluated in parallel in chunks of this many nodes.
const PROPOSE_CHUNK: usize = 512;

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood 2014, from `rand_xoshiro`): tiny, fast and good enough for
/// shuffles and draws; the helpers below turn its words into the draws the optimiser needs.
#[derive(Clone, Debug)]
struct Rng(SplitMix64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(SplitMix64::seed_from_u64(seed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// The SplitMix64 finaliser, as a hash of a word (for deriving seeds).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for stream `stream` of generator `seed`.
fn derive_seed(seed: u64, stream: u64) -> u64 {
    mix64(seed ^ mix64(stream.wrapping_add(0x632B_E59B_D9B4_E019)))
}

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

/// Resolved settings: the gain of moving node `v` into community `C` is
/// `w(v, C) − gamma · a_v · A_C`, with `a` the node weight (strength for modularity, with
/// `gamma = γ / 2m`; size for CPM, with `gamma = γ`) and `A_C` its sum over `C`.
pub(super) struct Engine {
    pub(super) gamma: f64,
    pub(super) theta: f64,
    pub(super) max_iterations: u32,
    /// Iterations stop once one gains less than this times the component's edge weight.
    pub(super) tolerance: f64,
    /// Levels with at least this many nodes move colour class by colour class
    /// ([`COLOURED_MIN_NODES`]; tests lower it to exercise that path on small graphs).
    pub(super) coloured_min_nodes: usize,
}

/// A borrowed level graph.
#[derive(Clone, Copy)]
struct View<'a> {
    offsets: &'a [usize],
    targets: &'a [u32],
    weights: &'a [f64],
    node_weight: &'a [f64],
}

impl<'a> View<'a> {
    fn node_count(&self) -> usize {
        self.node_weight.len()
    }

    #[inline]
    fn row(&self, v: usize) -> (&'a [u32], &'a [f64]) {
        let (lo, hi) = (self.offsets[v], self.offsets[v + 1]);
        (&self.targets[lo..hi], &self.weights[lo..hi])
    }
}

/// An owned level graph (a component's copy, or an aggregate).
struct Level {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    node_weight: Vec<f64>,
}

impl Level {
    fn node_count(&self) -> usize {
        self.node_weight.len()
    }

    fn view(&self) -> View<'_> {
        View {
            offsets: &self.offsets,
            targets: &self.targets,
            weights: &self.weights,
            node_weight: &self.node_weight,
        }
    }
}

/// Maps `f` over `items`, in parallel when asked (and the `rayon` feature is on), with one
/// scratch value per worker; results keep the order of `items`.
fn map_items<T, R, S>(
    items: Vec<T>,
    parallel: bool,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, T) -> R + Sync + Send,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    #[cfg(feature = "rayon")]
    if parallel && items.len() > 1 {
        use rayon::prelude::*;
        return items.into_par_iter().map_init(init, f).collect();
    }
    let _ = parallel;
    let mut scratch = init();
    items.into_iter().map(|item| f(&mut scratch, item)).collect()
}

/// [`map_items`], but a sequential run uses the caller's `scratch` (kept across calls).
fn map_with<T, R, S>(
    items: Vec<T>,
    parallel: bool,
    scratch: &mut S,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, T) -> R + Sync + Send,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    #[cfg(feature = "rayon")]
    if parallel && items.len() > 1 {
        use rayon::prelude::*;
        return items.into_par_iter().map_init(init, f).collect();
    }
    let _ = (parallel, init);
    items.into_iter().map(|item| f(scratch, item)).collect()
}

/// Buffers reused across levels, iterations and the components one worker solves, so that
/// many small components cost few allocations.
#[derive(Default)]
struct Workspace {
    moves: MoveScratch,
    refine: RefineScratch,
    aggregate: (Vec<f64>, Vec<u32>),
    start: Vec<usize>,
    members: Vec<u32>,
    position: Vec<u32>,
    local: Vec<u32>,
    remap: Vec<u32>,
}

#[cfg(feature = "rayon")]
fn worker_count() -> usize {
    rayon::current_num_threads()
}

#[cfg(not(feature = "rayon"))]
fn worker_count() -> usize {
    1
}

#[cfg(feature = "rayon")]
fn parallel_level(n: usize) -> bool {
    n >= PARALLEL_MIN_NODES && rayon::current_num_threads() > 1
}

#[cfg(not(feature = "rayon"))]
fn parallel_level(_n: usize) -> bool {
    false
}

/// Connected components, numbered in order of their smallest node; `nodes` lists each
/// component's nodes in increasing order, `start` delimits them and `local` gives every node's
/// position inside its component.
struct Components {
    start: Vec<usize>,
    nodes: Vec<u32>,
    local: Vec<u32>,
}

impl Components {
    /// Breadth-first search from every unvisited node in id order: the search order lists each
    /// component contiguously, its smallest node first, neighbours close together.
    fn new(graph: &WeightedGraph) -> Self {
        let n = graph.node_count();
        let mut local = vec![u32::MAX; n];
        let mut nodes: Vec<u32> = Vec::with_capacity(n);
        let mut start = vec![0usize];
        for root in 0..n {
            if local[root] != u32::MAX {
                continue;
            }
            let first = nodes.len();
            local[root] = 0;
            nodes.push(root as u32);
            let mut head = first;
            while head < nodes.len() {
                let v = nodes[head] as usize;
                head += 1;
                let (lo, hi) = graph.row(v);
                for &u in &graph.targets[lo..hi] {
                    if local[u as usize] == u32::MAX {
                        local[u as usize] = (nodes.len() - first) as u32;
                        nodes.push(u);
                    }
                }
            }
            start.push(nodes.len());
        }
        Self { start, nodes, local }
    }

    fn count(&self) -> usize {
        self.start.len() - 1
    }

    fn members(&self, c: usize) -> &[u32] {
        &self.nodes[self.start[c]..self.start[c + 1]]
    }
}

/// Solves every component and returns a membership over the whole graph (not yet renumbered).
pub(super) fn solve_components(
    graph: &WeightedGraph,
    node_weight: &[f64],
    initial: Option<&[u32]>,
    engine: &Engine,
    seed: u64,
) -> Vec<u32> {
    let n = graph.node_count();
    if n == 0 {
        return Vec::new();
    }
    let components = Components::new(graph);
    let mut membership = vec![0u32; n];
    let mut large: Vec<usize> = Vec::new();
    for c in 0..components.count() {
        let members = components.members(c);
        let base = components.start[c] as u32;
        match *members {
            [v] => membership[v as usize] = base,
            [u, v] => {
                let merge = merge_pair(graph, node_weight, engine.gamma, u, v);
                membership[u as usize] = base;
                membership[v as usize] = if merge { base } else { base + 1 };
            }
            _ => large.push(c),
        }
    }
    // Largest first, for load balance; results come back in this order.
    large.sort_by_key(|&c| std::cmp::Reverse(components.members(c).len()));
    let parallel = large.len() > 1 && worker_count() > 1;
    let solved = map_items(large.clone(), parallel, Workspace::default, |workspace, c| {
        let members = components.members(c);
        let level = component_level(graph, node_weight, &components, members);
        // The component's total edge weight, the scale of the tolerance.
        let edge_weight = level.weights.iter().sum::<f64>() / 2.0
            + members.iter().map(|&v| graph.self_loops[v as usize]).sum::<f64>();
        let mut local = match initial {
            Some(init) => {
                let mut labels: Vec<u32> = members.iter().map(|&v| init[v as usize]).collect();
                compact_labels(&mut labels);
                labels
            }
            None => (0..members.len() as u32).collect(),
        };
        // `members[0]` is the component's smallest node.
        let mut rng = Rng::new(derive_seed(seed, u64::from(members[0])));
        optimise(level, &mut local, engine, edge_weight, &mut rng, workspace);
        local
    });
    for (c, local) in large.into_iter().zip(solved) {
        let base = components.start[c] as u32;
        for (&v, &l) in components.members(c).iter().zip(&local) {
            membership[v as usize] = base + l;
        }
    }
    membership
}

/// Whether the two nodes of a two-node component belong together.
fn merge_pair(graph: &WeightedGraph, node_weight: &[f64], gamma: f64, u: u32, v: u32) -> bool {
    let w: f64 = graph.neighbors(u).filter(|&(t, _)| t == v).map(|(_, w)| w).sum();
    let penalty = gamma * node_weight[u as usize] * node_weight[v as usize];
    w - penalty > MOVE_TOLERANCE * (w + penalty)
}

/// A component's subgraph with local ids.
fn component_level(
    graph: &WeightedGraph,
    node_weight: &[f64],
    components: &Components,
    members: &[u32],
) -> Level {
    let mut offsets = Vec::with_capacity(members.len() + 1);
    offsets.push(0usize);
    let edges: usize = members
        .iter()
        .map(|&v| {
            let (lo, hi) = graph.row(v as usize);
            hi - lo
        })
        .sum();
    let mut targets = Vec::with_capacity(edges);
    let mut weights = Vec::with_capacity(edges);
    for &v in members {
        let (lo, hi) = graph.row(v as usize);
        targets.extend(graph.targets[lo..hi].iter().map(|&u| components.local[u as usize]));
        weights.extend_from_slice(&graph.weights[lo..hi]);
        offsets.push(targets.len());
    }
    Level {
        offsets,
        targets,
        weights,
        node_weight: members.iter().map(|&v| node_weight[v as usize]).collect(),
    }
}

/// Runs Leiden iterations on one connected graph until an iteration gains less than the
/// tolerance (or changes nothing, or the cap is reached), then guarantees connected
/// communities. `membership` holds labels below the node count; `edge_weight` is the graph's
/// total edge weight, the scale of the tolerance.
///
/// A run stopped by the tolerance (rather than by an iteration that moved nothing) ends with
/// one more local-moving pass on the nodes themselves, so that it too returns a partition in
/// which no single node can improve the quality by moving.
///
/// After the first iteration a large graph is relabelled so that every community's nodes are
/// contiguous (keeping their order): later iterations then mostly touch nearby memory.
fn optimise(
    mut level: Level,
    membership: &mut [u32],
    engine: &Engine,
    edge_weight: f64,
    rng: &mut Rng,
    ws: &mut Workspace,
) {
    let mut order: Option<Vec<u32>> = None; // order[new id] = original id
    let mut colouring =
        (level.node_count() >= engine.coloured_min_nodes).then(|| Colouring::new(level.view()));
    let mut current = membership.to_vec();
    let mut iteration = 0u32;
    let min_gain = engine.tolerance * edge_weight;
    loop {
        iteration += 1;
        let (changed, gain) = iterate(level.view(), colouring.as_ref(), &mut current, engine, rng, ws);
        let capped = iteration >= engine.max_iterations;
        let settled = changed && gain < min_gain;
        if !changed || settled || capped {
            if settled && !capped {
                // The last iteration moved groups of nodes at aggregate levels; let single
                // nodes settle too, until a pass (which visits every node) moves none.
                let g = level.view();
                for _ in 0..POLISH_PASSES {
                    let (moved, _) = match &colouring {
                        Some(colours) => {
                            move_nodes_coloured(g, colours, &mut current, engine.gamma, &mut ws.moves)
                        }
                        None => move_nodes(g, &mut current, engine.gamma, rng, &mut ws.moves),
                    };
                    if !moved {
                        break;
                    }
                }
            }
            let split = split_disconnected(level.view(), &mut current);
            if !split || capped {
                break;
            }
        } else if order.is_none() && level.node_count() >= RELABEL_MIN_NODES {
            let (relabelled, perm) = relabel_by_community(level.view(), &current);
            current = perm.iter().map(|&old| current[old as usize]).collect();
            colouring = colouring.map(|c| c.permuted(&perm));
            level = relabelled;
            order = Some(perm);
        }
    }
    match order {
        Some(perm) => {
            for (&old, &c) in perm.iter().zip(&current) {
                membership[old as usize] = c;
            }
        }
        None => membership.copy_from_slice(&current),
    }
}

/// The graph with nodes renumbered community by community (stable within a community), and
/// the permutation `perm[new] = old`.
fn relabel_by_community(g: View<'_>, membership: &[u32]) -> (Level, Vec<u32>) {
    let n = g.node_count();
    let mut start = vec![0usize; n + 1];
    for &c in membership {
        start[c as usize + 1] += 1;
    }
    for c in 0..n {
        start[c + 1] += start[c];
    }
    let mut perm = vec![0u32; n];
    let mut new_id = vec![0u32; n];
    for (v, &c) in membership.iter().enumerate() {
        let slot = &mut start[c as usize];
        perm[*slot] = v as u32;
        new_id[v] = *slot as u32;
        *slot += 1;
    }
    drop(start);
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0usize);
    let mut targets = Vec::with_capacity(g.targets.len());
    let mut weights = Vec::with_capacity(g.weights.len());
    for &old in &perm {
        let (ts, ws) = g.row(old as usize);
        targets.extend(ts.iter().map(|&u| new_id[u as usize]));
        weights.extend_from_slice(ws);
        offsets.push(targets.len());
    }
    let node_weight = perm.iter().map(|&old| g.node_weight[old as usize]).collect();
    let level = Level { offsets, targets, weights, node_weight };
    (level, perm)
}

/// One Leiden iteration (all levels); returns whether any node moved and the quality gained
/// (in the units of [`Engine`]: edge weight). `colours0` is the colouring of `g0`, if it is
/// large enough to be moved colour class by colour class.
fn iterate(
    g0: View<'_>,
    colours0: Option<&Colouring>,
    membership: &mut [u32],
    engine: &Engine,
    rng: &mut Rng,
    ws: &mut Workspace,
) -> (bool, f64) {
    let mut changed = false;
    let mut gained = 0.0f64;
    let mut part: Vec<u32> = membership.to_vec();
    let mut node_map: Option<Vec<u32>> = None;
    let mut level: Option<Level> = None;
    loop {
        let g = match &level {
            Some(l) => l.view(),
            None => g0,
        };
        let n = g.node_count();
        let (moved, gain) = if n >= engine.coloured_min_nodes {
            let fresh;
            let colours = match (&level, colours0) {
                (None, Some(c)) => c,
                _ => {
                    fresh = Colouring::new(g);
                    &fresh
                }
            };
            move_nodes_coloured(g, colours, &mut part, engine.gamma, &mut ws.moves)
        } else {
            move_nodes(g, &mut part, engine.gamma, rng, &mut ws.moves)
        };
        changed |= moved;
        gained += gain;
        let k = renumber(&mut part);
        if k == n {
            break;
        }
        let parallel = parallel_level(n);
        let level_seed = rng.next_u64();
        let (mut refined, mut count) = refine(g, &part, k, engine, level_seed, parallel, ws);
        if count == n {
            // Refinement merged nothing (no node is well connected to its community): aggregate
            // the communities themselves, as igraph does, so whole communities can still move.
            // Should that leave a community disconnected, `optimise` splits it afterwards.
            refined.copy_from_slice(&part);
            count = k;
        }
        let aggregate = aggregate(g, &refined, count, parallel, ws);
        let mut next = vec![0u32; count];
        for (&r, &p) in refined.iter().zip(&part) {
            next[r as usize] = p;
        }
        match &mut node_map {
            Some(map) => map.iter_mut().for_each(|x| *x = refined[*x as usize]),
            None => node_map = Some(refined),
        }
        part = next;
        level = Some(aggregate);
    }
    match node_map {
        Some(map) => {
            for (m, &x) in membership.iter_mut().zip(&map) {
                *m = part[x as usize];
            }
        }
        None => membership.copy_from_slice(&part),
    }
    renumber(membership);
    (changed, gained)
}

/// Per-community state of the local-moving phase, kept together so that the gather (`neigh`)
/// and the gain (`weight`) touch one cache line.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// Edge weight from the node being visited to this community (0 when untouched).
    neigh: f64,
    /// Total node weight of the community.
    weight: f64,
}

/// Reusable buffers of the local-moving phase.
#[derive(Default)]
struct MoveScratch {
    slots: Vec<Slot>,
    comm_size: Vec<u32>,
    empty: Vec<u32>,
    queue: Vec<u32>,
    in_queue: Vec<bool>,
    touched: Vec<u32>,
    /// Gather buffer of [`propose`] when it runs on the calling thread.
    gather: Vec<f64>,
    proposals: Vec<Proposal>,
}

impl MoveScratch {
    /// Community weights and sizes of `membership`, and the empty communities (smallest id
    /// on top).
    fn start(&mut self, g: View<'_>, membership: &[u32]) {
        let n = g.node_count();
        self.slots.clear();
        self.slots.resize(n, Slot::default());
        self.comm_size.clear();
        self.comm_size.resize(n, 0);
        for (&c, &a) in membership.iter().zip(g.node_weight) {
            self.slots[c as usize].weight += a;
            self.comm_size[c as usize] += 1;
        }
        self.empty.clear();
        self.empty.extend((0..n as u32).rev().filter(|&c| self.comm_size[c as usize] == 0));
    }
}

/// Fast local moving: visit nodes from a queue, move each to its best community, requeue the
/// neighbours that may now want to follow. Returns whether any node moved and the quality
/// gained.
fn move_nodes(
    g: View<'_>,
    membership: &mut [u32],
    gamma: f64,
    rng: &mut Rng,
    s: &mut MoveScratch,
) -> (bool, f64) {
    let n = g.node_count();
    if n == 0 {
        return (false, 0.0);
    }
    s.start(g, membership);
    s.queue.clear();
    s.queue.extend(0..n as u32);
    rng.shuffle(&mut s.queue);
    s.in_queue.clear();
    s.in_queue.resize(n, true);
    s.touched.clear();

    let mut head = 0usize;
    let mut len = n;
    let mut budget = n.saturating_mul(VISITS_PER_NODE);
    let mut moved = false;
    let mut gained = 0.0f64;
    while len > 0 && budget > 0 {
        budget -= 1;
        let v = s.queue[head] as usize;
        head += 1;
        if head == n {
            head = 0;
        }
        len -= 1;
        s.in_queue[v] = false;

        let (targets, weights) = g.row(v);
        for (&u, &w) in targets.iter().zip(weights) {
            let c = membership[u as usize];
            let slot = &mut s.slots[c as usize];
            if slot.neigh == 0.0 {
                s.touched.push(c);
            }
            slot.neigh += w;
        }

        let own = membership[v] as usize;
        let a = g.node_weight[v];
        s.comm_size[own] -= 1;
        let own_empty = s.comm_size[own] == 0;
        let own_slot = &mut s.slots[own];
        let saved_weight = own_slot.weight;
        own_slot.weight = if own_empty { 0.0 } else { own_slot.weight - a };
        let slots = &s.slots;
        let (choice, gain) =
            choose_move(own, a, gamma, own_empty, &s.touched, |c| slots[c].neigh, |c| slots[c].weight);
        let target = match choice {
            Move::Stay => own,
            Move::To(c) => c,
            Move::ToEmpty => s.empty.pop().map_or(own, |c| c as usize),
        };
        s.comm_size[target] += 1;
        if target == own {
            // Restore the exact weight: a pass without moves leaves every value bit-identical,
            // which is what lets `is_stable` stand in for it.
            s.slots[own].weight = saved_weight;
        } else {
            s.slots[target].weight += a;
            if s.comm_size[own] == 0 {
                s.empty.push(own as u32);
            }
        }
        for &c in &s.touched {
            s.slots[c as usize].neigh = 0.0;
        }
        s.touched.clear();
        if target != own {
            moved = true;
            gained += gain;
            membership[v] = target as u32;
            for &u in targets {
                let u = u as usize;
                if !s.in_queue[u] && membership[u] as usize != target {
                    s.in_queue[u] = true;
                    let mut tail = head + len;
                    if tail >= n {
                        tail -= n;
                    }
                    s.queue[tail] = u as u32;
                    len += 1;
                }
            }
        }
    }
    (moved, gained)
}

/// The decision of local moving for one node.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Move {
    Stay,
    To(usize),
    ToEmpty,
}

/// Chooses where a node of weight `a`, taken out of community `own` (`own_empty`: it was the only
/// member), goes: the touched community with the largest gain `neigh(c) − gamma · a · weight(c)`,
/// or an empty community (gain 0), provided it beats staying by more than rounding noise.
/// `neigh` and `weight` must already reflect the node's removal from `own`. Returns the move
/// and, for a move, the quality it gains.
#[inline]
#[allow(clippy::too_many_arguments)]
fn choose_move(
    own: usize,
    a: f64,
    gamma: f64,
    own_empty: bool,
    touched: &[u32],
    neigh: impl Fn(usize) -> f64,
    weight: impl Fn(usize) -> f64,
) -> (Move, f64) {
    let (w_own, a_own) = (neigh(own), weight(own));
    let own_gain = w_own - gamma * a * a_own;
    let mut best = own;
    let mut best_gain = own_gain;
    for &c in touched {
        let c = c as usize;
        let gain = neigh(c) - gamma * a * weight(c);
        if gain > best_gain {
            best = c;
            best_gain = gain;
        }
    }
    let to_empty = !own_empty && 0.0 > best_gain;
    if !to_empty && best == own {
        return (Move::Stay, 0.0);
    }
    let (w_best, a_best) = if to_empty { (0.0, 0.0) } else { (neigh(best), weight(best)) };
    match improvement(gamma, a, w_own, a_own, w_best, a_best) {
        Some(gain) if to_empty => (Move::ToEmpty, gain),
        Some(gain) => (Move::To(best), gain),
        None => (Move::Stay, 0.0),
    }
}

/// The quality gained by moving a node of weight `a` from its community (`w_own`: its edge
/// weight to the other members, `a_own`: their weight) to another (`w_to`, `a_to`), when that
/// beats staying by more than rounding noise.
#[inline]
fn improvement(gamma: f64, a: f64, w_own: f64, a_own: f64, w_to: f64, a_to: f64) -> Option<f64> {
    let gain = (w_to - gamma * a * a_to) - (w_own - gamma * a * a_own);
    let scale = w_own + w_to + gamma * a * (a_own.abs() + a_to.abs());
    (gain > MOVE_TOLERANCE * scale).then_some(gain)
}

/// A proper colouring of a level graph (no edge joins two nodes of one colour), with the nodes
/// listed class by class, for [`move_nodes_coloured`].
struct Colouring {
    /// The nodes, class after class; within a class in increasing id order.
    nodes: Vec<u32>,
    /// Class boundaries in `nodes`, `classes + 1` entries.
    start: Vec<usize>,
}

impl Colouring {
    /// Greedy colouring in node order: every node takes the smallest colour that none of its
    /// earlier neighbours has (at most its degree + 1 colours; `O(m)`).
    fn new(g: View<'_>) -> Self {
        let n = g.node_count();
        let mut colour = vec![0u32; n];
        // used[c] == v + 1: colour c is taken by a neighbour of v.
        let mut used: Vec<usize> = Vec::new();
        let mut classes = 0usize;
        for v in 0..n {
            let (targets, _) = g.row(v);
            for &u in targets {
                let u = u as usize;
                if u < v {
                    used[colour[u] as usize] = v + 1;
                }
            }
            let c = used.iter().position(|&stamp| stamp != v + 1).unwrap_or(used.len());
            if c == used.len() {
                used.push(0);
            }
            colour[v] = c as u32;
            classes = classes.max(c + 1);
        }
        Self::from_colours(&colour, classes)
    }

    fn from_colours(colour: &[u32], classes: usize) -> Self {
        let mut start = vec![0usize; classes + 1];
        for &c in colour {
            start[c as usize + 1] += 1;
        }
        for c in 0..classes {
            start[c + 1] += start[c];
        }
        let mut cursor = start.clone();
        let mut nodes = vec![0u32; colour.len()];
        for (v, &c) in colour.iter().enumerate() {
            nodes[cursor[c as usize]] = v as u32;
            cursor[c as usize] += 1;
        }
        Self { nodes, start }
    }

    /// The same colouring after the nodes were renumbered (`perm[new] = old`).
    fn permuted(self, perm: &[u32]) -> Self {
        let mut colour = vec![0u32; perm.len()];
        for c in 0..self.classes() {
            for &old in self.class(c) {
                colour[old as usize] = c as u32;
            }
        }
        let renumbered: Vec<u32> = perm.iter().map(|&old| colour[old as usize]).collect();
        Self::from_colours(&renumbered, self.classes())
    }

    fn classes(&self) -> usize {
        self.start.len() - 1
    }

    fn class(&self, c: usize) -> &[u32] {
        &self.nodes[self.start[c]..self.start[c + 1]]
    }
}

/// A node's best move found against the state at the start of its colour class.
#[derive(Clone, Copy)]
struct Proposal {
    node: u32,
    /// The target community, or `u32::MAX` for an empty one.
    target: u32,
    /// Edge weight from the node to the other members of its own community.
    w_own: f64,
    /// Edge weight from the node to the target community.
    w_target: f64,
}

#[cfg(feature = "rayon")]
thread_local! {
    /// Each worker's gather buffers for [`propose`]: edge weight per community (zero when
    /// untouched) and the touched communities.
    static GATHER: std::cell::RefCell<(Vec<f64>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The best move of every candidate, each decided exactly as [`move_nodes`] would decide it
/// against the current state (read only), in candidate order; candidates that stay are left
/// out.
#[allow(clippy::too_many_arguments)]
fn propose_into(
    g: View<'_>,
    membership: &[u32],
    slots: &[Slot],
    sizes: &[u32],
    gamma: f64,
    candidates: &[u32],
    (neigh, touched): &mut (Vec<f64>, Vec<u32>),
    out: &mut Vec<Proposal>,
) {
    if neigh.len() < g.node_count() {
        neigh.resize(g.node_count(), 0.0);
    }
    for &v in candidates {
        let v = v as usize;
        let (targets, weights) = g.row(v);
        for (&u, &w) in targets.iter().zip(weights) {
            let c = membership[u as usize];
            if neigh[c as usize] == 0.0 {
                touched.push(c);
            }
            neigh[c as usize] += w;
        }
        let own = membership[v] as usize;
        let a = g.node_weight[v];
        let own_empty = sizes[own] == 1;
        let own_weight = if own_empty { 0.0 } else { slots[own].weight - a };
        let weight = |c: usize| if c == own { own_weight } else { slots[c].weight };
        let (choice, _) = choose_move(own, a, gamma, own_empty, touched, |c| neigh[c], weight);
        let target = match choice {
            Move::Stay => None,
            Move::To(c) => Some((c as u32, neigh[c])),
            Move::ToEmpty => Some((u32::MAX, 0.0)),
        };
        if let Some((target, w_target)) = target {
            out.push(Proposal { node: v as u32, target, w_own: neigh[own], w_target });
        }
        for &c in touched.iter() {
            neigh[c as usize] = 0.0;
        }
        touched.clear();
    }
}

/// [`propose_into`] over all `candidates`, in parallel chunks of `chunk` candidates where the
/// `rayon` feature, the thread count and the number of candidates (at least two chunks) allow;
/// the result does not depend on the thread count or the chunk size.
fn propose(
    g: View<'_>,
    membership: &[u32],
    s: &mut MoveScratch,
    gamma: f64,
    candidates: &[u32],
    chunk: usize,
    out: &mut Vec<Proposal>,
) {
    out.clear();
    #[cfg(feature = "rayon")]
    if chunk > 0 && candidates.len() / 2 >= chunk && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        let (slots, sizes) = (&s.slots[..], &s.comm_size[..]);
        let parts: Vec<Vec<Proposal>> = candidates
            .par_chunks(chunk)
            .map(|chunk| {
                let mut part = Vec::new();
                GATHER.with(|cell| {
                    let mut buffers = cell.borrow_mut();
                    propose_into(g, membership, slots, sizes, gamma, chunk, &mut buffers, &mut part);
                });
                part
            })
            .collect();
        out.extend(parts.into_iter().flatten());
        return;
    }
    let _ = chunk; // only the parallel path uses it
    let mut buffers = (std::mem::take(&mut s.gather), std::mem::take(&mut s.touched));
    propose_into(g, membership, &s.slots, &s.comm_size, gamma, candidates, &mut buffers, out);
    (s.gather, s.touched) = buffers;
}

/// Local moving colour class by colour class, the parallel counterpart of [`move_nodes`] for
/// large levels. Returns whether any node moved and the quality gained.
///
/// Sweeps go over the classes in order. In a class, every active node (all of them in the first
/// sweep) finds its best move against the state at the start of the class; as no two nodes of
/// a class are adjacent, none of them changes the edge weights another sees, so these proposals
/// can be computed in parallel, each exactly. They are then applied one by one in node order,
/// each checked again against the community weights as they are by then (a node of the same
/// class may have joined or left the same community): a move that no longer improves the
/// quality is dropped and its node stays active. The neighbours of every node that moved
/// become active (those outside its new community, as in [`move_nodes`]); sweeps end when no
/// node is active. Every applied move raises the quality, and nothing depends on the number of
/// threads: the proposals are a function of the state, and everything that changes the state
/// runs in a fixed order.
fn move_nodes_coloured(
    g: View<'_>,
    colours: &Colouring,
    membership: &mut [u32],
    gamma: f64,
    s: &mut MoveScratch,
) -> (bool, f64) {
    move_nodes_coloured_in_chunks(g, colours, membership, gamma, s, PROPOSE_CHUNK)
}

/// [`move_nodes_coloured`] with proposals evaluated in parallel chunks of `chunk` candidates
/// (tests vary it to check that the result never depends on it).
fn move_nodes_coloured_in_chunks(
    g: View<'_>,
    colours: &Colouring,
    membership: &mut [u32],
    gamma: f64,
    s: &mut MoveScratch,
    chunk: usize,
) -> (bool, f64) {
    let n = g.node_count();
    if n == 0 {
        return (false, 0.0);
    }
    s.start(g, membership);
    s.in_queue.clear();
    s.in_queue.resize(n, true); // "active"
    let mut candidates = std::mem::take(&mut s.queue);
    let mut proposals = std::mem::take(&mut s.proposals);
    let mut budget = n.saturating_mul(VISITS_PER_NODE);
    let mut moved = false;
    let mut gained = 0.0f64;
    let mut any = true;
    while any && budget > 0 {
        any = false;
        for class in 0..colours.classes() {
            candidates.clear();
            for &v in colours.class(class) {
                if std::mem::replace(&mut s.in_queue[v as usize], false) {
                    candidates.push(v);
                }
            }
            if candidates.is_empty() {
                continue;
            }
            any = true;
            budget = budget.saturating_sub(candidates.len());
            propose(g, membership, s, gamma, &candidates, chunk, &mut proposals);
            // Reuse the candidate list for the nodes that move.
            candidates.clear();
            for p in &proposals {
                let v = p.node as usize;
                let own = membership[v] as usize;
                let a = g.node_weight[v];
                let own_empty = s.comm_size[own] == 1;
                let a_own = if own_empty { 0.0 } else { s.slots[own].weight - a };
                let (a_to, w_to) = if p.target == u32::MAX {
                    if own_empty {
                        continue; // alone already: an empty community is no change
                    }
                    (0.0, 0.0)
                } else {
                    (s.slots[p.target as usize].weight, p.w_target)
                };
                let Some(gain) = improvement(gamma, a, p.w_own, a_own, w_to, a_to) else {
                    s.in_queue[v] = true; // stale: look again in the next sweep
                    continue;
                };
                let target = if p.target == u32::MAX {
                    match s.empty.pop() {
                        Some(c) => c as usize,
                        None => continue,
                    }
                } else {
                    p.target as usize
                };
                s.comm_size[own] -= 1;
                s.slots[own].weight = a_own;
                if s.comm_size[own] == 0 {
                    s.empty.push(own as u32);
                }
                s.comm_size[target] += 1;
                s.slots[target].weight += a;
                membership[v] = target as u32;
                moved = true;
                gained += gain;
                candidates.push(v as u32);
            }
            // Wake the neighbours of the nodes that moved.
            for &v in &candidates {
                let target = membership[v as usize];
                let (targets, _) = g.row(v as usize);
                for &u in targets {
                    if membership[u as usize] != target {
                        s.in_queue[u as usize] = true;
                    }
                }
            }
        }
    }
    s.queue = candidates;
    s.proposals = proposals;
    (moved, gained)
}

/// Reusable buffers of the refinement of one community.
#[derive(Default)]
struct RefineScratch {
    cluster: Vec<u32>,
    weight: Vec<f64>,
    size: Vec<u32>,
    external: Vec<f64>,
    neigh: Vec<f64>,
    touched: Vec<u32>,
    order: Vec<u32>,
    candidates: Vec<(u32, f64)>,
}

/// Refinement: inside every community of `part` (`k` of them), merge singletons into
/// well-connected sub-communities. Returns the refined labels (`0..count`) and `count`.
fn refine(
    g: View<'_>,
    part: &[u32],
    k: usize,
    engine: &Engine,
    level_seed: u64,
    parallel: bool,
    ws: &mut Workspace,
) -> (Vec<u32>, usize) {
    let n = g.node_count();
    let Workspace { refine: scratch, start, members, position, local, remap, .. } = ws;
    start.clear();
    start.resize(k + 1, 0);
    for &c in part {
        start[c as usize + 1] += 1;
    }
    for c in 0..k {
        start[c + 1] += start[c];
    }
    // Bucket the nodes by community, counting down from each community's end.
    members.clear();
    members.resize(n, 0);
    position.clear();
    position.resize(n, 0);
    for (v, &c) in part.iter().enumerate().rev() {
        let c = c as usize;
        start[c + 1] -= 1;
        let slot = start[c + 1];
        members[slot] = v as u32;
        position[v] = slot as u32;
    }
    // `start[c + 1]` is now community `c`'s first slot; shift back to `start[c]`.
    start.rotate_left(1);
    start[k] = n;
    for v in 0..n {
        position[v] -= start[part[v] as usize] as u32;
    }
    local.clear();
    local.resize(n, 0);
    {
        let mut jobs: Vec<(usize, &mut [u32])> = Vec::with_capacity(k);
        let mut rest: &mut [u32] = local;
        for c in 0..k {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(start[c + 1] - start[c]);
            jobs.push((c, head));
            rest = tail;
        }
        let (members, position, start) = (&*members, &*position, &*start);
        map_with(jobs, parallel, scratch, RefineScratch::default, |s, (c, out)| {
            refine_community(
                g,
                part,
                &members[start[c]..start[c + 1]],
                position,
                c as u32,
                engine,
                derive_seed(level_seed, c as u64),
                s,
                out,
            );
        });
    }
    // Global ids: a refined cluster is named by its community's start plus its local id, then
    // renumbered densely in member order.
    let mut refined = vec![0u32; n];
    remap.clear();
    remap.resize(n, u32::MAX);
    let mut count = 0u32;
    for c in 0..k {
        for p in start[c]..start[c + 1] {
            let key = start[c] + local[p] as usize;
            if remap[key] == u32::MAX {
                remap[key] = count;
                count += 1;
            }
            refined[members[p] as usize] = remap[key];
        }
    }
    (refined, count as usize)
}

/// Refines one community (`members`, labelled `comm` in `part`); writes each member's local
/// sub-community id into `out`.
#[allow(clippy::too_many_arguments)]
fn refine_community(
    g: View<'_>,
    part: &[u32],
    members: &[u32],
    position: &[u32],
    comm: u32,
    engine: &Engine,
    seed: u64,
    s: &mut RefineScratch,
    out: &mut [u32],
) {
    let size = members.len();
    if size <= 1 {
        out.fill(0);
        return;
    }
    let gamma = engine.gamma;
    s.cluster.clear();
    s.cluster.extend(0..size as u32);
    s.weight.clear();
    s.weight.extend(members.iter().map(|&v| g.node_weight[v as usize]));
    s.size.clear();
    s.size.resize(size, 1);
    // Weight from each node to the rest of the community, computed when first needed (NaN until
    // then): a visited singleton gets it from its own gather pass, a candidate by a scan.
    s.external.clear();
    s.external.resize(size, f64::NAN);
    if s.neigh.len() < size {
        s.neigh.resize(size, 0.0);
    }
    let total: f64 = s.weight.iter().sum();
    let mut rng = Rng::new(seed);
    s.order.clear();
    s.order.extend(0..size as u32);
    rng.shuffle(&mut s.order);
    for idx in 0..size {
        let i = s.order[idx] as usize;
        let own = s.cluster[i] as usize;
        if s.size[own] != 1 {
            continue;
        }
        let a = s.weight[own];
        let known = s.external[own];
        if !known.is_nan() && known < gamma * a * (total - a) {
            continue;
        }
        let (targets, weights) = g.row(members[i] as usize);
        let mut external_i = 0.0;
        for (&u, &w) in targets.iter().zip(weights) {
            if part[u as usize] != comm {
                continue;
            }
            external_i += w;
            let c = s.cluster[position[u as usize] as usize] as usize;
            if s.neigh[c] == 0.0 {
                s.touched.push(c as u32);
            }
            s.neigh[c] += w;
        }
        if known.is_nan() {
            s.external[own] = external_i;
            if external_i < gamma * a * (total - a) {
                for &c in &s.touched {
                    s.neigh[c as usize] = 0.0;
                }
                s.touched.clear();
                continue;
            }
        } else {
            external_i = known;
        }
        for &c in &s.touched {
            let c = c as usize;
            if s.external[c].is_nan() {
                // A singleton cluster not visited yet: its only member is node `c`.
                s.external[c] = internal_weight(g, part, comm, members[c]);
            }
        }
        s.weight[own] = 0.0;
        s.size[own] = 0;
        s.external[own] = 0.0;
        s.candidates.clear();
        s.candidates.push((own as u32, 0.0));
        let mut max_gain = 0.0f64;
        let mut best = own;
        for &c in &s.touched {
            let cu = c as usize;
            let wc = s.weight[cu];
            if cu == own || s.external[cu] < gamma * wc * (total - wc) {
                continue;
            }
            let gain = s.neigh[cu] - gamma * a * wc;
            if gain >= 0.0 {
                s.candidates.push((c, gain));
                if gain > max_gain {
                    max_gain = gain;
                    best = cu;
                }
            }
        }
        let chosen = if s.candidates.len() == 1 || engine.theta <= 0.0 {
            best
        } else {
            let mut cumulative = 0.0;
            for cand in s.candidates.iter_mut() {
                let x = (cand.1 - max_gain) / engine.theta;
                if x > -45.0 {
                    cumulative += x.exp();
                }
                cand.1 = cumulative;
            }
            let r = rng.unit() * cumulative;
            s.candidates.iter().find(|cand| cand.1 > r).map_or(best, |cand| cand.0 as usize)
        };
        let w_chosen = s.neigh[chosen];
        s.cluster[i] = chosen as u32;
        s.weight[chosen] += a;
        s.size[chosen] += 1;
        s.external[chosen] += external_i - 2.0 * w_chosen;
        for &c in &s.touched {
            s.neigh[c as usize] = 0.0;
        }
        s.touched.clear();
    }
    out.copy_from_slice(&s.cluster[..size]);
}

/// The weight from node `v` to the other nodes of community `comm`.
fn internal_weight(g: View<'_>, part: &[u32], comm: u32, v: u32) -> f64 {
    let (targets, weights) = g.row(v as usize);
    targets.iter().zip(weights).filter(|&(&u, _)| part[u as usize] == comm).map(|(_, &w)| w).sum()
}

/// Builds the aggregate graph of `g` under `refined` (`count` clusters): one node per cluster,
/// edges between clusters summed, internal edges dropped (they never change a gain).
fn aggregate(g: View<'_>, refined: &[u32], count: usize, parallel: bool, ws: &mut Workspace) -> Level {
    let n = g.node_count();
    let Workspace { aggregate: scratch, start, members, .. } = ws;
    start.clear();
    start.resize(count + 1, 0);
    for &c in refined {
        start[c as usize + 1] += 1;
    }
    for c in 0..count {
        start[c + 1] += start[c];
    }
    members.clear();
    members.resize(n, 0);
    let mut node_weight = vec![0.0f64; count];
    for (v, &c) in refined.iter().enumerate().rev() {
        let c = c as usize;
        start[c + 1] -= 1;
        members[start[c + 1]] = v as u32;
    }
    start.rotate_left(1);
    start[count] = n;
    for (v, &c) in refined.iter().enumerate() {
        node_weight[c as usize] += g.node_weight[v];
    }
    // Cut the clusters into ranges of similar edge volume.
    let pieces = if parallel { worker_count() * 8 } else { 1 };
    let volume = g.targets.len().max(1);
    let per_piece = volume.div_ceil(pieces);
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(pieces + 1);
    let mut from = 0usize;
    let mut acc = 0usize;
    for c in 0..count {
        for &v in &members[start[c]..start[c + 1]] {
            acc += g.offsets[v as usize + 1] - g.offsets[v as usize];
        }
        if acc >= per_piece {
            ranges.push((from, c + 1));
            from = c + 1;
            acc = 0;
        }
    }
    if from < count || ranges.is_empty() {
        ranges.push((from, count));
    }
    let (members, start) = (&*members, &*start);
    let mut parts = map_with(
        ranges,
        parallel,
        scratch,
        || (Vec::<f64>::new(), Vec::<u32>::new()),
        |(neigh, touched), (lo, hi)| {
            if neigh.len() < count {
                neigh.resize(count, 0.0);
            }
            let mut targets: Vec<u32> = Vec::new();
            let mut weights: Vec<f64> = Vec::new();
            let mut ends: Vec<usize> = Vec::with_capacity(hi - lo);
            for c in lo..hi {
                for &v in &members[start[c]..start[c + 1]] {
                    let (ts, ws) = g.row(v as usize);
                    for (&u, &w) in ts.iter().zip(ws) {
                        let d = refined[u as usize] as usize;
                        if d == c {
                            continue;
                        }
                        if neigh[d] == 0.0 {
                            touched.push(d as u32);
                        }
                        neigh[d] += w;
                    }
                }
                for &d in touched.iter() {
                    targets.push(d);
                    weights.push(neigh[d as usize]);
                    neigh[d as usize] = 0.0;
                }
                touched.clear();
                ends.push(targets.len());
            }
            (targets, weights, ends)
        },
    );
    if parts.len() == 1 {
        if let Some((targets, weights, ends)) = parts.pop() {
            let mut offsets = Vec::with_capacity(count + 1);
            offsets.push(0usize);
            offsets.extend_from_slice(&ends);
            return Level { offsets, targets, weights, node_weight };
        }
    }
    let total: usize = parts.iter().map(|p| p.0.len()).sum();
    let mut offsets = Vec::with_capacity(count + 1);
    offsets.push(0usize);
    let mut targets = Vec::with_capacity(total);
    let mut weights = Vec::with_capacity(total);
    for (t, w, ends) in parts {
        let base = targets.len();
        offsets.extend(ends.iter().map(|&e| base + e));
        targets.extend_from_slice(&t);
        weights.extend_from_slice(&w);
    }
    Level { offsets, targets, weights, node_weight }
}

/// Splits every community that is not connected into its connected parts (relabelling all
/// communities `0..k` in node order). Returns whether any community was split.
fn split_disconnected(g: View<'_>, membership: &mut [u32]) -> bool {
    let n = g.node_count();
    let before = membership.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut label = vec![u32::MAX; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next = 0u32;
    for root in 0..n {
        if label[root] != u32::MAX {
            continue;
        }
        let c = membership[root];
        label[root] = next;
        stack.push(root as u32);
        while let Some(v) = stack.pop() {
            let (targets, _) = g.row(v as usize);
            for &u in targets {
                let u = u as usize;
                if label[u] == u32::MAX && membership[u] == c {
                    label[u] = next;
                    stack.push(u as u32);
                }
            }
        }
        next += 1;
    }
    membership.copy_from_slice(&label);
    next as usize > before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leiden::{GraphError, Leiden, WeightedGraph};

    /// A planted-partition graph big enough to take the parallel paths.
    #[cfg(feature = "rayon")]
    fn planted(n: usize, groups: usize, seed: u64) -> Result<WeightedGraph, GraphError> {
        let mut rng = Rng::new(seed);
        let mut edges = Vec::new();
        for v in 0..n {
            for _ in 0..6 {
                let same = rng.unit() < 0.8;
                let u = if same {
                    let g = v % groups;
                    let k = rng.below(n / groups);
                    (k * groups + g).min(n - 1)
                } else {
                    rng.below(n)
                };
                edges.push((v as u32, u as u32, 1.0 + rng.unit()));
            }
        }
        WeightedGraph::from_edges(n, edges)
    }

    #[test]
    fn rng_is_stable() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        let x = rng.unit();
        assert!((0.0..1.0).contains(&x));
    }

    #[cfg(feature = "rayon")]
    #[test]
    fn thread_count_does_not_change_results() -> Result<(), Box<dyn std::error::Error>> {
        // One big component plus many small ones.
        let big = planted(20_000, 40, 5)?;
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for v in 0..big.node_count() as u32 {
            for (u, w) in big.neighbors(v) {
                if u > v {
                    edges.push((v, u, w));
                }
            }
        }
        let offset = big.node_count() as u32;
        for i in 0..300u32 {
            let b = offset + 5 * i;
            edges.extend([(b, b + 1, 1.0), (b + 1, b + 2, 1.0), (b + 2, b + 3, 2.0), (b + 3, b + 4, 1.0)]);
        }
        let graph = WeightedGraph::from_edges(offset as usize + 1500, edges)?;
        let leiden = Leiden::new().seed(11);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?.install(|| leiden.run(&graph));
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build()?.install(|| leiden.run(&graph));
        assert_eq!(one, four);
        assert!(one.quality() > 0.5);
        Ok(())
    }

    /// The whole graph as a level with modularity node weights; returns the level and
    /// `gamma` for resolution 1.
    fn whole_level(graph: &WeightedGraph) -> (Level, f64) {
        let level = Level {
            offsets: graph.offsets.clone(),
            targets: graph.targets.clone(),
            weights: graph.weights.clone(),
            node_weight: graph.strengths.clone(),
        };
        let m = graph.total_weight();
        (level, if m > 0.0 { 1.0 / (2.0 * m) } else { 0.0 })
    }

    /// The engine's objective `Σ_c [e_c − gamma/2 · A_c²]` (self loops left out: constant).
    fn objective(g: View<'_>, membership: &[u32], gamma: f64) -> f64 {
        let n = g.node_count();
        let mut internal = vec![0.0; n];
        let mut weight = vec![0.0; n];
        for v in 0..n {
            let c = membership[v] as usize;
            weight[c] += g.node_weight[v];
            let (targets, weights) = g.row(v);
            for (&u, &w) in targets.iter().zip(weights) {
                if membership[u as usize] as usize == c {
                    internal[c] += w / 2.0;
                }
            }
        }
        internal.iter().zip(&weight).map(|(e, a)| e - gamma / 2.0 * a * a).sum()
    }

    /// The largest objective gain of moving one node to a neighbour's community or an empty
    /// one.
    fn best_single_move(g: View<'_>, membership: &[u32], gamma: f64) -> f64 {
        let base = objective(g, membership, gamma);
        let n = g.node_count();
        let mut best = f64::NEG_INFINITY;
        let mut trial = membership.to_vec();
        let used: std::collections::BTreeSet<u32> = membership.iter().copied().collect();
        let fresh = (0..n as u32).find(|c| !used.contains(c));
        for v in 0..n {
            let (targets, _) = g.row(v);
            let mut options: Vec<u32> = targets.iter().map(|&u| membership[u as usize]).collect();
            options.extend(fresh);
            for c in options {
                if c != membership[v] {
                    trial[v] = c;
                    best = best.max(objective(g, &trial, gamma) - base);
                    trial[v] = membership[v];
                }
            }
        }
        best
    }

    fn arb_graph() -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>, Vec<u32>)> {
        (2usize..=48).prop_flat_map(|n| {
            let edge = (0..n as u32, 0..n as u32, prop_oneof![Just(1.0), 0.05f64..5.0]);
            (Just(n), proptest::collection::vec(edge, 0..=(4 * n)), proptest::collection::vec(0..n as u32, n))
        })
    }

    use proptest::prelude::{
        Just, ProptestConfig, Strategy, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Colour-class moving against the queue: both report exactly the quality they gain,
        /// never lose quality, and the colouring is proper.
        #[test]
        fn coloured_moving_is_exact_and_monotone_like_queue_moving(
            (n, edges, start) in arb_graph(),
            resolution in prop_oneof![Just(0.5), Just(1.0), Just(2.0)],
            seed in any::<u64>(),
        ) {
            let graph = WeightedGraph::from_edges(n, edges)?;
            let (level, gamma) = whole_level(&graph);
            let gamma = gamma * resolution;
            let g = level.view();
            let colours = Colouring::new(g);
            prop_assert_eq!(colours.nodes.len(), n);
            let mut colour = vec![usize::MAX; n];
            for c in 0..colours.classes() {
                for &v in colours.class(c) {
                    prop_assert_eq!(colour[v as usize], usize::MAX);
                    colour[v as usize] = c;
                }
            }
            for v in 0..n {
                let (targets, _) = g.row(v);
                prop_assert!(targets.iter().all(|&u| colour[u as usize] != colour[v]));
            }
            let before = objective(g, &start, gamma);
            let scale = graph.total_weight().max(1.0);
            let mut scratch = MoveScratch::default();
            let mut coloured = start.clone();
            let (moved_c, gain_c) = move_nodes_coloured(g, &colours, &mut coloured, gamma, &mut scratch);
            let mut queued = start.clone();
            let (moved_q, gain_q) = move_nodes(g, &mut queued, gamma, &mut Rng::new(seed), &mut scratch);
            for (membership, moved, gain) in [(&coloured, moved_c, gain_c), (&queued, moved_q, gain_q)] {
                prop_assert!(membership.iter().all(|&c| (c as usize) < n));
                let after = objective(g, membership, gamma);
                prop_assert!((after - before - gain).abs() <= 1e-9 * scale, "{} vs {}", after - before, gain);
                prop_assert!(gain >= 0.0);
                prop_assert_eq!(moved, membership != &start);
            }
            // A pass that moves nothing leaves no improving single move.
            let mut again = coloured.clone();
            let (moved, _) = move_nodes_coloured(g, &colours, &mut again, gamma, &mut scratch);
            if !moved {
                prop_assert!(best_single_move(g, &coloured, gamma) <= 1e-9 * scale);
            }
        }

        /// The parallel evaluation of proposals against the sequential one (the naive reference):
        /// whatever the chunk size and the thread count, colour-class moving gives the same
        /// membership and the same gain, to the bit.
        #[cfg(feature = "rayon")]
        #[test]
        fn coloured_moving_in_parallel_equals_sequential(
            (n, edges, start) in arb_graph(),
            resolution in prop_oneof![Just(0.5), Just(1.0), Just(2.0)],
            chunk in 1usize..=4,
        ) {
            let graph = WeightedGraph::from_edges(n, edges)?;
            let (level, gamma) = whole_level(&graph);
            let gamma = gamma * resolution;
            let g = level.view();
            let colours = Colouring::new(g);
            let run = |threads: usize, chunk: usize| -> Result<(Vec<u32>, bool, u64), proptest::test_runner::TestCaseError> {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                let mut membership = start.clone();
                let mut scratch = MoveScratch::default();
                let (moved, gain) = pool.install(|| {
                    move_nodes_coloured_in_chunks(g, &colours, &mut membership, gamma, &mut scratch, chunk)
                });
                Ok((membership, moved, gain.to_bits()))
            };
            let sequential = run(1, usize::MAX)?;
            prop_assert_eq!(&run(3, chunk)?, &sequential);
            prop_assert_eq!(&run(2, chunk)?, &sequential);
            prop_assert_eq!(&run(1, chunk)?, &sequential);
        }

        /// Whole runs with every level moved colour class by colour class and with none: both
        /// give connected, node-optimal partitions, never below their first iteration.
        #[test]
        fn coloured_and_queue_runs_are_both_valid(
            (n, edges, _) in arb_graph(),
            quality in prop_oneof![Just(crate::leiden::Quality::Modularity), Just(crate::leiden::Quality::Cpm)],
            resolution in prop_oneof![Just(0.05), Just(0.5), Just(1.0)],
            seed in any::<u64>(),
        ) {
            let graph = WeightedGraph::from_edges(n, edges)?;
            let leiden = Leiden::new().quality(quality).resolution(resolution).seed(seed);
            for coloured_min in [0, usize::MAX] {
                let full = leiden.solve_with(&graph, None, coloured_min);
                let first = leiden.clone().max_iterations(1).solve_with(&graph, None, coloured_min);
                let scale = full.quality().abs().max(1.0);
                prop_assert!(full.quality() >= first.quality() - 1e-12 * scale);
                let mut labels = full.membership().to_vec();
                let level = Level {
                    offsets: graph.offsets.clone(),
                    targets: graph.targets.clone(),
                    weights: graph.weights.clone(),
                    node_weight: vec![0.0; n],
                };
                prop_assert!(!split_disconnected(level.view(), &mut labels), "a community is disconnected");
                let membership = full.membership();
                let here = crate::leiden::quality(&graph, membership, quality, resolution);
                let mut trial = membership.to_vec();
                for v in 0..n {
                    let options: Vec<u32> =
                        graph.neighbors(v as u32).map(|(u, _)| membership[u as usize]).chain([n as u32]).collect();
                    for c in options {
                        trial[v] = c;
                        let gain = crate::leiden::quality(&graph, &trial, quality, resolution) - here;
                        prop_assert!(gain <= 1e-9 * scale, "moving {} to {} gains {}", v, c, gain);
                    }
                    trial[v] = membership[v];
                }
            }
        }
    }

    /// A ring of cliques: both ways of moving find the cliques.
    #[test]
    fn coloured_and_queue_runs_find_a_ring_of_cliques() -> Result<(), GraphError> {
        let (count, size) = (30u32, 6u32);
        let mut edges = Vec::new();
        for c in 0..count {
            let base = c * size;
            for i in 0..size {
                for j in i + 1..size {
                    edges.push((base + i, base + j, 1.0));
                }
            }
            edges.push((base + size - 1, ((c + 1) % count) * size, 1.0));
        }
        let graph = WeightedGraph::from_edges((count * size) as usize, edges)?;
        let expected: Vec<u32> = (0..count * size).map(|v| v / size).collect();
        for coloured_min in [0, usize::MAX] {
            let partition = Leiden::new().seed(3).solve_with(&graph, None, coloured_min);
            assert_eq!(partition.membership(), &expected[..]);
        }
        Ok(())
    }

    #[test]
    fn split_disconnected_splits() {
        let level = Level {
            offsets: vec![0, 1, 2, 2],
            targets: vec![1, 0],
            weights: vec![1.0, 1.0],
            node_weight: vec![1.0, 1.0, 0.0],
        };
        let mut membership = vec![0, 0, 0];
        assert!(split_disconnected(level.view(), &mut membership));
        assert_eq!(membership, vec![0, 0, 1]);
        assert!(!split_disconnected(level.view(), &mut membership));
    }
}
