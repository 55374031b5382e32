//! Clustering scores: hand-computed cases and agreement with a naive O(n²) reference.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sellerlink::score::{ScoreError, Scores, score, score_with_rings};

/// The metrics of [`Scores`] as a tuple, computed the slow way: every pair of accounts, and
/// every (ring, cluster) combination.
#[derive(Debug)]
struct Naive {
    precision: f64,
    recall: f64,
    f1: f64,
    ari: f64,
    ring_recall: f64,
    ring_purity: f64,
    rings: usize,
    whole: usize,
}

fn naive(truth: &[u64], predicted: &[u64], is_ring: Option<&[bool]>) -> Naive {
    let n = truth.len();
    // Pair counts: a = linked in both, b = truth only, c = prediction only, d = neither.
    let (mut a, mut b, mut c, mut d) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..n {
        for j in i + 1..n {
            match (truth[i] == truth[j], predicted[i] == predicted[j]) {
                (true, true) => a += 1.0,
                (true, false) => b += 1.0,
                (false, true) => c += 1.0,
                (false, false) => d += 1.0,
            }
        }
    }
    let precision = if a + c == 0.0 { 1.0 } else { a / (a + c) };
    let recall = if a + b == 0.0 { 1.0 } else { a / (a + b) };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    // Hubert–Arabie ARI in its pair-counting form.
    let denominator = (a + b) * (b + d) + (a + c) * (c + d);
    let ari = if denominator == 0.0 { 1.0 } else { 2.0 * (a * d - b * c) / denominator };

    let operators: BTreeSet<u64> = truth.iter().copied().collect();
    let clusters: BTreeSet<u64> = predicted.iter().copied().collect();
    let (mut rings, mut whole, mut rr, mut rp) = (0, 0, 0.0, 0.0);
    for &op in &operators {
        let members: Vec<usize> = (0..n).filter(|&i| truth[i] == op).collect();
        let ring = match is_ring {
            Some(flags) => members.iter().any(|&i| flags[i]),
            None => members.len() >= 3,
        };
        if !ring {
            continue;
        }
        // Best cluster: largest overlap, then smallest cluster.
        let mut best = (0usize, usize::MAX);
        for &cl in &clusters {
            let overlap = members.iter().filter(|&&i| predicted[i] == cl).count();
            let size = predicted.iter().filter(|&&p| p == cl).count();
            if overlap > best.0 || overlap == best.0 && size < best.1 {
                best = (overlap, size);
            }
        }
        let (r, p) = (best.0 as f64 / members.len() as f64, best.0 as f64 / best.1 as f64);
        rings += 1;
        rr += r;
        rp += p;
        if r >= 0.9 && p >= 0.9 {
            whole += 1;
        }
    }
    let mean = |s: f64| if rings == 0 { 1.0 } else { s / rings as f64 };
    Naive { precision, recall, f1, ari, ring_recall: mean(rr), ring_purity: mean(rp), rings, whole }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn agrees(s: &Scores, n: &Naive) -> bool {
    close(s.pairwise_precision, n.precision)
        && close(s.pairwise_recall, n.recall)
        && close(s.pairwise_f1, n.f1)
        && close(s.adjusted_rand, n.ari)
        && close(s.ring_recall, n.ring_recall)
        && close(s.ring_purity, n.ring_purity)
        && s.rings == n.rings
        && s.rings_whole_and_pure == n.whole
}

fn labels() -> impl Strategy<Value = Vec<(u64, u64, bool)>> {
    prop::collection::vec((0u64..7, 0u64..7, any::<bool>()), 1..60)
}

proptest! {
    #[test]
    fn agrees_with_the_naive_reference(rows in labels()) {
        let truth: Vec<u64> = rows.iter().map(|r| r.0).collect();
        let predicted: Vec<u64> = rows.iter().map(|r| r.1).collect();
        let s = score(&truth, &predicted).expect("valid input");
        let n = naive(&truth, &predicted, None);
        prop_assert!(agrees(&s, &n), "{s:?} vs {n:?}");
        prop_assert_eq!(s.accounts, truth.len());
    }

    #[test]
    fn agrees_with_the_naive_reference_on_flagged_rings(rows in labels()) {
        let truth: Vec<u64> = rows.iter().map(|r| r.0).collect();
        let predicted: Vec<u64> = rows.iter().map(|r| r.1).collect();
        let flags: Vec<bool> = rows.iter().map(|r| r.2).collect();
        let s = score_with_rings(&truth, &predicted, &flags).expect("valid input");
        let n = naive(&truth, &predicted, Some(&flags));
        prop_assert!(agrees(&s, &n), "{s:?} vs {n:?}");
    }

    #[test]
    fn labels_are_opaque_and_ari_is_symmetric(rows in labels(), salt in any::<u64>()) {
        let truth: Vec<u64> = rows.iter().map(|r| r.0).collect();
        let predicted: Vec<u64> = rows.iter().map(|r| r.1).collect();
        let renamed: Vec<u64> = predicted.iter().map(|p| p.wrapping_mul(0x9e37_79b9).wrapping_add(salt)).collect();
        let a = score(&truth, &predicted).expect("valid input");
        let b = score(&truth, &renamed).expect("valid input");
        prop_assert_eq!(&a, &b);
        let swapped = score(&predicted, &truth).expect("valid input");
        prop_assert!(close(a.adjusted_rand, swapped.adjusted_rand));
        prop_assert!(close(a.pairwise_precision, swapped.pairwise_recall));
        prop_assert!(a.adjusted_rand <= 1.0 + 1e-12);
        for v in [a.pairwise_precision, a.pairwise_recall, a.pairwise_f1, a.ring_recall, a.ring_purity] {
            prop_assert!((0.0..=1.0).contains(&v));
        }
    }
}

#[test]
fn perfect_clustering_scores_one_everywhere() {
    let truth = [5, 5, 5, 9, 9, 1, 2, 2, 2, 2];
    let predicted = [70, 70, 70, 3, 3, 8, 4, 4, 4, 4];
    let s = score(&truth, &predicted).expect("valid input");
    assert_eq!(s.accounts, 10);
    assert_eq!(
        (s.pairwise_precision, s.pairwise_recall, s.pairwise_f1, s.adjusted_rand),
        (1.0, 1.0, 1.0, 1.0)
    );
    assert_eq!((s.ring_recall, s.ring_purity), (1.0, 1.0));
    assert_eq!((s.rings, s.rings_whole_and_pure), (2, 2));
}

#[test]
fn all_singletons() {
    let truth = [1, 1, 1, 2, 2, 3];
    let predicted = [10, 11, 12, 13, 14, 15];
    let s = score(&truth, &predicted).expect("valid input");
    // No predicted pairs: precision is 1.0 by convention, recall 0.
    assert_eq!((s.pairwise_precision, s.pairwise_recall, s.pairwise_f1), (1.0, 0.0, 0.0));
    assert!(close(s.adjusted_rand, 0.0));
    // One ring {0,1,2}: best cluster holds one of its three accounts, and nothing else.
    assert_eq!(s.rings, 1);
    assert!(close(s.ring_recall, 1.0 / 3.0));
    assert_eq!((s.ring_purity, s.rings_whole_and_pure), (1.0, 0));
}

#[test]
fn everything_in_one_cluster() {
    let truth = [1, 1, 1, 2, 2, 3];
    let predicted = [0; 6];
    let s = score(&truth, &predicted).expect("valid input");
    // 4 true pairs out of 15 predicted.
    assert!(close(s.pairwise_precision, 4.0 / 15.0));
    assert_eq!(s.pairwise_recall, 1.0);
    assert!(close(s.pairwise_f1, 2.0 * (4.0 / 15.0) / (4.0 / 15.0 + 1.0)));
    assert!(close(s.adjusted_rand, 0.0));
    assert_eq!((s.rings, s.ring_recall), (1, 1.0));
    assert!(close(s.ring_purity, 0.5));
}

#[test]
fn known_adjusted_rand_values() {
    // The classic example: ARI([0,0,1,1], [0,0,1,2]) = 4/7.
    let s = score(&[0, 0, 1, 1], &[0, 0, 1, 2]).expect("valid input");
    assert!(close(s.adjusted_rand, 4.0 / 7.0), "{}", s.adjusted_rand);
    assert_eq!((s.pairwise_precision, s.pairwise_recall), (1.0, 0.5));
    // Contingency [[2,1,0],[0,1,2]]: index 2, expected 6·3/15 = 1.2, max 4.5 → 0.8/3.3.
    let s = score(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]).expect("valid input");
    assert!(close(s.adjusted_rand, 8.0 / 33.0), "{}", s.adjusted_rand);
    // A split can score below chance.
    let s = score(&[0, 0, 1, 1], &[0, 1, 0, 1]).expect("valid input");
    assert!(s.adjusted_rand < 0.0);
    assert!(close(s.adjusted_rand, -0.5));
}

#[test]
fn degenerate_partitions() {
    // Both all singletons, both one cluster, a single account: ARI 0/0 is reported as 1.
    for (t, p) in [(vec![1, 2, 3], vec![4, 5, 6]), (vec![1, 1, 1], vec![2, 2, 2]), (vec![1], vec![1])] {
        let s = score(&t, &p).expect("valid input");
        assert_eq!((s.adjusted_rand, s.pairwise_precision, s.pairwise_recall), (1.0, 1.0, 1.0));
    }
    let s = score(&[1, 2], &[3, 4]).expect("valid input");
    assert_eq!((s.rings, s.ring_recall, s.ring_purity), (0, 1.0, 1.0));
}

#[test]
fn ring_flags_choose_the_rings() {
    let truth = [1, 1, 2, 2, 2, 3];
    let predicted = [1, 1, 2, 2, 9, 3];
    let s =
        score_with_rings(&truth, &predicted, &[true, false, false, false, false, true]).expect("valid input");
    // Rings: operator 1 (found whole and pure) and operator 3 (a singleton, found).
    assert_eq!((s.rings, s.rings_whole_and_pure), (2, 2));
    let s = score(&truth, &predicted).expect("valid input");
    // Default: operator 2 (3 accounts) is the only ring; 2 of its 3 accounts are together.
    assert_eq!((s.rings, s.rings_whole_and_pure), (1, 0));
    assert!(close(s.ring_recall, 2.0 / 3.0));
    assert_eq!(s.ring_purity, 1.0);
}

#[test]
fn errors_are_reported() {
    assert_eq!(score(&[], &[]), Err(ScoreError::Empty));
    assert_eq!(score(&[1, 2, 3], &[1, 2]), Err(ScoreError::LengthMismatch { truth: 3, predicted: 2 }));
    let e = score_with_rings(&[1, 2], &[1, 2], &[true]).expect_err("flags too short");
    assert_eq!(e, ScoreError::RingFlagsMismatch { accounts: 2, flags: 1 });
    for e in [e, ScoreError::Empty] {
        let msg = e.to_string();
        assert!(msg.chars().next().is_some_and(char::is_lowercase), "{msg}");
        let _: &dyn std::error::Error = &e;
    }
}

#[test]
fn large_clusters_count_pairs_without_overflow() {
    // 200 000 accounts in one predicted cluster: 2·10¹⁰ pairs, beyond u32.
    let n = 200_000u64;
    let truth: Vec<u64> = (0..n).map(|i| i / 100).collect();
    let predicted = vec![0u64; n as usize];
    let s = score(&truth, &predicted).expect("valid input");
    let true_pairs = (n / 100) as f64 * 4950.0;
    let all = n as f64 * (n - 1) as f64 / 2.0;
    assert!(close(s.pairwise_precision, true_pairs / all));
    assert_eq!(s.pairwise_recall, 1.0);
    assert_eq!(s.rings, (n / 100) as usize);
}
