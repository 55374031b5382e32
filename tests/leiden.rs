//! Behaviour of `sellerlink::leiden`: structural guarantees (connected communities, dense ids,
//! node optimality, determinism) on random graphs, and known answers on classic graphs.

use proptest::prelude::*;
use sellerlink::leiden::{GraphError, Leiden, Partition, Quality, WeightedGraph, modularity, quality};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Zachary's karate club (78 edges, nodes 0..34).
const KARATE: [(u32, u32); 78] = [
    (0, 1),
    (0, 2),
    (0, 3),
    (0, 4),
    (0, 5),
    (0, 6),
    (0, 7),
    (0, 8),
    (0, 10),
    (0, 11),
    (0, 12),
    (0, 13),
    (0, 17),
    (0, 19),
    (0, 21),
    (0, 31),
    (1, 2),
    (1, 3),
    (1, 7),
    (1, 13),
    (1, 17),
    (1, 19),
    (1, 21),
    (1, 30),
    (2, 3),
    (2, 7),
    (2, 8),
    (2, 9),
    (2, 13),
    (2, 27),
    (2, 28),
    (2, 32),
    (3, 7),
    (3, 12),
    (3, 13),
    (4, 6),
    (4, 10),
    (5, 6),
    (5, 10),
    (5, 16),
    (6, 16),
    (8, 30),
    (8, 32),
    (8, 33),
    (9, 33),
    (13, 33),
    (14, 32),
    (14, 33),
    (15, 32),
    (15, 33),
    (18, 32),
    (18, 33),
    (19, 33),
    (20, 32),
    (20, 33),
    (22, 32),
    (22, 33),
    (23, 25),
    (23, 27),
    (23, 29),
    (23, 32),
    (23, 33),
    (24, 25),
    (24, 27),
    (24, 31),
    (25, 31),
    (26, 29),
    (26, 33),
    (27, 33),
    (28, 31),
    (28, 33),
    (29, 32),
    (29, 33),
    (30, 32),
    (30, 33),
    (31, 32),
    (31, 33),
    (32, 33),
];

fn karate() -> Result<WeightedGraph, GraphError> {
    WeightedGraph::from_edges(34, KARATE.iter().map(|&(u, v)| (u, v, 1.0)))
}

/// `count` cliques of `size` nodes; clique `i` holds nodes `i*size..(i+1)*size`; consecutive
/// cliques (and, with `ring`, the last and the first) are joined by one edge.
fn cliques(count: u32, size: u32, ring: bool) -> Result<WeightedGraph, GraphError> {
    let mut edges = Vec::new();
    for c in 0..count {
        let base = c * size;
        for i in 0..size {
            for j in i + 1..size {
                edges.push((base + i, base + j, 1.0));
            }
        }
        if c + 1 < count || (ring && count > 2) {
            let next = ((c + 1) % count) * size;
            edges.push((base + size - 1, next, 1.0));
        }
    }
    WeightedGraph::from_edges((count * size) as usize, edges)
}

/// Whether the nodes of every community induce a connected subgraph.
fn communities_connected(graph: &WeightedGraph, partition: &Partition) -> bool {
    let membership = partition.membership();
    partition.communities().iter().all(|members| {
        let Some(&first) = members.first() else {
            return false;
        };
        let mut seen = vec![false; graph.node_count()];
        seen[first as usize] = true;
        let mut stack = vec![first];
        let mut reached = 1;
        while let Some(v) = stack.pop() {
            for (u, _) in graph.neighbors(v) {
                if !seen[u as usize] && membership[u as usize] == membership[first as usize] {
                    seen[u as usize] = true;
                    reached += 1;
                    stack.push(u);
                }
            }
        }
        reached == members.len()
    })
}

/// The largest quality gain of moving one node to a neighbour's community or a new one.
fn best_single_move_gain(graph: &WeightedGraph, membership: &[u32], q: Quality, gamma: f64) -> f64 {
    let base = quality(graph, membership, q, gamma);
    let fresh = membership.iter().copied().max().map_or(0, |m| m + 1);
    let mut best = f64::NEG_INFINITY;
    let mut trial = membership.to_vec();
    for v in 0..graph.node_count() {
        let mut targets: Vec<u32> = graph.neighbors(v as u32).map(|(u, _)| membership[u as usize]).collect();
        targets.push(fresh);
        for c in targets {
            if c == membership[v] {
                continue;
            }
            trial[v] = c;
            best = best.max(quality(graph, &trial, q, gamma) - base);
            trial[v] = membership[v];
        }
    }
    best
}

fn arb_graph() -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>)> {
    (1usize..=40).prop_flat_map(|n| {
        let edge = (0..n as u32, 0..n as u32, prop_oneof![Just(1.0), 0.05f64..5.0]);
        (Just(n), proptest::collection::vec(edge, 0..=(3 * n)))
    })
}

fn arb_settings() -> impl Strategy<Value = (Quality, f64, u64)> {
    (
        prop_oneof![Just(Quality::Modularity), Just(Quality::Cpm)],
        prop_oneof![Just(0.0), Just(0.05), Just(0.25), Just(0.5), Just(1.0), Just(2.0)],
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn partitions_are_valid_connected_and_node_optimal(
        (n, edges) in arb_graph(),
        (q, gamma, seed) in arb_settings(),
    ) {
        let graph = WeightedGraph::from_edges(n, edges)?;
        let leiden = Leiden::new().quality(q).resolution(gamma).seed(seed);
        let partition = leiden.run(&graph);
        let membership = partition.membership();

        // One community per node, ids dense, numbered by smallest member.
        prop_assert_eq!(membership.len(), n);
        let k = partition.community_count();
        let mut next = 0;
        for &c in membership {
            prop_assert!((c as usize) < k);
            prop_assert!(c <= next);
            if c == next { next += 1; }
        }
        prop_assert_eq!(next as usize, k);
        let communities = partition.communities();
        prop_assert_eq!(communities.iter().map(Vec::len).sum::<usize>(), n);
        prop_assert!(communities.iter().all(|c| !c.is_empty()));

        prop_assert!(communities_connected(&graph, &partition));

        let recomputed = quality(&graph, membership, q, gamma);
        prop_assert!((partition.quality() - recomputed).abs() <= 1e-9 * recomputed.abs().max(1.0));

        let gain = best_single_move_gain(&graph, membership, q, gamma);
        prop_assert!(gain <= 1e-9, "a single move still gains {}", gain);

        prop_assert_eq!(&leiden.run(&graph), &partition);
    }

    #[test]
    fn tolerance_stopped_runs_are_never_worse_than_one_iteration(
        (n, edges) in arb_graph(),
        (q, gamma, seed) in arb_settings(),
        tolerance in prop_oneof![Just(1e-6), Just(1e-4), Just(1e-2), Just(0.5), Just(1e6)],
    ) {
        let graph = WeightedGraph::from_edges(n, edges)?;
        let leiden = Leiden::new().quality(q).resolution(gamma).seed(seed);
        let one = leiden.clone().max_iterations(1).run(&graph);
        let stopped = leiden.tolerance(tolerance).run(&graph);
        let scale = one.quality().abs().max(1.0);
        prop_assert!(stopped.quality() >= one.quality() - 1e-12 * scale,
            "{} < {}", stopped.quality(), one.quality());
        prop_assert!(communities_connected(&graph, &stopped));
        // However early the tolerance stops the iterations, single nodes have settled.
        let gain = best_single_move_gain(&graph, stopped.membership(), q, gamma);
        prop_assert!(gain <= 1e-9, "a single move still gains {}", gain);
    }

    #[test]
    fn run_from_is_valid_and_not_worse_than_its_start(
        (n, edges) in arb_graph(),
        (q, gamma, seed) in arb_settings(),
        labels in proptest::collection::vec(0u32..6, 40),
    ) {
        let graph = WeightedGraph::from_edges(n, edges)?;
        let initial = &labels[..n];
        let partition = Leiden::new().quality(q).resolution(gamma).seed(seed).run_from(&graph, initial)?;
        prop_assert!(communities_connected(&graph, &partition));
        prop_assert!(best_single_move_gain(&graph, partition.membership(), q, gamma) <= 1e-9);
    }
}

/// A seeded planted-partition graph: `n` nodes in groups of 40, `degree` edges drawn per node,
/// 25% of them leaving the group.
fn planted(n: u32, degree: u32, seed: u64) -> Result<WeightedGraph, GraphError> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut edges = Vec::new();
    for v in 0..n {
        for _ in 0..degree {
            let r = next();
            let u = if r % 4 == 0 {
                (next() % u64::from(n)) as u32
            } else {
                (v / 40) * 40 + (next() % 40) as u32
            };
            edges.push((v, u.min(n - 1), 1.0 + (r >> 40) as f64 / (1u64 << 24) as f64));
        }
    }
    WeightedGraph::from_edges(n as usize, edges)
}

/// The largest modularity gain of a single node move, computed incrementally in `O(m)`.
fn best_modularity_move(graph: &WeightedGraph, membership: &[u32], gamma: f64) -> f64 {
    let m = graph.total_weight();
    let k = membership.iter().copied().max().map_or(0, |c| c as usize + 1);
    let mut total = vec![0.0; k];
    for v in 0..graph.node_count() {
        total[membership[v] as usize] += graph.strength(v as u32);
    }
    let mut best = f64::NEG_INFINITY;
    let mut to = vec![0.0; k];
    for v in 0..graph.node_count() as u32 {
        let (own, kv) = (membership[v as usize] as usize, graph.strength(v));
        for (u, w) in graph.neighbors(v) {
            to[membership[u as usize] as usize] += w;
        }
        let stay = to[own] - gamma * kv * (total[own] - kv) / (2.0 * m);
        let alone = if total[own] > kv { 0.0 } else { stay };
        best = best.max((alone - stay) / m);
        for (u, _) in graph.neighbors(v) {
            let c = membership[u as usize] as usize;
            if c != own {
                best = best.max((to[c] - gamma * kv * total[c] / (2.0 * m) - stay) / m);
            }
        }
        for (u, _) in graph.neighbors(v) {
            to[membership[u as usize] as usize] = 0.0;
        }
    }
    best
}

#[test]
fn large_graphs_are_connected_node_optimal_and_deterministic() -> TestResult {
    // Large enough for the parallel refinement/aggregation and the relabelling by community.
    let graph = planted(20_000, 3, 17)?;
    let leiden = Leiden::new().seed(5);
    let partition = leiden.run(&graph);
    assert!(communities_connected(&graph, &partition));
    assert!(best_modularity_move(&graph, partition.membership(), 1.0) <= 1e-12);
    let recomputed = modularity(&graph, partition.membership());
    assert!((partition.quality() - recomputed).abs() < 1e-12);
    assert_eq!(partition, leiden.run(&graph));
    let planted: Vec<u32> = (0..20_000u32).map(|v| v / 40).collect();
    assert!(partition.quality() >= modularity(&graph, &planted));
    Ok(())
}

#[test]
fn karate_club_finds_the_known_structure() -> TestResult {
    let graph = karate()?;
    assert_eq!(graph.edge_count(), 78);
    for seed in 0..8 {
        let partition = Leiden::new().seed(seed).run(&graph);
        assert!(partition.quality() >= 0.40, "seed {seed}: modularity {}", partition.quality());
        assert!((partition.quality() - modularity(&graph, partition.membership())).abs() < 1e-12);
        assert!((3..=4).contains(&partition.community_count()), "seed {seed}");
        assert_ne!(partition.community_of(0), partition.community_of(33));
        assert!(communities_connected(&graph, &partition));
    }
    Ok(())
}

#[test]
fn two_cliques_joined_by_an_edge_split_into_the_cliques() -> TestResult {
    let graph = cliques(2, 6, false)?;
    for q in [Quality::Modularity, Quality::Cpm] {
        let partition = Leiden::new().quality(q).resolution(0.5).run(&graph);
        assert_eq!(
            partition.communities(),
            vec![(0..6).collect::<Vec<u32>>(), (6..12).collect::<Vec<u32>>()]
        );
    }
    Ok(())
}

#[test]
fn a_small_ring_of_cliques_has_one_community_per_clique() -> TestResult {
    let graph = cliques(6, 5, true)?;
    let partition = Leiden::new().run(&graph);
    let expected: Vec<Vec<u32>> = (0..6).map(|c| (c * 5..c * 5 + 5).collect()).collect();
    assert_eq!(partition.communities(), expected);
    Ok(())
}

#[test]
fn a_large_ring_of_cliques_never_splits_a_clique() -> TestResult {
    // 30 five-cliques: modularity's resolution limit merges neighbouring cliques, but a clique
    // itself is never cut.
    let graph = cliques(30, 5, true)?;
    let partition = Leiden::new().seed(3).run(&graph);
    for c in 0..30u32 {
        let first = partition.community_of(c * 5);
        assert!((c * 5..c * 5 + 5).all(|v| partition.community_of(v) == first));
    }
    assert!(partition.community_count() <= 30);
    assert!(partition.quality() >= 0.87);
    Ok(())
}

#[test]
fn components_never_share_a_community() -> TestResult {
    // Three triangles, a pair, an isolated node and a node with only a self loop.
    let edges = [
        (0, 1, 1.0),
        (1, 2, 1.0),
        (0, 2, 1.0),
        (3, 4, 1.0),
        (4, 5, 1.0),
        (3, 5, 1.0),
        (6, 7, 1.0),
        (7, 8, 1.0),
        (6, 8, 1.0),
        (9, 10, 1.0),
        (12, 12, 3.0),
    ];
    let graph = WeightedGraph::from_edges(13, edges)?;
    for q in [Quality::Modularity, Quality::Cpm] {
        // (CPM at γ = 1 would keep unit-weight pairs apart: merging gains 1 − γ = 0.)
        for gamma in [0.0, 0.1, 0.5] {
            let partition = Leiden::new().quality(q).resolution(gamma).run(&graph);
            let m = partition.membership();
            assert_eq!(m, &[0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5], "{q:?} {gamma}");
        }
    }
    Ok(())
}

#[test]
fn empty_and_single_node_graphs_work() -> TestResult {
    let empty = WeightedGraph::from_edges(0, [])?;
    let partition = Leiden::new().run(&empty);
    assert!(partition.membership().is_empty());
    assert_eq!(partition.community_count(), 0);
    assert_eq!(partition.quality(), 0.0);
    assert!(partition.communities().is_empty());

    let single = WeightedGraph::from_edges(1, [])?;
    let partition = Leiden::new().quality(Quality::Cpm).run(&single);
    assert_eq!(partition.membership(), &[0]);
    assert_eq!(partition.quality(), 0.0);

    let looped = WeightedGraph::from_edges(1, [(0, 0, 2.0)])?;
    let partition = Leiden::new().run(&looped);
    assert_eq!(partition.membership(), &[0]);
    assert_eq!(partition.quality(), 0.0);
    Ok(())
}

#[test]
fn bad_input_is_rejected_with_clear_errors() {
    let out_of_range = WeightedGraph::from_edges(3, [(0, 1, 1.0), (1, 3, 1.0)]);
    assert_eq!(out_of_range.err(), Some(GraphError::NodeOutOfRange { node: 3, node_count: 3 }));
    for weight in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
        let err = WeightedGraph::from_edges(2, [(0, 1, weight)]).err();
        assert!(matches!(err, Some(GraphError::BadWeight { source: 0, target: 1, .. })), "{weight}");
    }
    let err = WeightedGraph::from_edges(2, [(0, 1, -0.5)]).err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.starts_with("edge (0, 1) has weight -0.5"), "{text}");
    assert!(!text.ends_with('.'));
    assert_eq!(
        GraphError::NodeOutOfRange { node: 3, node_count: 3 }.to_string(),
        "node 3 is out of range for a graph of 3 nodes"
    );

    let graph = WeightedGraph::from_edges(2, [(0, 1, 1.0)]);
    let length = graph.map(|g| Leiden::new().run_from(&g, &[0, 1, 2]).err());
    assert_eq!(length, Ok(Some(GraphError::MembershipLength { expected: 2, found: 3 })));
}

#[test]
fn graph_accessors_follow_the_conventions() -> TestResult {
    let graph =
        WeightedGraph::from_edges(4, [(1, 0, 1.0), (0, 1, 2.0), (2, 2, 1.5), (1, 2, 0.0), (3, 1, 1.0)])?;
    assert_eq!(graph.node_count(), 4);
    assert_eq!(graph.edge_count(), 3);
    assert_eq!(graph.total_weight(), 5.5);
    assert_eq!(graph.neighbors(1).collect::<Vec<_>>(), vec![(0, 3.0), (3, 1.0)]);
    assert_eq!(graph.neighbors(9).count(), 0);
    assert_eq!(graph.strength(2), 3.0);
    assert_eq!(graph.strength(1), 4.0);
    assert_eq!(graph.strength(7), 0.0);
    assert_eq!(graph.self_loop(2), 1.5);
    Ok(())
}

#[test]
fn modularity_matches_hand_computation() -> TestResult {
    // Path 0-1-2-3 split in halves: e = 1 per side, K = 3 per side, m = 3.
    let graph = WeightedGraph::from_edges(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)])?;
    let expected = 2.0 * (1.0 / 3.0 - (3.0f64 / 6.0).powi(2));
    assert!((modularity(&graph, &[0, 0, 1, 1]) - expected).abs() < 1e-15);
    assert!((quality(&graph, &[7, 7, 1000, 1000], Quality::Modularity, 1.0) - expected).abs() < 1e-15);
    // CPM: 1 - 0.5 * 1 per side.
    assert_eq!(quality(&graph, &[0, 0, 1, 1], Quality::Cpm, 0.5), 1.0);
    assert!(quality(&graph, &[0, 0], Quality::Modularity, 1.0).is_nan());
    Ok(())
}

#[test]
fn cpm_with_high_resolution_gives_singletons() -> TestResult {
    let graph = karate()?;
    let partition = Leiden::new().quality(Quality::Cpm).resolution(1.5).run(&graph);
    assert_eq!(partition.community_count(), 34);
    assert_eq!(partition.quality(), 0.0);
    Ok(())
}

#[test]
fn cpm_with_vanishing_resolution_gives_one_community() -> TestResult {
    for graph in [karate()?, cliques(10, 4, false)?] {
        for gamma in [0.0, 1e-6] {
            let partition = Leiden::new().quality(Quality::Cpm).resolution(gamma).run(&graph);
            assert_eq!(partition.community_count(), 1, "γ = {gamma}");
        }
    }
    Ok(())
}

#[test]
fn resolution_controls_community_size() -> TestResult {
    let graph = karate()?;
    let coarse = Leiden::new().resolution(0.3).run(&graph).community_count();
    let fine = Leiden::new().resolution(3.0).run(&graph).community_count();
    assert!(coarse < fine, "{coarse} vs {fine}");
    Ok(())
}

#[test]
fn same_seed_same_partition_and_settings_are_sanitised() -> TestResult {
    let graph = cliques(12, 4, true)?;
    let a = Leiden::new().seed(99).run(&graph);
    assert_eq!(a, Leiden::new().seed(99).run(&graph));
    // Nonsense settings never panic.
    for (gamma, theta) in [(f64::NAN, f64::NAN), (-1.0, -1.0), (f64::INFINITY, f64::INFINITY)] {
        let p = Leiden::new().resolution(gamma).randomness(theta).run(&graph);
        assert_eq!(p.membership().len(), graph.node_count());
    }
    let greedy = Leiden::new().randomness(0.0).max_iterations(1).run(&graph);
    assert!(greedy.quality() > 0.5);
    Ok(())
}

#[test]
fn run_from_a_good_partition_keeps_it() -> TestResult {
    let graph = cliques(4, 5, true)?;
    let initial: Vec<u32> = (0..20).map(|v| v / 5 + 10).collect();
    let partition = Leiden::new().run_from(&graph, &initial)?;
    let expected: Vec<u32> = (0..20).map(|v| v / 5).collect();
    assert_eq!(partition.membership(), expected.as_slice());
    Ok(())
}

#[test]
fn tolerance_settings_are_sanitised_and_zero_iterates_until_stable() -> TestResult {
    use sellerlink::leiden::DEFAULT_TOLERANCE;
    for bad in [f64::NAN, -1.0, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Leiden::new().tolerance(bad).tolerance_value(), DEFAULT_TOLERANCE);
    }
    assert_eq!(Leiden::new().tolerance(0.25).tolerance_value(), 0.25);
    let graph = planted(6_000, 4, 3)?;
    // Tolerance 0 iterates until an iteration changes nothing.
    let stable = Leiden::new().tolerance(0.0).seed(2).run(&graph);
    assert!(best_modularity_move(&graph, stable.membership(), 1.0) <= 1e-12);
    // The default stops earlier, at a quality within a few tolerances of it.
    let tolerant = Leiden::new().seed(2).run(&graph);
    assert!(tolerant.quality() >= stable.quality() - 20.0 * DEFAULT_TOLERANCE);
    assert!(best_modularity_move(&graph, tolerant.membership(), 1.0) <= 1e-12);
    Ok(())
}

#[test]
fn settings_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Leiden>();
    check::<WeightedGraph>();
    check::<Partition>();
}

/// The same seed gives the same partition whatever the number of threads: a large component
/// (colour-class local moving with parallel proposals, parallel refinement and aggregation)
/// next to many small ones (solved in parallel), for modularity and CPM, with the default
/// tolerance and until stable.
#[cfg(feature = "rayon")]
#[test]
fn results_do_not_depend_on_the_thread_count() -> TestResult {
    let big = planted(24_000, 3, 11)?;
    let mut edges: Vec<(u32, u32, f64)> = Vec::new();
    for v in 0..big.node_count() as u32 {
        edges.extend(big.neighbors(v).filter(|&(u, _)| v < u).map(|(u, w)| (v, u, w)));
    }
    // 300 small rings of 7 nodes after the large component.
    let base = big.node_count() as u32;
    for r in 0..300u32 {
        for i in 0..7u32 {
            edges.push((base + 7 * r + i, base + 7 * r + (i + 1) % 7, 1.0 + f64::from(i % 3)));
        }
    }
    let graph = WeightedGraph::from_edges(base as usize + 2_100, edges)?;
    for leiden in [
        Leiden::new().seed(9),
        Leiden::new().seed(9).tolerance(0.0),
        Leiden::new().seed(4).quality(Quality::Cpm).resolution(0.05),
    ] {
        let mut results = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            results.push(pool.install(|| leiden.run(&graph)));
        }
        assert_eq!(results[0], results[1], "1 thread against 2");
        assert_eq!(results[0], results[2], "1 thread against 3");
        assert!(communities_connected(&graph, &results[0]));
    }
    Ok(())
}
