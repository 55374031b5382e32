//! Clustering quality against ground truth: pairwise precision/recall/F1, adjusted Rand index
//! and per-ring recovery.
//!
//! Both inputs are label vectors aligned by account: `truth[i]` is the true operator of account
//! `i`, `predicted[i]` the cluster a linker put it in. Labels are opaque `u64`s; only equality
//! matters. Everything is computed in `O(n)` expected time from the contingency table (a hash
//! map of `(truth, predicted)` label pairs), never by enumerating account pairs, and pair counts
//! are `u128`, so 20 million accounts (2·10¹⁴ pairs) are no problem.
//!
//! # Metrics
//!
//! * **Pairwise**: a pair of accounts is *predicted* linked when both share a predicted
//!   cluster, *truly* linked when both share an operator. Precision = true linked predicted
//!   pairs / predicted pairs; recall = the same / true pairs; F1 their harmonic mean.
//!   Conventions: with no predicted pairs precision is 1.0 (nothing was claimed, so nothing
//!   wrong was claimed); with no true pairs recall is 1.0; F1 is 0.0 when both are 0.
//! * **Adjusted Rand index** (Hubert & Arabie): 1.0 for identical partitions, ≈ 0 for random
//!   ones, possibly negative. When both partitions are trivial in the same way (all singletons,
//!   or everything in one cluster) the index is undefined (0/0) and reported as 1.0.
//! * **Rings**: for every true ring `R`, `C` is the predicted cluster with the largest overlap
//!   (ties: the smaller cluster, then the smaller label); ring recall is the mean of
//!   `|R ∩ C| / |R|`, ring purity the mean of `|R ∩ C| / |C|`, and a ring is *whole and pure*
//!   when both are ≥ 0.9. With no rings both means are 1.0 (vacuously) and `rings` is 0.
//!   [`score`] treats every true operator with at least 3 accounts as a ring;
//!   [`score_with_rings`] takes the flags from the caller.

use std::fmt;

use ahash::AHashMap;

/// Clustering quality of a prediction against the truth (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use sellerlink::score::score;
/// let s = score(&[1, 1, 1, 2], &[7, 7, 7, 8])?;
/// assert_eq!(s.accounts, 4);
/// assert_eq!((s.pairwise_f1, s.adjusted_rand, s.rings_whole_and_pure), (1.0, 1.0, 1));
/// # Ok::<(), sellerlink::score::ScoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Scores {
    /// Number of accounts scored.
    pub accounts: usize,
    /// Truly linked predicted pairs / predicted pairs (1.0 when nothing is predicted linked).
    pub pairwise_precision: f64,
    /// Truly linked predicted pairs / truly linked pairs (1.0 when no pair is truly linked).
    pub pairwise_recall: f64,
    /// Harmonic mean of pairwise precision and recall (0.0 when both are 0).
    pub pairwise_f1: f64,
    /// Adjusted Rand index (1.0 when both partitions are trivial in the same way).
    pub adjusted_rand: f64,
    /// Mean over rings of the share of the ring found in its best-matching predicted cluster.
    pub ring_recall: f64,
    /// Mean over rings of the share of that best-matching cluster that belongs to the ring.
    pub ring_purity: f64,
    /// Number of true rings.
    pub rings: usize,
    /// Rings whose best-matching cluster has recall ≥ 0.9 and purity ≥ 0.9.
    pub rings_whole_and_pure: usize,
}

/// Why two label vectors cannot be scored.
///
/// # Examples
///
/// ```
/// use sellerlink::score::{ScoreError, score};
/// assert_eq!(score(&[], &[]), Err(ScoreError::Empty));
/// let e = score(&[1, 2], &[1]).expect_err("lengths differ");
/// assert_eq!(e.to_string(), "length mismatch: 2 truth labels but 1 predicted labels");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScoreError {
    /// `truth` and `predicted` have different lengths.
    LengthMismatch {
        /// Length of `truth`.
        truth: usize,
        /// Length of `predicted`.
        predicted: usize,
    },
    /// The ring flags do not have one entry per account.
    RingFlagsMismatch {
        /// Number of accounts.
        accounts: usize,
        /// Length of the ring flags.
        flags: usize,
    },
    /// There are no accounts to score.
    Empty,
}

impl fmt::Display for ScoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreError::LengthMismatch { truth, predicted } => {
                write!(f, "length mismatch: {truth} truth labels but {predicted} predicted labels")
            }
            ScoreError::RingFlagsMismatch { accounts, flags } => {
                write!(f, "length mismatch: {accounts} accounts but {flags} ring flags")
            }
            ScoreError::Empty => f.write_str("no accounts to score"),
        }
    }
}

impl std::error::Error for ScoreError {}

/// Scores a clustering; every true operator with at least 3 accounts counts as a ring.
///
/// # Errors
///
/// [`ScoreError::LengthMismatch`] when the vectors differ in length, [`ScoreError::Empty`] when
/// they are empty.
///
/// # Examples
///
/// ```
/// use sellerlink::score::score;
/// // Truth: {0,1,2} {3,4,5}; prediction splits the first operator and merges the rest.
/// let s = score(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2])?;
/// assert!((s.adjusted_rand - 8.0 / 33.0).abs() < 1e-12);
/// assert!((s.pairwise_precision - 2.0 / 3.0).abs() < 1e-12);
/// assert!((s.pairwise_recall - 2.0 / 6.0).abs() < 1e-12);
/// assert_eq!(s.rings, 2);
/// # Ok::<(), sellerlink::score::ScoreError>(())
/// ```
pub fn score(truth: &[u64], predicted: &[u64]) -> Result<Scores, ScoreError> {
    compute(truth, predicted, None)
}

/// Scores a clustering; the rings are the true operators with at least one flagged account.
///
/// # Errors
///
/// [`ScoreError::LengthMismatch`] or [`ScoreError::RingFlagsMismatch`] when the lengths differ,
/// [`ScoreError::Empty`] when there are no accounts.
///
/// # Examples
///
/// ```
/// use sellerlink::score::score_with_rings;
/// let truth = [1, 1, 2, 2, 3];
/// let predicted = [1, 1, 1, 1, 3];
/// let s = score_with_rings(&truth, &predicted, &[true, true, false, false, false])?;
/// assert_eq!((s.rings, s.ring_recall, s.ring_purity), (1, 1.0, 0.5));
/// assert_eq!(s.rings_whole_and_pure, 0);
/// # Ok::<(), sellerlink::score::ScoreError>(())
/// ```
pub fn score_with_rings(truth: &[u64], predicted: &[u64], is_ring: &[bool]) -> Result<Scores, ScoreError> {
    if is_ring.len() != truth.len() {
        return Err(ScoreError::RingFlagsMismatch { accounts: truth.len(), flags: is_ring.len() });
    }
    compute(truth, predicted, Some(is_ring))
}

/// `n choose 2`.
#[inline]
fn pairs(n: u64) -> u128 {
    u128::from(n) * u128::from(n.saturating_sub(1)) / 2
}

/// Dense ids for labels in first-seen order.
fn densify(labels: &[u64]) -> (Vec<u32>, usize) {
    let mut ids: AHashMap<u64, u32> = AHashMap::with_capacity(labels.len().min(1 << 20));
    let dense = labels
        .iter()
        .map(|&l| {
            let next = ids.len() as u32;
            *ids.entry(l).or_insert(next)
        })
        .collect();
    (dense, ids.len())
}

fn compute(truth: &[u64], predicted: &[u64], is_ring: Option<&[bool]>) -> Result<Scores, ScoreError> {
    if truth.len() != predicted.len() {
        return Err(ScoreError::LengthMismatch { truth: truth.len(), predicted: predicted.len() });
    }
    if truth.is_empty() {
        return Err(ScoreError::Empty);
    }
    let n = truth.len();
    let (t, nt) = densify(truth);
    let (p, np) = densify(predicted);

    let mut truth_size = vec![0u64; nt];
    let mut pred_size = vec![0u64; np];
    let mut ring = vec![false; nt];
    let mut cells: AHashMap<(u32, u32), u64> = AHashMap::with_capacity(n.min(1 << 20));
    for i in 0..n {
        truth_size[t[i] as usize] += 1;
        pred_size[p[i] as usize] += 1;
        *cells.entry((t[i], p[i])).or_insert(0) += 1;
        if let Some(flags) = is_ring {
            ring[t[i] as usize] |= flags[i];
        }
    }
    if is_ring.is_none() {
        for (r, &size) in ring.iter_mut().zip(&truth_size) {
            *r = size >= 3;
        }
    }

    // Pair counts.
    let both: u128 = cells.values().map(|&c| pairs(c)).sum();
    let true_pairs: u128 = truth_size.iter().map(|&c| pairs(c)).sum();
    let pred_pairs: u128 = pred_size.iter().map(|&c| pairs(c)).sum();
    let all = pairs(n as u64);

    let precision = if pred_pairs == 0 { 1.0 } else { both as f64 / pred_pairs as f64 };
    let recall = if true_pairs == 0 { 1.0 } else { both as f64 / true_pairs as f64 };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    let (tp, pp, bb, aa) = (true_pairs as f64, pred_pairs as f64, both as f64, all as f64);
    let expected = if all == 0 { 0.0 } else { tp * pp / aa };
    let max = (tp + pp) / 2.0;
    let adjusted_rand = if (true_pairs == 0 && pred_pairs == 0) || (true_pairs == all && pred_pairs == all) {
        1.0
    } else {
        (bb - expected) / (max - expected)
    };

    // Best predicted cluster of every true ring: (overlap, cluster size, cluster id).
    let mut best: Vec<Option<(u64, u64, u32)>> = vec![None; nt];
    for (&(ti, pi), &overlap) in &cells {
        if !ring[ti as usize] {
            continue;
        }
        let size = pred_size[pi as usize];
        let candidate = (overlap, size, pi);
        let slot = &mut best[ti as usize];
        let better = match *slot {
            None => true,
            Some((o, s, id)) => overlap > o || overlap == o && (size < s || size == s && pi < id),
        };
        if better {
            *slot = Some(candidate);
        }
    }
    let (mut rings, mut whole, mut recall_sum, mut purity_sum) = (0usize, 0usize, 0.0, 0.0);
    for (ti, b) in best.iter().enumerate() {
        if let Some((overlap, size, _)) = *b {
            let r = overlap as f64 / truth_size[ti] as f64;
            let q = overlap as f64 / size as f64;
            rings += 1;
            recall_sum += r;
            purity_sum += q;
            if r >= 0.9 && q >= 0.9 {
                whole += 1;
            }
        }
    }
    let mean = |sum: f64| if rings == 0 { 1.0 } else { sum / rings as f64 };

    Ok(Scores {
        accounts: n,
        pairwise_precision: precision,
        pairwise_recall: recall,
        pairwise_f1: f1,
        adjusted_rand,
        ring_recall: mean(recall_sum),
        ring_purity: mean(purity_sum),
        rings,
        rings_whole_and_pure: whole,
    })
}
