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
/// Levels with at least this many nodes refine and aggregate in parallel.
#[cfg(feature = "rayon")]
const PARALLEL_MIN_NODES: usize = 16_384;

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
        optimise(level, &mut local, engine, &mut rng, workspace);
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

/// Runs Leiden iterations on one connected graph until stable (or the cap), then guarantees
/// connected communities. `membership` holds labels below the node count.
///
/// After the first iteration a large graph is relabelled so that every community's nodes are
/// contiguous (keeping their order): later iterations then mostly touch nearby memory.
fn optimise(mut level: Level, membership: &mut [u32], engine: &Engine, rng: &mut Rng, ws: &mut Workspace) {
    let mut order: Option<Vec<u32>> = None; // order[new id] = original id
    let mut current = membership.to_vec();
    let mut iteration = 0u32;
    loop {
        iteration += 1;
        let changed = iterate(level.view(), &mut current, engine, rng, ws);
        let capped = iteration >= engine.max_iterations;
        if !changed || capped {
            let split = split_disconnected(level.view(), &mut current);
            if !split || capped {
                break;
            }
        } else if order.is_none() && level.node_count() >= RELABEL_MIN_NODES {
            let (relabelled, perm) = relabel_by_community(level.view(), &current);
            current = perm.iter().map(|&old| current[old as usize]).collect();
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

/// One Leiden iteration (all levels); returns whether any node moved.
fn iterate(g0: View<'_>, membership: &mut [u32], engine: &Engine, rng: &mut Rng, ws: &mut Workspace) -> bool {
    let mut changed = false;
    let mut part: Vec<u32> = membership.to_vec();
    let mut node_map: Option<Vec<u32>> = None;
    let mut level: Option<Level> = None;
    loop {
        let g = match &level {
            Some(l) => l.view(),
            None => g0,
        };
        let n = g.node_count();
        changed |= move_nodes(g, &mut part, engine.gamma, rng, &mut ws.moves);
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
    changed
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
}

/// Fast local moving: visit nodes from a queue, move each to its best community, requeue the
/// neighbours that may now want to follow. Returns whether any node moved.
fn move_nodes(g: View<'_>, membership: &mut [u32], gamma: f64, rng: &mut Rng, s: &mut MoveScratch) -> bool {
    let n = g.node_count();
    if n == 0 {
        return false;
    }
    s.slots.clear();
    s.slots.resize(n, Slot::default());
    s.comm_size.clear();
    s.comm_size.resize(n, 0);
    for (&c, &a) in membership.iter().zip(g.node_weight) {
        s.slots[c as usize].weight += a;
        s.comm_size[c as usize] += 1;
    }
    s.empty.clear();
    s.empty.extend((0..n as u32).rev().filter(|&c| s.comm_size[c as usize] == 0));
    s.queue.clear();
    s.queue.extend(0..n as u32);
    rng.shuffle(&mut s.queue);
    s.in_queue.clear();
    s.in_queue.resize(n, true);
    s.touched.clear();
    if parallel_level(n) && is_stable(g, membership, &s.slots, &s.comm_size, gamma) {
        // No node can improve, so the pass below would move nothing: skip it.
        return false;
    }

    let mut head = 0usize;
    let mut len = n;
    let mut budget = n.saturating_mul(VISITS_PER_NODE);
    let mut moved = false;
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
        let choice =
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
    moved
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
/// `neigh` and `weight` must already reflect the node's removal from `own`.
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
) -> Move {
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
        return Move::Stay;
    }
    let (w_best, a_best, gain) =
        if to_empty { (0.0, 0.0, 0.0) } else { (neigh(best), weight(best), best_gain) };
    let scale = w_own + w_best + gamma * a * (a_own.abs() + a_best.abs());
    if gain - own_gain > MOVE_TOLERANCE * scale {
        if to_empty { Move::ToEmpty } else { Move::To(best) }
    } else {
        Move::Stay
    }
}

/// Whether no node has an improving move (decided exactly as [`move_nodes`] would), checked in
/// parallel: late iterations mostly find large levels already stable.
#[cfg(feature = "rayon")]
fn is_stable(g: View<'_>, membership: &[u32], slots: &[Slot], sizes: &[u32], gamma: f64) -> bool {
    use rayon::prelude::*;
    let n = g.node_count();
    let pieces = worker_count() * 4;
    let step = n.div_ceil(pieces).max(1);
    (0..n.div_ceil(step)).into_par_iter().all(|piece| {
        let mut neigh = vec![0.0f64; n];
        let mut touched: Vec<u32> = Vec::new();
        for v in piece * step..((piece + 1) * step).min(n) {
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
            let choice = choose_move(
                own,
                a,
                gamma,
                own_empty,
                &touched,
                |c| neigh[c],
                |c| {
                    if c == own { own_weight } else { slots[c].weight }
                },
            );
            for &c in &touched {
                neigh[c as usize] = 0.0;
            }
            touched.clear();
            if choice != Move::Stay {
                return false;
            }
        }
        true
    })
}

#[cfg(not(feature = "rayon"))]
fn is_stable(_: View<'_>, _: &[u32], _: &[Slot], _: &[u32], _: f64) -> bool {
    false
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
