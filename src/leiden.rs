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
//!    neighbours outside that community are queued again;
//! 2. **refinement**: inside every community, singletons are merged into well-connected
//!    sub-communities, each merge drawn at random among the non-negative gains with probability
//!    ∝ `exp(gain / θ)` (θ = [`Leiden::randomness`], 0.01 by default, as in leidenalg), so every
//!    sub-community is connected;
//! 3. **aggregation**: the refined sub-communities become the nodes of the next level, which starts
//!    from the (non-refined) communities of the level below.
//!
//! The level loop stops when every node of a level is its own community (if refinement merges
//! nothing, the level is aggregated by its communities instead, as igraph does). Iterations repeat
//! until one changes nothing (or [`Leiden::max_iterations`] is reached); a last check splits any
//! community that is not connected, so **every returned community induces a connected subgraph**,
//! and at convergence no single node can move to a neighbouring or empty community and improve the
//! quality by more than rounding noise (a move must gain more than 1e-13 of the magnitudes
//! involved).
//!
//! Engineering: flat arrays only (compressed sparse rows, dense per-community slots with a
//! touched list, no hashing in any loop); every component is copied in breadth-first order and,
//! once the first iteration has found communities, relabelled community by community, so later
//! iterations touch mostly nearby memory; with the `rayon` feature, refinement (one task per
//! community), aggregation and a read-only "is any move still improving?" check that lets a stable
//! large level skip its sequential local-moving pass all run in parallel.
//!
//! # Complexity and memory
//!
//! One iteration costs `O(m)` expected time over all levels (each level is at most as large as
//! the one below and usually far smaller); iterating until stable typically takes a few to a few
//! dozen iterations, most of them cheap. The graph stores each undirected edge twice in compressed
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
//! community index, so scheduling never changes a result. Communities are numbered `0..k` in the
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

use std::collections::HashMap;
use std::fmt;

/// Iteration cap used when [`Leiden::max_iterations`] is 0 ("until stable").
const HARD_ITERATION_CAP: u32 = 256;
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
// Errors
// ---------------------------------------------------------------------------------------------

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
        let mut list: Vec<(u32, u32, f64)> = Vec::new();
        for (source, target, weight) in edges {
            for node in [source, target] {
                if node as usize >= n {
                    return Err(GraphError::NodeOutOfRange { node, node_count: n });
                }
            }
            if !weight.is_finite() || weight < 0.0 {
                return Err(GraphError::BadWeight { source, target, weight });
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
        let mut targets = vec![0u32; total];
        let mut weights = vec![0.0f64; total];
        let mut cursor: Vec<usize> = counts[..n].to_vec();
        for (s, t, w) in list {
            let cs = &mut cursor[s as usize];
            targets[*cs] = t;
            weights[*cs] = w;
            *cs += 1;
            let ct = &mut cursor[t as usize];
            targets[*ct] = s;
            weights[*ct] = w;
            *ct += 1;
        }
        drop(cursor);
        // Sort every row by target and merge duplicates, compacting in place.
        let mut offsets = vec![0usize; n + 1];
        let mut scratch: Vec<(u32, f64)> = Vec::new();
        let mut write = 0usize;
        for v in 0..n {
            let (lo, hi) = (counts[v], counts[v + 1]);
            let row_start = write;
            let sorted = targets[lo..hi].windows(2).all(|p| p[0] < p[1]);
            if sorted {
                for j in lo..hi {
                    targets[write] = targets[j];
                    weights[write] = weights[j];
                    write += 1;
                }
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
            offsets[v + 1] = write;
        }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

/// Leiden settings (a builder); [`run`](Self::run) applies them to a graph.
///
/// Unset values take their defaults: modularity, resolution 1.0, seed 0, iterate until stable,
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
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Leiden {
    resolution: Option<f64>,
    quality: Option<Quality>,
    seed: Option<u64>,
    max_iterations: Option<u32>,
    randomness: Option<f64>,
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

    /// Caps the number of Leiden iterations; 0 (the default) iterates until an iteration changes
    /// nothing, with a hard safety cap of 256.
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

    fn quality_function(&self) -> Quality {
        self.quality.unwrap_or_default()
    }

    fn resolution_value(&self) -> f64 {
        match self.resolution {
            None => 1.0,
            Some(r) if r.is_nan() => 1.0,
            Some(r) if r < 0.0 => 0.0,
            Some(r) => r.min(f64::MAX),
        }
    }

    fn solve(&self, graph: &WeightedGraph, initial: Option<&[u32]>) -> Partition {
        let q = self.quality_function();
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

/// Renumbers arbitrary labels to `0..k` in order of first appearance; returns `k`.
fn compact_labels(labels: &mut [u32]) -> usize {
    let n = labels.len();
    let max = labels.iter().copied().max().map_or(0, |m| m as usize);
    if max < n.saturating_mul(4).saturating_add(1024) {
        renumber(labels)
    } else {
        let mut map: HashMap<u32, u32> = HashMap::with_capacity(n.min(1 << 20));
        for label in labels.iter_mut() {
            let next = map.len() as u32;
            *label = *map.entry(*label).or_insert(next);
        }
        map.len()
    }
}

/// Renumbers labels (all below a modest bound) to `0..k` in order of first appearance.
fn renumber(labels: &mut [u32]) -> usize {
    let max = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut map = vec![u32::MAX; max];
    let mut k = 0u32;
    for label in labels.iter_mut() {
        let slot = &mut map[*label as usize];
        if *slot == u32::MAX {
            *slot = k;
            k += 1;
        }
        *label = *slot;
    }
    k as usize
}

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast and good enough for shuffles and draws.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
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
struct Engine {
    gamma: f64,
    theta: f64,
    max_iterations: u32,
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
fn solve_components(
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
