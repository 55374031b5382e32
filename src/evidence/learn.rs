//! Learning how strongly each kind of shared artifact indicates one operator, without labels.
//!
//! **Method: Fellegi–Sunter, with `m` and `u` estimated by expectation–maximisation** (Winkler
//! 1988; the approach of Splink). A *candidate pair* is two accounts that share a linking
//! artifact (not suppressed, not detached). For each candidate pair and each *evidence field*
//! (an evidence group, or a kind on its own), the comparison is whether the two accounts share
//! an artifact of that field. The pairs are a mixture of two classes, one operator (`M`) and
//! different operators (`U`); assuming fields independent within a class, EM estimates the
//! share `λ` of `M` and, per field, `m = P(share | M)` and `u = P(share | U)`. A pair that
//! shares an artifact of one field and nothing else then has the posterior
//! `P(M | pattern) = σ(logit λ + log(m/u) + Σ_other log((1 − m')/(1 − u')))`, the field's
//! *posterior*: agreement where one operator usually agrees counts for, and its absence
//! against.
//!
//! Why this: a kind is discriminating when sharing it goes with sharing other evidence, which
//! is exactly what the mixture separates; it needs no labels, its assumptions are explicit,
//! and its output (a probability per kind) is what an investigator can read. Its weakness,
//! dependent fields counted twice, is handled before it runs: a custom kind derived from
//! another (a `surname+postcode` kind beside `surname`) joins that kind's evidence group, so
//! the two are one field. A kind is *derived* from another when at least 95 % of its shared
//! artifacts (at least ten of them) have all their accounts inside one artifact of the other.
//! Location kinds are grouped by the policy's priors (`wifi`, `ip` and `address` are one place
//! seen three ways).
//!
//! What it decides: a kind links on its own when its posterior is at least one half, and
//! needs corroboration otherwise; a custom kind (one the user names) also weighs its posterior
//! in community detection, while built-in kinds keep their prior weights (their meaning is
//! known; the prior is also where the estimate starts). Frequency enters through the rarity weight `w · ln 2 / ln d` that
//! every shared artifact of `d` accounts gets, and through coherence, which suppresses common
//! values whose accounts are otherwise unrelated.
//!
//! Cost: at most [`PAIRS_PER_ARTIFACT`] pairs per artifact (consecutive accounts in name
//! order), at most [`MAX_PAIRS`] in all (a deterministic subsample by a hash of the pair's
//! names), each compared by looking the shorter of two accounts' artifact lists up in the
//! longer; EM runs on the distinct comparison patterns, a few hundred at most. Derivation
//! reads, per shared artifact, the artifact list of its account with the fewest (skipped
//! beyond [`DERIVED_SCAN`]), so a hub account costs no more than its own size.

use std::collections::BTreeMap;

use super::{Evidence, policy::Strength};
use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId, KindId};
use crate::intern::{Interner, NameOrder};
use crate::kind::Kinds;

/// The most candidate pairs one artifact contributes.
pub(crate) const PAIRS_PER_ARTIFACT: usize = 4;

/// The most candidate pairs the estimate reads.
pub(crate) const MAX_PAIRS: usize = 1 << 20;

/// The least share of a kind's shared artifacts contained in one artifact of another kind for
/// it to count as derived from that kind.
const DERIVED: f64 = 0.95;

/// The fewest shared artifacts a kind needs before it can count as derived.
const DERIVED_MIN: usize = 10;

/// The most artifacts read to tell whether one shared artifact lies inside another: an
/// artifact whose every account holds more is left out of the derivation counts (its accounts
/// are hubs of their own; reading them for each artifact they share would cost the square of
/// their size).
const DERIVED_SCAN: usize = 1024;

/// EM iterations at most, and the change in `λ` that stops them.
const EM_ITERATIONS: usize = 200;
const EM_TOLERANCE: f64 = 1e-9;

/// What the estimate says of one field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct FieldEstimate {
    pub(crate) m: f64,
    pub(crate) u: f64,
}

/// The outcome of learning on one graph.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Estimate {
    /// The share of candidate pairs in the one-operator class.
    pub(crate) lambda: f64,
    /// The candidate pairs read.
    pub(crate) pairs: u64,
    /// Per kind id: the evidence field it belongs to (index into `fields`).
    pub(crate) field_of: Vec<usize>,
    /// Per field: its estimate.
    pub(crate) fields: Vec<FieldEstimate>,
    /// Per field: of the candidate pairs that share it, the share that also share another
    /// field.
    pub(crate) corroborated: Vec<f64>,
    /// Per kind id: the kind it is derived from, if any.
    pub(crate) derived_from: Vec<Option<KindId>>,
}

impl Estimate {
    /// Of the candidate pairs that share kind `k`'s field, the share that also share another.
    pub(crate) fn corroborated(&self, k: usize) -> f64 {
        self.corroborated[self.field_of[k]]
    }

    /// The posterior of one operator for a candidate pair that shares an artifact of kind
    /// `k`'s field and of no other field (the comparison pattern with that field alone on).
    pub(crate) fn posterior(&self, k: usize) -> f64 {
        let own = self.field_of[k];
        let mut logit = (self.lambda / (1.0 - self.lambda)).ln();
        for (g, e) in self.fields.iter().enumerate() {
            logit += if g == own { (e.m / e.u).ln() } else { ((1.0 - e.m) / (1.0 - e.u)).ln() };
        }
        1.0 / (1.0 + (-logit).exp())
    }
}

/// A set of kind ids, one bit each (an index holds at most [`crate::kind::MAX_KINDS`] kinds).
pub(crate) type KindSet = [u64; 4];

/// Per (k2, k1), flattened `k2 · n + k1`: the shared artifacts of kind `k2` that lie inside one
/// artifact of kind `k1`; and per `k2`: its shared artifacts read. Sums over disjoint pieces of
/// a graph add up to the whole graph's counts.
pub(crate) fn derivation(
    graph: &Graph,
    n: usize,
    usable: &(impl Fn(ArtifactId) -> bool + Sync),
) -> (Vec<u64>, Vec<u64>) {
    by_chunks(
        graph.artifact_count(),
        || (vec![0u64; n * n], vec![0u64; n]),
        |(mut inside, mut shared), ids| {
            let mut seen = vec![false; n];
            for f in ids.map(ArtifactId::from_u32) {
                let accounts = graph.accounts_of(f);
                if accounts.len() < 2 || !usable(f) {
                    continue;
                }
                // An artifact inside `f`'s accounts' common artifact lies in every one of
                // their lists: reading the shortest finds them all.
                let fewest = accounts.iter().map(|&a| graph.artifacts_of(a)).min_by_key(|l| l.len());
                let Some(fewest) = fewest.filter(|l| l.len() <= DERIVED_SCAN) else { continue };
                let k2 = graph.kind(f).as_usize();
                shared[k2] += 1;
                seen.fill(false);
                for &g in fewest {
                    let k1 = graph.kind(g).as_usize();
                    if k1 == k2 || seen[k1] || graph.degree(g) < accounts.len() as u32 {
                        continue;
                    }
                    let within = graph.accounts_of(g);
                    if accounts.iter().all(|a| within.binary_search(a).is_ok()) {
                        seen[k1] = true;
                        inside[k2 * n + k1] += 1;
                    }
                }
            }
            (inside, shared)
        },
        |(mut i1, mut s1), (i2, s2)| {
            i1.iter_mut().zip(i2).for_each(|(x, y)| *x += y);
            s1.iter_mut().zip(s2).for_each(|(x, y)| *x += y);
            (i1, s1)
        },
    )
}

/// Which kinds are derived from which, from the [`derivation`] counts: kind `k2` from `k1`
/// when most of `k2`'s shared artifacts lie inside one artifact of `k1`.
fn derived(n: usize, inside: &[u64], shared: &[u64]) -> Vec<Option<KindId>> {
    (0..n)
        .map(|k2| {
            let shared = shared.get(k2).copied().unwrap_or(0);
            if shared < DERIVED_MIN as u64 {
                return None;
            }
            let inside = |k1: usize| inside.get(k2 * n + k1).copied().unwrap_or(0);
            (0..n)
                .filter(|&k1| k1 != k2 && inside(k1) as f64 >= DERIVED * shared as f64)
                .max_by_key(|&k1| (inside(k1), std::cmp::Reverse(k1)))
                .map(KindId::must)
        })
        .collect()
}

/// The candidate pairs of `graph` under `evidence`: consecutive accounts in name order within
/// each linking artifact (at most [`PAIRS_PER_ARTIFACT`] per artifact), sorted, distinct.
pub(crate) fn candidate_pairs(
    graph: &Graph,
    evidence: &Evidence,
    order: &NameOrder,
) -> Vec<(AccountId, AccountId)> {
    let usable = |f: ArtifactId| !evidence.is_suppressed(f);
    let mut pairs: Vec<(AccountId, AccountId)> = by_chunks(
        graph.artifact_count(),
        Vec::new,
        |mut pairs, ids| {
            let mut by_name: Vec<AccountId> = Vec::new();
            for f in ids.map(ArtifactId::from_u32) {
                let members = graph.accounts_of(f);
                if members.len() < 2 || !usable(f) {
                    continue;
                }
                by_name.clear();
                by_name.extend(members.iter().copied().filter(|&a| !evidence.is_detached(f, a)));
                if !order.is_identity() {
                    by_name.sort_unstable_by_key(|&a| order.rank(a));
                }
                for w in by_name.windows(2).take(PAIRS_PER_ARTIFACT) {
                    let (a, b) = if w[0] < w[1] { (w[0], w[1]) } else { (w[1], w[0]) };
                    pairs.push((a, b));
                }
            }
            pairs
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    );
    crate::graph::sort_unstable(&mut pairs);
    pairs.dedup();
    pairs
}

/// One in how many candidate pairs the estimate reads, when there are `total` in all: 1 up to
/// [`MAX_PAIRS`], then enough to read about that many.
pub(crate) fn keep_one_in(total: u64) -> u64 {
    if total > MAX_PAIRS as u64 { total.div_ceil(MAX_PAIRS as u64) } else { 1 }
}

/// Keeps the pairs whose names hash to 0 modulo `keep`: the same pairs whatever the ids, and
/// whatever piece of the observations holds them.
pub(crate) fn subsample(pairs: &mut Vec<(AccountId, AccountId)>, keep: u64, accounts: &Interner) {
    if keep > 1 {
        pairs.retain(|&(a, b)| {
            let h = fnv(accounts.get(a.as_u32())) ^ fnv(accounts.get(b.as_u32())).rotate_left(17);
            h % keep == 0
        });
    }
}

/// The comparison pattern of each pair, as the set of kinds whose linking artifacts the two
/// share, counted.
pub(crate) fn kind_patterns(
    graph: &Graph,
    evidence: &Evidence,
    pairs: &[(AccountId, AccountId)],
) -> BTreeMap<KindSet, u64> {
    let usable = |f: ArtifactId| !evidence.is_suppressed(f);
    // The shared artifacts of a pair: the shorter list looked up in the longer (by a
    // forward-only binary search), so a hub paired with many small accounts costs each pair
    // the small one's length times a logarithm, not the hub's length.
    let compare = |(x, y): (AccountId, AccountId)| -> KindSet {
        let (ax, ay) = (graph.artifacts_of(x), graph.artifacts_of(y));
        let (short, long) = if ax.len() <= ay.len() { (ax, ay) } else { (ay, ax) };
        let (mut rest, mut set) = (long, KindSet::default());
        for &f in short {
            let at = rest.partition_point(|&g| g < f);
            rest = &rest[at..];
            match rest.first() {
                None => break,
                Some(&g) if g == f => {
                    if usable(f) && !evidence.is_detached(f, x) && !evidence.is_detached(f, y) {
                        let k = graph.kind(f).as_usize();
                        set[k / 64] |= 1 << (k % 64);
                    }
                    rest = &rest[1..];
                }
                Some(_) => {}
            }
        }
        set
    };
    by_chunks(
        pairs.len(),
        BTreeMap::new,
        |mut counts: BTreeMap<KindSet, u64>, at| {
            for i in at {
                *counts.entry(compare(pairs[i as usize])).or_default() += 1;
            }
            counts
        },
        |mut a, b| {
            for (set, count) in b {
                *a.entry(set).or_default() += count;
            }
            a
        },
    )
}

/// What the estimate reads, summed over the graph (or over disjoint pieces of it): the
/// [`derivation`] counts, the comparison patterns of the subsampled candidate pairs and how
/// many pairs those are.
pub(crate) struct Sums<'s> {
    pub(crate) inside: &'s [u64],
    pub(crate) shared: &'s [u64],
    pub(crate) patterns: &'s BTreeMap<KindSet, u64>,
    pub(crate) pairs: u64,
}

/// Estimates the fields of `evidence` on `graph` (see the [module docs](self)). `custom` says
/// which kinds are custom (only they may be derived from another kind).
pub(crate) fn estimate(
    graph: &Graph,
    kinds: &Kinds,
    evidence: &Evidence,
    accounts: &Interner,
    order: &NameOrder,
    custom: impl Fn(usize) -> bool,
) -> Estimate {
    let usable = |f: ArtifactId| !evidence.is_suppressed(f);
    let (inside, shared) = derivation(graph, kinds.len(), &usable);
    let mut pairs = candidate_pairs(graph, evidence, order);
    let keep = keep_one_in(pairs.len() as u64);
    subsample(&mut pairs, keep, accounts);
    let patterns = kind_patterns(graph, evidence, &pairs);
    let sums = Sums { inside: &inside, shared: &shared, patterns: &patterns, pairs: pairs.len() as u64 };
    fit(kinds.len(), &evidence.resolved, custom, &sums)
}

/// The estimate from its sums, for `n` kinds resolved as `resolved` (their evidence groups
/// and prior strengths).
pub(crate) fn fit(
    n: usize,
    resolved: &super::Resolved,
    custom: impl Fn(usize) -> bool,
    sums: &Sums<'_>,
) -> Estimate {
    // Fields: the policy's evidence groups, then kinds derived from another join its field.
    let mut derived_from = derived(n, sums.inside, sums.shared);
    for (k, d) in derived_from.iter_mut().enumerate() {
        if !custom(k) {
            *d = None;
        }
    }
    let mut field_of = vec![usize::MAX; n];
    let mut fields_by_group: BTreeMap<u32, usize> = BTreeMap::new();
    let mut next = 0usize;
    let root = |mut k: usize| {
        let mut steps = 0;
        while let Some(p) = derived_from[k] {
            k = p.as_usize();
            steps += 1;
            if steps > n {
                break; // a cycle of derivations: stop anywhere, deterministically
            }
        }
        k
    };
    for k in 0..n {
        let r = root(k);
        let slot = match resolved.group[r] {
            Some(g) => *fields_by_group.entry(g).or_insert_with(|| {
                next += 1;
                next - 1
            }),
            None => {
                if field_of[r] == usize::MAX {
                    field_of[r] = next;
                    next += 1;
                }
                field_of[r]
            }
        };
        field_of[k] = slot;
    }
    let n_fields = next.min(64);
    let field = |k: usize| field_of[k].min(63);

    // Comparison patterns over fields: a pair shares a field when it shares a kind of it.
    let mut patterns: BTreeMap<u64, u64> = BTreeMap::new();
    for (set, &count) in sums.patterns {
        let mut bits = 0u64;
        for k in (0..n.min(64 * set.len())).filter(|&k| set[k / 64] >> (k % 64) & 1 == 1) {
            bits |= 1 << field(k);
        }
        *patterns.entry(bits).or_default() += count;
    }
    let (lambda, fields) = em(&patterns, n_fields, |g| {
        // Start from the priors: fields of strong kinds agree often among one operator's
        // accounts and rarely among strangers'.
        let strong = (0..n).any(|k| field(k) == g && resolved.strength[k] == Strength::Strong);
        if strong { FieldEstimate { m: 0.9, u: 0.05 } } else { FieldEstimate { m: 0.6, u: 0.2 } }
    });
    // Per field: of the pairs that share it, the share that also share another field.
    let mut corroborated = vec![(0u64, 0u64); n_fields];
    for (&bits, &count) in &patterns {
        for (g, c) in corroborated.iter_mut().enumerate() {
            if bits >> g & 1 == 1 {
                c.0 += count;
                if bits & !(1 << g) != 0 {
                    c.1 += count;
                }
            }
        }
    }
    let corroborated =
        corroborated.iter().map(|&(on, with)| if on == 0 { 0.0 } else { with as f64 / on as f64 }).collect();
    Estimate {
        lambda,
        pairs: sums.pairs,
        field_of: (0..n).map(field).collect(),
        fields,
        corroborated,
        derived_from,
    }
}

/// Folds `0..n` in chunks (in parallel with the `rayon` feature) and merges the chunks' results
/// in order, so the result is the same either way.
fn by_chunks<T: Send>(
    n: usize,
    zero: impl Fn() -> T + Sync,
    fold: impl Fn(T, core::ops::Range<u32>) -> T + Sync,
    merge: impl Fn(T, T) -> T + Sync,
) -> T {
    const CHUNK: usize = 1 << 14;
    let chunk = |c: usize| (c * CHUNK) as u32..((c + 1) * CHUNK).min(n) as u32;
    let chunks = n.div_ceil(CHUNK);
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..chunks).into_par_iter().map(|c| fold(zero(), chunk(c))).reduce(&zero, &merge)
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..chunks).fold(zero(), |acc, c| merge(acc, fold(zero(), chunk(c))))
    }
}

/// EM for the two-class mixture over binary fields; returns `λ` and the fields' estimates,
/// the `M` class being the one whose fields agree more.
fn em(
    patterns: &BTreeMap<u64, u64>,
    n: usize,
    start: impl Fn(usize) -> FieldEstimate,
) -> (f64, Vec<FieldEstimate>) {
    let clamp = |p: f64| p.clamp(1e-6, 1.0 - 1e-6);
    let mut fields: Vec<FieldEstimate> = (0..n).map(start).collect();
    let mut lambda = 0.5f64;
    let total: f64 = patterns.values().map(|&c| c as f64).sum();
    if total == 0.0 {
        return (lambda, fields);
    }
    for _ in 0..EM_ITERATIONS {
        let (mut sum_r, mut agree_m, mut agree_u) = (0.0f64, vec![0.0f64; n], vec![0.0f64; n]);
        for (&bits, &count) in patterns {
            let (mut pm, mut pu) = (lambda.ln(), (1.0 - lambda).ln());
            for (g, e) in fields.iter().enumerate() {
                let on = bits >> g & 1 == 1;
                pm += if on { e.m.ln() } else { (1.0 - e.m).ln() };
                pu += if on { e.u.ln() } else { (1.0 - e.u).ln() };
            }
            let r = 1.0 / (1.0 + (pu - pm).exp());
            let c = count as f64;
            sum_r += c * r;
            for g in 0..n {
                if bits >> g & 1 == 1 {
                    agree_m[g] += c * r;
                    agree_u[g] += c * (1.0 - r);
                }
            }
        }
        let next = clamp(sum_r / total);
        for (g, e) in fields.iter_mut().enumerate() {
            e.m = clamp(agree_m[g] / sum_r.max(1e-12));
            e.u = clamp(agree_u[g] / (total - sum_r).max(1e-12));
        }
        let done = (next - lambda).abs() < EM_TOLERANCE;
        lambda = next;
        if done {
            break;
        }
    }
    // Label the classes: the one-operator class agrees more.
    let (sm, su): (f64, f64) = fields.iter().fold((0.0, 0.0), |(a, b), e| (a + e.m, b + e.u));
    if sm < su {
        for e in &mut fields {
            core::mem::swap(&mut e.m, &mut e.u);
        }
        lambda = 1.0 - lambda;
    }
    (lambda, fields)
}

/// FNV-1a 64 of a name (a stable hash: the subsample must not depend on process keys).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_recovers_a_planted_mixture() {
        // Three fields, λ = 0.3, m = (0.9, 0.8, 0.7), u = (0.1, 0.2, 0.05): the expected count
        // of every comparison pattern in a million pairs.
        let (lambda, m, u) = (0.3, [0.9, 0.8, 0.7], [0.1, 0.2, 0.05]);
        let mut patterns = BTreeMap::new();
        for bits in 0u64..8 {
            let p = |probs: &[f64; 3]| -> f64 {
                (0..3).map(|g| if bits >> g & 1 == 1 { probs[g] } else { 1.0 - probs[g] }).product()
            };
            patterns.insert(bits, ((lambda * p(&m) + (1.0 - lambda) * p(&u)) * 1e6).round() as u64);
        }
        let (got, fields) = em(&patterns, 3, |_| FieldEstimate { m: 0.6, u: 0.3 });
        assert!((got - lambda).abs() < 0.01, "{got}");
        for g in 0..3 {
            assert!((fields[g].m - m[g]).abs() < 0.02 && (fields[g].u - u[g]).abs() < 0.02, "{fields:?}");
        }
    }
}
