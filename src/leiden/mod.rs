//! Leiden community detection (Traag, Waltman & van Eck 2019) on weighted undirected graphs.
//!
//! This module owns sellerlink's general community engine: a compact graph type
//! ([`WeightedGraph`]), the Leiden optimiser ([`Leiden`]) and the quality functions it maximises
//! ([`Quality`]: modularity with a resolution γ, or the Constant Potts Model). It knows nothing
//! about storefronts or evidence; the sellerlink pipeline calls it once per linked component of
//! the evidence graph, and anyone can call it on any graph.
//!
//! # Algorithm
//!
//! The graph is first split into connected components, because a community spanning two
//! components is never better than its parts; each component is solved on its own (in parallel
//! with the `rayon` feature), modularity always using the *global* total weight `m`. Components
//! of one or two nodes are decided directly. On a larger component every iteration of Leiden runs,
//! level after level:
//!
//! 1. **fast local moving**: nodes are visited from a queue (first in a random order); a node moves
//!    to the neighbouring (or an empty) community with the largest quality gain, and its
//!    neighbours outside that community are queued again. Levels of 16 384 nodes or more move
//!    **colour class by colour class** instead: a greedy colouring (no two neighbours share a
//!    colour) splits the nodes into classes; the active nodes of a class find their best moves
//!    against the same state (in parallel with the `rayon` feature: as no two of them are
//!    neighbours, each computes its gains exactly), and the moves are then applied one by one in
//!    node order, each checked again against the community weights as they are by then (a move
//!    that no longer improves is dropped and its node stays active). Neighbours of moved nodes
//!    become active; sweeps over the classes end when none is. Every applied move improves the
//!    quality, and this path is taken by level size alone, never by the thread count;
//! 2. **refinement**: inside every community, singletons are merged into well-connected
//!    sub-communities, each merge drawn at random among the non-negative gains with probability
//!    ∝ `exp(gain / θ)` (θ = [`Leiden::randomness`], 0.01 by default, as in leidenalg), so every
//!    sub-community is connected;
//! 3. **aggregation**: the refined sub-communities become the nodes of the next level, which starts
//!    from the (non-refined) communities of the level below.
//!
//! The level loop stops when every node of a level is its own community (if refinement merges
//! nothing, the level is aggregated by its communities instead, as igraph does). Iterations repeat
//! until one changes nothing, or gains less than the [tolerance](Leiden::tolerance) (by default
//! [`DEFAULT_TOLERANCE`] of the component's edge weight, 10⁻⁴ in modularity), or
//! [`Leiden::max_iterations`] is reached. A run stopped by the tolerance ends with local-moving
//! passes on the nodes themselves until one moves nothing. A last check splits any community that
//! is not connected, so **every returned community induces a connected subgraph**, and (unless
//! the iteration cap cut the run short) no single node can move to a neighbouring or empty
//! community and improve the quality by more than rounding noise (a move must gain more than
//! 1e-13 of the magnitudes involved).
//!
//! Engineering: flat arrays only (compressed sparse rows, dense per-community slots with a
//! touched list, no hashing in any loop); every component is copied in breadth-first order and,
//! once the first iteration has found communities, relabelled community by community, so later
//! iterations touch mostly nearby memory; with the `rayon` feature, the move proposals of a colour
//! class, refinement (one task per community), aggregation and the sorting of
//! [`WeightedGraph::from_edges`]'s rows run in parallel.
//!
//! # Complexity and memory
//!
//! One iteration costs `O(m)` expected time over all levels (each level is at most as large as
//! the one below and usually far smaller); the default tolerance typically stops after a few
//! iterations, while iterating until stable (tolerance 0) takes a few to a few dozen, most
//! of them cheap. The colouring of a large level costs `O(m)` once per component (it is kept
//! across iterations) and once per aggregate level of 16 384 nodes or more. The graph stores each undirected edge twice in compressed
//! sparse rows, a `u32` target and an `f64` weight: **24 bytes per edge** plus 24 bytes per node.
//! A run works on a copy of every component of three or more nodes (another 24 bytes per edge;
//! briefly 48 while the copy is relabelled by community), about 80 bytes per node of working
//! memory, and the aggregate levels, each at most the size of the level below and usually a
//! fraction of it: in all about 60–80 bytes per edge at the peak, graph included.
//!
//! # Determinism
//!
//! A run is a pure function of the graph, the settings and the seed: the same inputs give the
//! same [`Partition`] on every machine and for every thread count. Randomness comes from a
//! hand-written SplitMix64 generator; each component's stream is derived from the seed and the
//! component's smallest node id, and each refined community's stream from its level's seed and the
//! community index; parallel work only computes values that are then applied in a fixed order, so
//! scheduling never changes a result (tested on 1, 2 and 3 threads). Communities are numbered `0..k` in the
//! order of their smallest node id.
//!
//! # Examples
//!
//! ```
//! use sellerlink::leiden::{Leiden, WeightedGraph};
//!
//! // Two triangles joined by one edge.
//! let edges = [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0), (2, 3, 1.0)];
//! let graph = WeightedGraph::from_edges(6, edges)?;
//! let partition = Leiden::new().seed(7).run(&graph);
//! assert_eq!(partition.membership(), &[0, 0, 0, 1, 1, 1]);
//! assert!(partition.quality() > 0.35);
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod optimise;

use std::fmt;

use crate::cluster::{compact_labels, renumber};
use optimise::{COLOURED_MIN_NODES, Engine, HARD_ITERATION_CAP, solve_components};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The largest total edge weight a [`WeightedGraph`] accepts: the quality functions sum
/// squared node strengths, which overflow to infinity not far above this.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{GraphError, MAX_TOTAL_WEIGHT, WeightedGraph};
/// let err = WeightedGraph::from_edges(3, [(0, 1, MAX_TOTAL_WEIGHT), (1, 2, MAX_TOTAL_WEIGHT)]).err();
/// assert_eq!(err, Some(GraphError::TotalWeightTooLarge));
/// ```
pub const MAX_TOTAL_WEIGHT: f64 = 1e150;

/// Why a graph or an initial membership was rejected.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{GraphError, WeightedGraph};
///
/// let err = WeightedGraph::from_edges(2, [(0, 5, 1.0)]).err();
/// assert!(matches!(err, Some(GraphError::NodeOutOfRange { node: 5, .. })));
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum GraphError {
    /// An edge names a node id that is not below the node count.
    NodeOutOfRange {
        /// The offending node id.
        node: u32,
        /// The graph's node count.
        node_count: usize,
    },
    /// An edge weight is NaN, infinite or negative.
    BadWeight {
        /// The edge's first endpoint.
        source: u32,
        /// The edge's second endpoint.
        target: u32,
        /// The rejected weight.
        weight: f64,
    },
    /// The node count does not fit `u32` node ids.
    TooManyNodes,
    /// A resolution that is NaN, negative or infinite (see [`Leiden::check`]).
    BadResolution {
        /// The resolution given.
        resolution: f64,
    },
    /// The edge weights sum past [`MAX_TOTAL_WEIGHT`], where the quality's sums of squared
    /// strengths would overflow to infinity.
    TotalWeightTooLarge,
    /// An initial membership does not have one entry per node.
    MembershipLength {
        /// The graph's node count.
        expected: usize,
        /// The membership's length.
        found: usize,
    },
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NodeOutOfRange { node, node_count } => {
                write!(f, "node {node} is out of range for a graph of {node_count} nodes")
            }
            Self::BadResolution { resolution } => {
                let why = if resolution.is_nan() {
                    "NaN"
                } else if *resolution < 0.0 {
                    "negative"
                } else {
                    "infinite"
                };
                write!(f, "resolution {why}: expected a finite number of at least 0")
            }
            Self::TotalWeightTooLarge => {
                write!(f, "the edge weights sum past {MAX_TOTAL_WEIGHT:e}; scale them down")
            }
            Self::BadWeight { source, target, weight } => write!(
                f,
                "edge ({source}, {target}) has weight {weight}; weights must be finite and non-negative"
            ),
            Self::TooManyNodes => write!(f, "too many nodes: node ids must fit in u32"),
            Self::MembershipLength { expected, found } => {
                write!(f, "initial membership has {found} entries but the graph has {expected} nodes")
            }
        }
    }
}

impl std::error::Error for GraphError {}

// ---------------------------------------------------------------------------------------------
// Graph
// ---------------------------------------------------------------------------------------------

/// An undirected weighted graph in compressed sparse rows, ready for [`Leiden`].
///
/// Every undirected edge is stored in both endpoints' rows; parallel edges are summed and
/// zero-weight edges dropped. Self loops are kept apart (they count twice in a node's
/// [`strength`](Self::strength), as modularity requires, and are not listed by
/// [`neighbors`](Self::neighbors)).
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::WeightedGraph;
///
/// let graph = WeightedGraph::from_edges(3, [(0, 1, 2.0), (1, 0, 1.0), (2, 2, 0.5)])?;
/// assert_eq!(graph.edge_count(), 2); // {0,1} (weights summed) and the loop at 2
/// assert_eq!(graph.total_weight(), 3.5);
/// assert_eq!(graph.strength(2), 1.0);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct WeightedGraph {
    /// Row starts, `node_count + 1` entries.
    offsets: Vec<usize>,
    /// Neighbour ids, sorted within each row, no self loops.
    targets: Vec<u32>,
    /// Edge weights aligned with `targets`.
    weights: Vec<f64>,
    /// Self-loop weight per node.
    self_loops: Vec<f64>,
    /// Weighted degree per node (self loops twice).
    strengths: Vec<f64>,
    /// Undirected edges including self loops.
    edge_count: usize,
    /// Sum of undirected edge weights (self loops once): `m`.
    total_weight: f64,
}

/// Rows of at least this many entries in all are filled and sorted in parallel (with the
/// `rayon` feature and more than one thread) by [`build_rows`].
#[cfg(feature = "rayon")]
const PARALLEL_SORT_MIN_ENTRIES: usize = 1 << 16;

/// How many ranges [`build_rows`] should cut `total` entries into: one per thread (each range
/// reads the whole edge list).
fn sort_pieces(total: usize) -> usize {
    #[cfg(feature = "rayon")]
    if total >= PARALLEL_SORT_MIN_ENTRIES && rayon::current_num_threads() > 1 {
        return rayon::current_num_threads();
    }
    let _ = total;
    1
}

/// The rows of the graph: every edge `(s, t, w)` of `list` is entered in row `s` and in row `t`
/// (rows `counts[v]..counts[v + 1]`, each in edge order), then every row is sorted by target
/// and its duplicates merged (weights summed), compacting the rows; returns the targets, the
/// weights and the compacted offsets.
///
/// Rows are filled and sorted in about `pieces` ranges of similar volume, in parallel when there
/// are several (with the `rayon` feature): each range scans the whole list for its own rows, so
/// every row receives its entries in edge order and is sorted exactly as a sequential pass
/// would sort it; the result depends neither on `pieces` nor on the number of threads.
fn build_rows(counts: &[usize], list: &[(u32, u32, f64)], pieces: usize) -> (Vec<u32>, Vec<f64>, Vec<usize>) {
    let n = counts.len() - 1;
    let total = counts[n];
    let mut targets = vec![0u32; total];
    let mut weights = vec![0.0f64; total];
    // Row ranges of about `total / pieces` entries each.
    let mut bounds = vec![0usize];
    let per_piece = total.div_ceil(pieces.max(1)).max(1);
    for v in 0..n {
        if counts[v + 1] - counts[*bounds.last().unwrap_or(&0)] >= per_piece {
            bounds.push(v + 1);
        }
    }
    if bounds.last() != Some(&n) {
        bounds.push(n);
    }
    let mut lengths = vec![0usize; n];
    type Job<'a> = (usize, &'a [usize], &'a mut [u32], &'a mut [f64], &'a mut [usize]);
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(bounds.len());
    {
        let (mut t_rest, mut w_rest, mut l_rest) = (&mut targets[..], &mut weights[..], &mut lengths[..]);
        for pair in bounds.windows(2) {
            let (lo, hi) = (pair[0], pair[1]);
            let size = counts[hi] - counts[lo];
            let (t, t_tail) = std::mem::take(&mut t_rest).split_at_mut(size);
            let (w, w_tail) = std::mem::take(&mut w_rest).split_at_mut(size);
            let (l, l_tail) = std::mem::take(&mut l_rest).split_at_mut(hi - lo);
            jobs.push((lo, &counts[lo..=hi], t, w, l));
            (t_rest, w_rest, l_rest) = (t_tail, w_tail, l_tail);
        }
    }
    let fill = |(first, bounds, targets, weights, lengths): Job<'_>| {
        fill_rows(first, bounds, list, targets, weights);
        compact_rows(bounds, targets, weights, lengths);
    };
    #[cfg(feature = "rayon")]
    if jobs.len() > 1 {
        use rayon::prelude::*;
        jobs.into_par_iter().for_each(fill);
    } else {
        jobs.into_iter().for_each(fill);
    }
    #[cfg(not(feature = "rayon"))]
    jobs.into_iter().for_each(fill);
    // Each range's rows now start at the range's start: move them down, in order.
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0usize);
    let mut write = 0usize;
    for pair in bounds.windows(2) {
        let (lo, hi) = (pair[0], pair[1]);
        let from = counts[lo];
        let size: usize = lengths[lo..hi].iter().sum();
        targets.copy_within(from..from + size, write);
        weights.copy_within(from..from + size, write);
        for &len in &lengths[lo..hi] {
            write += len;
            offsets.push(write);
        }
    }
    (targets, weights, offsets)
}

/// Enters the edges of `list` into the rows of one range ([`build_rows`]): rows
/// `first..first + bounds.len() - 1`, where `bounds` are their starts in the whole array
/// (`bounds[0]` is where `targets` and `weights` begin). Every row gets its entries in edge
/// order.
fn fill_rows(
    first: usize,
    bounds: &[usize],
    list: &[(u32, u32, f64)],
    targets: &mut [u32],
    weights: &mut [f64],
) {
    let base = bounds[0];
    let end = first + bounds.len() - 1;
    let mut cursor: Vec<usize> = bounds[..bounds.len() - 1].iter().map(|&b| b - base).collect();
    for &(s, t, w) in list {
        for (row, other) in [(s, t), (t, s)] {
            let row = row as usize;
            if row >= first && row < end {
                let c = &mut cursor[row - first];
                targets[*c] = other;
                weights[*c] = w;
                *c += 1;
            }
        }
    }
}

/// Sorts and merges the rows of one range ([`build_rows`]): `bounds` are the rows' starts in the
/// whole array (`bounds[0]` is where `targets` and `weights` begin), and every row is compacted
/// towards the range's start; `lengths` receives each row's compacted length.
fn compact_rows(bounds: &[usize], targets: &mut [u32], weights: &mut [f64], lengths: &mut [usize]) {
    let base = bounds[0];
    let mut scratch: Vec<(u32, f64)> = Vec::new();
    let mut write = 0usize;
    for (v, length) in lengths.iter_mut().enumerate() {
        let (lo, hi) = (bounds[v] - base, bounds[v + 1] - base);
        let row_start = write;
        let sorted = targets[lo..hi].windows(2).all(|p| p[0] < p[1]);
        if sorted {
            targets.copy_within(lo..hi, write);
            weights.copy_within(lo..hi, write);
            write += hi - lo;
        } else {
            scratch.clear();
            scratch.extend(targets[lo..hi].iter().copied().zip(weights[lo..hi].iter().copied()));
            scratch.sort_unstable_by_key(|&(t, _)| t);
            for &(t, w) in &scratch {
                if write > row_start && targets[write - 1] == t {
                    weights[write - 1] += w;
                } else {
                    targets[write] = t;
                    weights[write] = w;
                    write += 1;
                }
            }
        }
        *length = write - row_start;
    }
}

impl WeightedGraph {
    /// Builds a graph of `node_count` nodes (ids `0..node_count`) from undirected weighted edges.
    ///
    /// Edge direction is ignored, duplicate edges are summed, self loops are allowed and
    /// zero-weight edges are dropped (their endpoints stay in the graph).
    ///
    /// # Errors
    ///
    /// [`GraphError::TooManyNodes`] when `node_count` exceeds `u32::MAX`,
    /// [`GraphError::NodeOutOfRange`] for an endpoint `>= node_count` and
    /// [`GraphError::BadWeight`] for a NaN, infinite or negative weight.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{GraphError, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (2, 3, 0.0)])?;
    /// assert_eq!((graph.node_count(), graph.edge_count()), (4, 1));
    /// let bad = WeightedGraph::from_edges(2, [(0, 1, f64::NAN)]);
    /// assert!(matches!(bad, Err(GraphError::BadWeight { .. })));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_edges(
        node_count: usize,
        edges: impl IntoIterator<Item = (u32, u32, f64)>,
    ) -> Result<Self, GraphError> {
        if node_count > u32::MAX as usize {
            return Err(GraphError::TooManyNodes);
        }
        let n = node_count;
        let mut self_loops = vec![0.0f64; n];
        let mut counts = vec![0usize; n + 1];
        let edges = edges.into_iter();
        let mut list: Vec<(u32, u32, f64)> = Vec::with_capacity(edges.size_hint().0);
        let mut total_weight = 0.0f64;
        for (source, target, weight) in edges {
            for node in [source, target] {
                if node as usize >= n {
                    return Err(GraphError::NodeOutOfRange { node, node_count: n });
                }
            }
            if !weight.is_finite() || weight < 0.0 {
                return Err(GraphError::BadWeight { source, target, weight });
            }
            total_weight += weight;
            if total_weight > MAX_TOTAL_WEIGHT {
                return Err(GraphError::TotalWeightTooLarge);
            }
            if weight == 0.0 {
                continue;
            }
            if source == target {
                self_loops[source as usize] += weight;
                continue;
            }
            counts[source as usize + 1] += 1;
            counts[target as usize + 1] += 1;
            list.push((source, target, weight));
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let total = counts[n];
        let (mut targets, mut weights, offsets) = build_rows(&counts, &list, sort_pieces(total));
        drop(list);
        let write = offsets[n];
        targets.truncate(write);
        targets.shrink_to_fit();
        weights.truncate(write);
        weights.shrink_to_fit();
        let strengths: Vec<f64> = (0..n)
            .map(|v| weights[offsets[v]..offsets[v + 1]].iter().sum::<f64>() + 2.0 * self_loops[v])
            .collect();
        let loops = self_loops.iter().filter(|&&w| w > 0.0).count();
        let total_weight = strengths.iter().sum::<f64>() / 2.0;
        Ok(Self {
            offsets,
            targets,
            weights,
            self_loops,
            strengths,
            edge_count: write / 2 + loops,
            total_weight,
        })
    }

    /// The number of nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// assert_eq!(WeightedGraph::from_edges(5, [])?.node_count(), 5);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_count(&self) -> usize {
        self.strengths.len()
    }

    /// The number of distinct undirected edges, self loops included.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 0, 1.0), (1, 1, 1.0)])?;
    /// assert_eq!(graph.edge_count(), 2);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn edge_count(&self) -> usize {
        self.edge_count
    }

    /// The total edge weight `m` (every undirected edge and self loop counted once).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.5), (1, 2, 2.0), (2, 2, 0.5)])?;
    /// assert_eq!(graph.total_weight(), 4.0);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// The neighbours of `node` with edge weights, in increasing id order, self loop excluded
    /// (see [`self_loop`](Self::self_loop)). Empty for an out-of-range node.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// let graph = WeightedGraph::from_edges(3, [(2, 0, 1.0), (0, 1, 3.0), (0, 0, 9.0)])?;
    /// let around: Vec<(u32, f64)> = graph.neighbors(0).collect();
    /// assert_eq!(around, vec![(1, 3.0), (2, 1.0)]);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn neighbors(&self, node: u32) -> Neighbors<'_> {
        let (lo, hi) = self.row(node as usize);
        Neighbors { targets: self.targets[lo..hi].iter(), weights: self.weights[lo..hi].iter() }
    }

    /// The weight of `node`'s self loop (0 when it has none or is out of range).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// let graph = WeightedGraph::from_edges(2, [(1, 1, 2.0), (1, 1, 0.5)])?;
    /// assert_eq!((graph.self_loop(0), graph.self_loop(1)), (0.0, 2.5));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn self_loop(&self, node: u32) -> f64 {
        self.self_loops.get(node as usize).copied().unwrap_or(0.0)
    }

    /// The weighted degree `k_i` of `node`: its edge weights plus twice its self loop (0 for an
    /// out-of-range node).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::WeightedGraph;
    ///
    /// let graph = WeightedGraph::from_edges(2, [(0, 1, 2.0), (0, 0, 1.0)])?;
    /// assert_eq!((graph.strength(0), graph.strength(1)), (4.0, 2.0));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strength(&self, node: u32) -> f64 {
        self.strengths.get(node as usize).copied().unwrap_or(0.0)
    }

    fn row(&self, v: usize) -> (usize, usize) {
        if v < self.node_count() { (self.offsets[v], self.offsets[v + 1]) } else { (0, 0) }
    }
}

/// Iterator over a node's `(neighbour, weight)` pairs, returned by [`WeightedGraph::neighbors`].
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::WeightedGraph;
///
/// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (0, 2, 2.0)])?;
/// let around = graph.neighbors(0);
/// assert_eq!(around.len(), 2);
/// assert_eq!(around.map(|(_, w)| w).sum::<f64>(), 3.0);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Neighbors<'a> {
    targets: std::slice::Iter<'a, u32>,
    weights: std::slice::Iter<'a, f64>,
}

impl Iterator for Neighbors<'_> {
    type Item = (u32, f64);

    fn next(&mut self) -> Option<(u32, f64)> {
        Some((*self.targets.next()?, *self.weights.next()?))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.targets.size_hint()
    }
}

impl ExactSizeIterator for Neighbors<'_> {}

// ---------------------------------------------------------------------------------------------
// Settings and results
// ---------------------------------------------------------------------------------------------

/// The quality function Leiden maximises.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{Leiden, Quality, WeightedGraph};
///
/// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 2, 1.0)])?;
/// // CPM with a resolution above every edge weight keeps every node alone.
/// let partition = Leiden::new().quality(Quality::Cpm).resolution(2.0).run(&graph);
/// assert_eq!(partition.community_count(), 3);
/// assert_eq!(Quality::default(), Quality::Modularity);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Quality {
    /// Modularity with resolution γ:
    /// `Q = 1/(2m) Σ_ij (A_ij − γ k_i k_j / 2m) δ(c_i, c_j)`.
    #[default]
    Modularity,
    /// Constant Potts Model: `Q = Σ_c [e_c − γ n_c (n_c − 1) / 2]`, with `e_c` the internal edge
    /// weight and `n_c` the node count of community `c` (leidenalg's `CPMVertexPartition`).
    Cpm,
}

/// The default quality-gain tolerance of [`Leiden::tolerance`]: iterations stop once one
/// raises a component's quality by less than this fraction of its total edge weight (in Q, for
/// modularity on a connected graph).
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{DEFAULT_TOLERANCE, Leiden};
/// assert_eq!(Leiden::new().tolerance_value(), DEFAULT_TOLERANCE);
/// ```
pub const DEFAULT_TOLERANCE: f64 = 1e-4;

/// Leiden settings (a builder); [`run`](Self::run) applies them to a graph.
///
/// Unset values take their defaults: modularity, resolution 1.0, seed 0, iterate until an
/// iteration gains less than the tolerance [`DEFAULT_TOLERANCE`] (at most 256 iterations),
/// randomness θ = 0.01.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{Leiden, Quality, WeightedGraph};
///
/// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (2, 3, 1.0)])?;
/// let leiden = Leiden::new().quality(Quality::Modularity).resolution(1.0).seed(42);
/// assert_eq!(leiden.run(&graph).membership(), &[0, 0, 1, 1]);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Leiden {
    resolution: Option<f64>,
    quality: Option<Quality>,
    seed: Option<u64>,
    max_iterations: Option<u32>,
    randomness: Option<f64>,
    /// Not in the serialised form: snapshots store these settings with bincode, whose layout a
    /// new field would change (see [`Leiden::tolerance`]).
    #[serde(skip)]
    tolerance: Option<f64>,
}

impl Leiden {
    /// Default settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(2, [(0, 1, 1.0)])?;
    /// assert_eq!(Leiden::new().run(&graph).community_count(), 1);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the resolution γ (default 1.0); larger values give smaller communities. NaN falls
    /// back to 1.0, negative values count as 0.0 and +∞ as `f64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let path = WeightedGraph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)])?;
    /// assert_eq!(Leiden::new().resolution(0.0).run(&path).community_count(), 1);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolution(mut self, r: f64) -> Self {
        self.resolution = Some(r);
        self
    }

    /// Sets the quality function (default [`Quality::Modularity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, Quality, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 2, 1.0)])?;
    /// let partition = Leiden::new().quality(Quality::Cpm).resolution(0.1).run(&graph);
    /// assert_eq!(partition.community_count(), 1);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quality(mut self, q: Quality) -> Self {
        self.quality = Some(q);
        self
    }

    /// Sets the random seed (default 0). The same seed always gives the same partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)])?;
    /// assert_eq!(Leiden::new().seed(3).run(&graph), Leiden::new().seed(3).run(&graph));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }

    /// Caps the number of Leiden iterations; 0 (the default) leaves the stop to the
    /// [tolerance](Leiden::tolerance), with a hard safety cap of 256.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 2, 1.0)])?;
    /// let partition = Leiden::new().max_iterations(1).run(&graph);
    /// assert_eq!(partition.membership().len(), 3);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.max_iterations = Some(n);
        self
    }

    /// Sets the quality-gain tolerance (default [`DEFAULT_TOLERANCE`]): iterations stop once one
    /// raises the quality of a component by less than `tolerance` times the component's total
    /// edge weight. For modularity on a connected graph that is a gain below `tolerance` in Q;
    /// for CPM it is the same fraction of the component's edge weight. 0 iterates until an
    /// iteration changes nothing. The iteration cap ([`Leiden::max_iterations`]) still applies.
    ///
    /// A run stopped by the tolerance ends with one more pass of local moving on the nodes
    /// themselves, so that, as at convergence, no single node can still improve the quality by
    /// moving (unless the iteration cap cuts the run short). NaN, negative and infinite values
    /// are refused: the default applies, and [`Leiden::tolerance_value`] reports it.
    ///
    /// Like every setting, the tolerance belongs to the settings value, but it is not (yet)
    /// part of their serialised form: settings read back from serde (a snapshot) have the
    /// default tolerance.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{DEFAULT_TOLERANCE, Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)])?;
    /// let until_stable = Leiden::new().tolerance(0.0).run(&graph);
    /// let tolerant = Leiden::new().tolerance(1e-3).run(&graph);
    /// assert!(tolerant.quality() <= until_stable.quality() + 1e-3);
    /// assert_eq!(Leiden::new().tolerance(f64::NAN).tolerance_value(), DEFAULT_TOLERANCE);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The quality-gain tolerance in force (see [`Leiden::tolerance`]): the value set when it
    /// is finite and non-negative, [`DEFAULT_TOLERANCE`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{DEFAULT_TOLERANCE, Leiden};
    /// assert_eq!(Leiden::new().tolerance_value(), DEFAULT_TOLERANCE);
    /// assert_eq!(Leiden::new().tolerance(0.0).tolerance_value(), 0.0);
    /// assert_eq!(Leiden::new().tolerance(-1.0).tolerance_value(), DEFAULT_TOLERANCE);
    /// assert_eq!(Leiden::new().tolerance(f64::INFINITY).tolerance_value(), DEFAULT_TOLERANCE);
    /// ```
    pub fn tolerance_value(&self) -> f64 {
        self.tolerance.filter(|t| t.is_finite() && *t >= 0.0).unwrap_or(DEFAULT_TOLERANCE)
    }

    /// Sets the refinement randomness θ (default 0.01, as leidenalg): a merge with gain `g` is
    /// drawn with probability ∝ `exp(g / θ)`. 0 (or NaN, or a negative value) merges greedily.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 2, 1.0)])?;
    /// let partition = Leiden::new().randomness(0.0).run(&graph);
    /// assert!(partition.community_count() >= 1);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn randomness(mut self, theta: f64) -> Self {
        self.randomness = Some(theta);
        self
    }

    /// Runs Leiden from singletons and returns the best partition found.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(5, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (3, 4, 1.0)])?;
    /// let partition = Leiden::new().run(&graph);
    /// assert_eq!(partition.communities(), vec![vec![0, 1, 2], vec![3, 4]]);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self, graph: &WeightedGraph) -> Partition {
        self.solve(graph, None)
    }

    /// Runs Leiden starting from `initial` (one community label per node; any `u32` labels).
    /// Initial communities that span components or are disconnected are split as needed.
    ///
    /// # Errors
    ///
    /// [`GraphError::MembershipLength`] when `initial.len()` differs from the node count.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 3, 1.0)])?;
    /// let partition = Leiden::new().run_from(&graph, &[9, 9, 4, 4])?;
    /// assert_eq!(partition.membership().len(), 4);
    /// assert!(Leiden::new().run_from(&graph, &[0, 0]).is_err());
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_from(&self, graph: &WeightedGraph, initial: &[u32]) -> Result<Partition, GraphError> {
        if initial.len() != graph.node_count() {
            return Err(GraphError::MembershipLength { expected: graph.node_count(), found: initial.len() });
        }
        Ok(self.solve(graph, Some(initial)))
    }

    /// These settings with `quality` and `resolution` filled in where unset (for a caller,
    /// such as the operator stage, whose defaults differ from Leiden's own).
    pub(crate) fn or_defaults(mut self, quality: Quality, resolution: f64) -> Self {
        self.quality = self.quality.or(Some(quality));
        self.resolution = self.resolution.or(Some(resolution));
        self
    }

    /// True when every value set is in range: a finite, non-negative resolution, a finite
    /// randomness, a finite, non-negative tolerance (a snapshot or policy file could carry
    /// anything).
    pub(crate) fn is_valid(&self) -> bool {
        self.resolution.is_none_or(|r| r.is_finite() && r >= 0.0)
            && self.randomness.is_none_or(f64::is_finite)
            && self.tolerance.is_none_or(|t| t.is_finite() && t >= 0.0)
    }

    /// The quality function in force.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, Quality};
    /// assert_eq!(Leiden::new().quality_value(), Quality::Modularity);
    /// ```
    pub fn quality_value(&self) -> Quality {
        self.quality.unwrap_or_default()
    }

    /// The seed in force.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::leiden::Leiden::new().seed(5).seed_value(), 5);
    /// ```
    pub fn seed_value(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// Checks the settings a run would otherwise repair silently: a resolution that is NaN,
    /// negative or infinite (`resolution` maps them to 1.0, 0.0 and `f64::MAX`) is an error
    /// here, for callers that take settings from users.
    ///
    /// # Errors
    ///
    /// [`GraphError::BadResolution`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::Leiden;
    /// assert!(Leiden::new().resolution(0.5).check().is_ok());
    /// let err = Leiden::new().resolution(f64::NAN).check().unwrap_err();
    /// assert!(err.to_string().contains("resolution NaN"));
    /// ```
    pub fn check(&self) -> Result<(), GraphError> {
        match self.resolution {
            Some(r) if r.is_nan() || r < 0.0 || r.is_infinite() => {
                Err(GraphError::BadResolution { resolution: r })
            }
            _ => Ok(()),
        }
    }

    /// The resolution in force (see [`Leiden::resolution`] for how NaN, negative and infinite
    /// values are read).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::Leiden;
    /// assert_eq!(Leiden::new().resolution_value(), 1.0);
    /// assert_eq!(Leiden::new().resolution(-3.0).resolution_value(), 0.0);
    /// ```
    pub fn resolution_value(&self) -> f64 {
        match self.resolution {
            None => 1.0,
            Some(r) if r.is_nan() => 1.0,
            Some(r) if r < 0.0 => 0.0,
            Some(r) => r.min(f64::MAX),
        }
    }

    fn solve(&self, graph: &WeightedGraph, initial: Option<&[u32]>) -> Partition {
        self.solve_with(graph, initial, COLOURED_MIN_NODES)
    }

    /// [`solve`](Self::solve), with levels of at least `coloured_min_nodes` nodes moved colour
    /// class by colour class (tests use 0 and `usize::MAX` to force either path).
    fn solve_with(
        &self,
        graph: &WeightedGraph,
        initial: Option<&[u32]>,
        coloured_min_nodes: usize,
    ) -> Partition {
        let q = self.quality_value();
        let resolution = self.resolution_value();
        let theta = match self.randomness {
            None => 0.01,
            Some(t) if t > 0.0 => t,
            Some(_) => 0.0,
        };
        let m = graph.total_weight;
        let (gamma, node_weight) = match q {
            Quality::Modularity => {
                let gamma = if m > 0.0 { resolution / (2.0 * m) } else { 0.0 };
                (gamma, graph.strengths.clone())
            }
            Quality::Cpm => (resolution, vec![1.0; graph.node_count()]),
        };
        let engine = Engine {
            gamma,
            theta,
            max_iterations: match self.max_iterations {
                None | Some(0) => HARD_ITERATION_CAP,
                Some(n) => n,
            },
            tolerance: self.tolerance_value(),
            coloured_min_nodes,
        };
        let membership = solve_components(graph, &node_weight, initial, &engine, self.seed.unwrap_or(0));
        Partition::new(graph, membership, q, resolution)
    }
}

/// A partition of a graph's nodes into communities, as returned by [`Leiden::run`].
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{Leiden, WeightedGraph};
///
/// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (2, 3, 1.0)])?;
/// let partition = Leiden::new().run(&graph);
/// assert_eq!(partition.community_of(3), Some(1));
/// assert_eq!(partition.community_of(4), None);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    membership: Vec<u32>,
    community_count: usize,
    quality: f64,
}

impl Partition {
    fn new(graph: &WeightedGraph, mut membership: Vec<u32>, q: Quality, resolution: f64) -> Self {
        let community_count = renumber(&mut membership);
        let quality = quality(graph, &membership, q, resolution);
        Self { membership, community_count, quality }
    }

    /// The community of every node; communities are numbered `0..k` in the order of their
    /// smallest node id.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(3, [(1, 2, 1.0)])?;
    /// assert_eq!(Leiden::new().run(&graph).membership(), &[0, 1, 1]);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn membership(&self) -> &[u32] {
        &self.membership
    }

    /// The community of `node`, or `None` when the node is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(2, [])?;
    /// let partition = Leiden::new().run(&graph);
    /// assert_eq!((partition.community_of(1), partition.community_of(2)), (Some(1), None));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn community_of(&self, node: u32) -> Option<u32> {
        self.membership.get(node as usize).copied()
    }

    /// The number of communities `k`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(0, [])?;
    /// assert_eq!(Leiden::new().run(&graph).community_count(), 0);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn community_count(&self) -> usize {
        self.community_count
    }

    /// The value of the chosen quality function for this partition (see [`quality()`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph, modularity};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (2, 3, 1.0)])?;
    /// let partition = Leiden::new().run(&graph);
    /// assert_eq!(partition.quality(), modularity(&graph, partition.membership()));
    /// assert_eq!(partition.quality(), 0.5);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quality(&self) -> f64 {
        self.quality
    }

    /// The members of every community, each list sorted, communities in id order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(4, [(0, 2, 1.0), (1, 3, 1.0)])?;
    /// assert_eq!(Leiden::new().run(&graph).communities(), vec![vec![0, 2], vec![1, 3]]);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn communities(&self) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.community_count];
        for (node, &c) in self.membership.iter().enumerate() {
            if let Some(list) = out.get_mut(c as usize) {
                list.push(node as u32);
            }
        }
        out
    }

    /// Consumes the partition and returns its membership vector.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::leiden::{Leiden, WeightedGraph};
    ///
    /// let graph = WeightedGraph::from_edges(2, [(0, 1, 1.0)])?;
    /// assert_eq!(Leiden::new().run(&graph).into_membership(), vec![0, 0]);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_membership(self) -> Vec<u32> {
        self.membership
    }
}

// ---------------------------------------------------------------------------------------------
// Quality recomputation
// ---------------------------------------------------------------------------------------------

/// Recomputes a quality function from scratch for any membership (one label per node, any
/// `u32` labels). Returns NaN when `membership.len()` differs from the node count; modularity
/// of a graph without edges is 0. Straightforward `O(n + m)`, for tests and reports.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{Quality, WeightedGraph, quality};
///
/// let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (2, 3, 1.0)])?;
/// assert_eq!(quality(&graph, &[0, 0, 1, 1], Quality::Modularity, 1.0), 0.5);
/// assert_eq!(quality(&graph, &[0, 0, 1, 1], Quality::Cpm, 0.5), 1.0);
/// assert!(quality(&graph, &[0], Quality::Cpm, 0.5).is_nan());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn quality(graph: &WeightedGraph, membership: &[u32], quality: Quality, resolution: f64) -> f64 {
    let n = graph.node_count();
    if membership.len() != n {
        return f64::NAN;
    }
    let mut labels = membership.to_vec();
    let k = compact_labels(&mut labels);
    let mut internal = vec![0.0f64; k]; // twice the internal edge weight
    let mut total = vec![0.0f64; k]; // strength or node count
    for v in 0..n {
        let c = labels[v] as usize;
        total[c] += match quality {
            Quality::Modularity => graph.strengths[v],
            Quality::Cpm => 1.0,
        };
        let mut inside = 2.0 * graph.self_loops[v];
        let (lo, hi) = graph.row(v);
        for (&u, &w) in graph.targets[lo..hi].iter().zip(&graph.weights[lo..hi]) {
            if labels[u as usize] as usize == c {
                inside += w;
            }
        }
        internal[c] += inside;
    }
    match quality {
        Quality::Modularity => {
            let m = graph.total_weight;
            if m <= 0.0 {
                return 0.0;
            }
            internal
                .iter()
                .zip(&total)
                .map(|(&e2, &k)| e2 / (2.0 * m) - resolution * (k / (2.0 * m)) * (k / (2.0 * m)))
                .sum()
        }
        Quality::Cpm => internal
            .iter()
            .zip(&total)
            .map(|(&e2, &size)| e2 / 2.0 - resolution * size * (size - 1.0) / 2.0)
            .sum(),
    }
}

/// Modularity (resolution 1) of a membership; shorthand for
/// `quality(graph, membership, Quality::Modularity, 1.0)`.
///
/// # Examples
///
/// ```
/// use sellerlink::leiden::{WeightedGraph, modularity};
///
/// let graph = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 2, 1.0)])?;
/// assert_eq!(modularity(&graph, &[0, 0, 0]), 0.0);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn modularity(graph: &WeightedGraph, membership: &[u32]) -> f64 {
    quality(graph, membership, Quality::Modularity, 1.0)
}

#[cfg(test)]
mod tests {
    use super::build_rows;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A node count and edges without self loops (duplicates likely), weights tenths of small
    /// integers.
    fn arb_list() -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>)> {
        (2usize..30).prop_flat_map(|n| {
            let edge = (0..n as u32, 0..n as u32, 1u32..5).prop_map(move |(s, t, w)| {
                let t = if s == t { (t + 1) % n as u32 } else { t };
                (s, t, f64::from(w) * 0.1)
            });
            (Just(n), proptest::collection::vec(edge, 0..120))
        })
    }

    proptest! {
        /// Building the rows in any number of ranges, on any number of threads, gives the
        /// sequential result to the bit, and that result is the naive one (every edge in both
        /// rows, sorted, duplicates merged).
        #[test]
        fn rows_do_not_depend_on_pieces_or_threads((n, list) in arb_list(), pieces in 2usize..9) {
            let mut counts = vec![0usize; n + 1];
            for &(s, t, _) in &list {
                counts[s as usize + 1] += 1;
                counts[t as usize + 1] += 1;
            }
            for v in 0..n {
                counts[v + 1] += counts[v];
            }
            let build = |pieces: usize, threads: usize| -> (Vec<u32>, Vec<u64>, Vec<usize>) {
                let run = || build_rows(&counts, &list, pieces);
                #[cfg(feature = "rayon")]
                let (t, w, offsets) = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                    Ok(pool) => pool.install(run),
                    Err(_) => run(),
                };
                #[cfg(not(feature = "rayon"))]
                let (t, w, offsets) = {
                    let _ = threads;
                    run()
                };
                let end = offsets.last().copied().unwrap_or(0);
                (t[..end].to_vec(), w[..end].iter().map(|x| x.to_bits()).collect(), offsets)
            };
            let sequential = build(1, 1);
            prop_assert_eq!(&build(pieces, 3), &sequential);
            prop_assert_eq!(&build(pieces, 1), &sequential);
            let (t, w, offsets) = sequential;
            prop_assert_eq!(offsets.len(), n + 1);
            let mut naive: Vec<BTreeMap<u32, f64>> = vec![BTreeMap::new(); n];
            for &(s, t, w) in &list {
                *naive[s as usize].entry(t).or_insert(0.0) += w;
                *naive[t as usize].entry(s).or_insert(0.0) += w;
            }
            for v in 0..n {
                let got: Vec<(u32, f64)> = (offsets[v]..offsets[v + 1]).map(|j| (t[j], f64::from_bits(w[j]))).collect();
                prop_assert_eq!(got.len(), naive[v].len());
                for ((gt, gw), (rt, rw)) in got.iter().zip(&naive[v]) {
                    prop_assert_eq!(gt, rt);
                    prop_assert!((gw - rw).abs() < 1e-12);
                }
            }
        }
    }
}
