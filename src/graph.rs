//! The frozen bipartite graph: accounts ↔ artifacts in compact CSR arrays both ways.
//!
//! The third stage of the pipeline: built once from the builder's edge list and never mutated.
//! Per distinct `(account, artifact)` pair it holds one id on each side (8 bytes); when the input
//! has timestamps it also holds each artifact's distinct `(timestamp, account)` uses sorted by
//! time (12 bytes per use). Per account and per artifact it holds a `u32` offset, and per
//! artifact its kind (`u32`). Nothing here is a hash map: every lookup is an index into an
//! array, and every list is a typed slice ([`AccountId`]s of an artifact, [`ArtifactId`]s of an
//! account) sorted by id.
//!
//! An account without any use (one that an update removed) has an empty row.
//!
//! Limits: at most `u32::MAX` edges and uses (about four billion observations).

use crate::id::{AccountId, ArtifactId, Dense, KindId};

/// Timestamp value meaning "no timestamp given".
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// b.add("s1", "email", "a@b.c", None)?;
/// let index = b.build()?;
/// let f = index.artifact("email", "a@b.c").expect("known");
/// assert_eq!(index.graph().uses(f).next().map(|u| u.time), Some(sellerlink::graph::NO_TIME));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const NO_TIME: i64 = i64::MIN;

/// One observation after interning: who used what, when ([`NO_TIME`] if unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Edge {
    /// The artifact (sorted first, so that edges group by artifact).
    pub(crate) artifact: u32,
    /// When, in unix seconds, or [`NO_TIME`].
    pub(crate) time: i64,
    /// The account.
    pub(crate) account: u32,
}

/// The graph would need more than 32-bit offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooManyEdges;

/// The frozen bipartite graph. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// b.add("s1", "device", "laptop", None)?;
/// b.add("s2", "device", "laptop", None)?;
/// let index = b.build()?;
/// let laptop = index.artifact("device", "laptop").expect("known");
/// let g = index.graph();
/// assert_eq!(g.accounts_of(laptop), &[index.account("s1").expect("known"), index.account("s2").expect("known")]);
/// assert_eq!(g.degree(laptop), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub(crate) acc_off: Vec<u32>,
    pub(crate) acc_art: Vec<ArtifactId>,
    pub(crate) art_off: Vec<u32>,
    pub(crate) art_acc: Vec<AccountId>,
    /// Each artifact's kind id (kinds fit a byte).
    pub(crate) art_kind: Vec<u8>,
    /// Offsets into `ev_acc`/`ev_time`, per artifact; empty when no observation had a time.
    pub(crate) ev_off: Vec<u32>,
    pub(crate) ev_acc: Vec<AccountId>,
    pub(crate) ev_time: Vec<i64>,
    /// For a piece of a market (see the `shard` module): the market's degree of artifacts cut
    /// from the piece, whose other accounts are not here, sorted by artifact. Empty otherwise.
    pub(crate) market_degree: Vec<(ArtifactId, u32)>,
}

/// A use of an artifact: an account and when ([`NO_TIME`] if unknown).
///
/// # Examples
///
/// See [`Graph::uses`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Use {
    /// Who.
    pub account: AccountId,
    /// When, unix seconds, or [`NO_TIME`].
    pub time: i64,
}

impl Graph {
    /// Freezes a graph from edges, consuming them (`edges` is left empty).
    pub(crate) fn from_edges(
        accounts: usize,
        art_kind: Vec<u8>,
        edges: &mut Vec<Edge>,
    ) -> Result<Graph, TooManyEdges> {
        sort_unstable(edges);
        edges.dedup();
        if edges.len() >= u32::MAX as usize {
            return Err(TooManyEdges);
        }
        let artifacts = art_kind.len();
        let timed = edges.iter().any(|e| e.time != NO_TIME);

        // Artifact side: events (time-sorted: the edges themselves, in order) and distinct
        // sorted accounts. The large buffers are first written in parallel: touching fresh
        // pages is most of their cost.
        let (mut ev_off, ev_acc, ev_time) = if timed {
            (
                Vec::with_capacity(artifacts + 1),
                mapped(edges, |e| AccountId::from_u32(e.account)),
                mapped(edges, |e| e.time),
            )
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        let mut art_off = Vec::with_capacity(artifacts + 1);
        let mut art_acc: Vec<AccountId> = filled(edges.len(), AccountId::from_u32(0));
        art_off.push(0u32);
        if timed {
            ev_off.push(0u32);
        }
        let (mut i, mut w) = (0, 0);
        for art in 0..artifacts as u32 {
            let start = i;
            while i < edges.len() && edges[i].artifact == art {
                i += 1;
            }
            if timed {
                ev_off.push(i as u32);
            }
            let from = w;
            for e in &edges[start..i] {
                art_acc[w] = AccountId::from_u32(e.account);
                w += 1;
            }
            art_acc[from..w].sort_unstable();
            w = from + dedup_sorted(&mut art_acc[from..w]);
            art_off.push(w as u32);
        }
        art_acc.truncate(w);

        // The edges are read: free them before the account side is made (at 100M observations
        // they are 1.6 GB, and this stage's peak).
        edges.clear();
        edges.shrink_to_fit();
        art_acc.shrink_to_fit();
        // Account side: the transpose of the artifact side.
        let (acc_off, acc_art) = transpose(&art_off, &art_acc, accounts);
        Ok(Graph {
            acc_off,
            acc_art,
            art_off,
            art_acc,
            art_kind,
            ev_off,
            ev_acc,
            ev_time,
            market_degree: Vec::new(),
        })
    }

    /// Number of account slots (ids `0..n`; after an update, some may be unused).
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    pub fn account_count(&self) -> usize {
        self.acc_off.len().saturating_sub(1)
    }

    /// Number of artifacts.
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    pub fn artifact_count(&self) -> usize {
        self.art_kind.len()
    }

    /// Number of distinct (account, artifact) pairs.
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    pub fn edge_count(&self) -> usize {
        self.art_acc.len()
    }

    /// True when any observation carried a timestamp.
    ///
    /// # Examples
    ///
    /// See [`Graph::uses`].
    pub fn is_timed(&self) -> bool {
        !self.ev_off.is_empty()
    }

    /// The artifacts of an account, sorted by id.
    ///
    /// # Panics
    ///
    /// Panics when `a` is out of range.
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    #[track_caller]
    pub fn artifacts_of(&self, a: AccountId) -> &[ArtifactId] {
        let i = a.as_usize();
        &self.acc_art[self.acc_off[i] as usize..self.acc_off[i + 1] as usize]
    }

    /// The distinct accounts of an artifact, sorted by id.
    ///
    /// # Panics
    ///
    /// Panics when `f` is out of range.
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    #[track_caller]
    pub fn accounts_of(&self, f: ArtifactId) -> &[AccountId] {
        let i = f.as_usize();
        &self.art_acc[self.art_off[i] as usize..self.art_off[i + 1] as usize]
    }

    /// Number of distinct accounts that used an artifact (in a piece of a market built with
    /// `shard::presume_cut`, the market's number for an artifact cut from the piece).
    ///
    /// # Panics
    ///
    /// Panics when `f` is out of range.
    ///
    /// # Examples
    ///
    /// See [`Graph`].
    #[track_caller]
    pub fn degree(&self, f: ArtifactId) -> u32 {
        let i = f.as_usize();
        let here = self.art_off[i + 1] - self.art_off[i];
        if self.market_degree.is_empty() {
            return here;
        }
        self.market_degree
            .binary_search_by_key(&f, |&(g, _)| g)
            .map_or(here, |j| self.market_degree[j].1.max(here))
    }

    /// The kind of an artifact.
    ///
    /// # Panics
    ///
    /// Panics when `f` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "laptop", None)?;
    /// let index = b.build()?;
    /// let f = index.artifact("device", "laptop").expect("known");
    /// assert_eq!(index.graph().kind(f), index.kinds().get("device").expect("built in"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn kind(&self, f: ArtifactId) -> KindId {
        KindId::from_u32(u32::from(self.art_kind[f.as_usize()]))
    }

    /// The uses of an artifact sorted by time (untimed uses first); for an untimed graph, one
    /// untimed use per account.
    ///
    /// # Panics
    ///
    /// Panics when `f` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "ip", "10.0.0.1", Some(200))?;
    /// b.add("s2", "ip", "10.0.0.1", Some(100))?;
    /// let index = b.build()?;
    /// let ip = index.artifact("ip", "10.0.0.1").expect("known");
    /// let times: Vec<i64> = index.graph().uses(ip).map(|u| u.time).collect();
    /// assert_eq!(times, [100, 200]);
    /// assert!(index.graph().is_timed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn uses(&self, f: ArtifactId) -> Uses<'_> {
        let i = f.as_usize();
        if self.is_timed() {
            let r = self.ev_off[i] as usize..self.ev_off[i + 1] as usize;
            Uses { accounts: &self.ev_acc[r.clone()], times: Some(&self.ev_time[r]), pos: 0 }
        } else {
            Uses { accounts: self.accounts_of(f), times: None, pos: 0 }
        }
    }

    /// The raw (account, time) slices of an artifact's uses; `times` is `None` when untimed.
    pub(crate) fn use_slices(&self, f: ArtifactId) -> (&[AccountId], Option<&[i64]>) {
        let i = f.as_usize();
        if self.is_timed() {
            let r = self.ev_off[i] as usize..self.ev_off[i + 1] as usize;
            (&self.ev_acc[r.clone()], Some(&self.ev_time[r]))
        } else {
            (&self.art_acc[self.art_off[i] as usize..self.art_off[i + 1] as usize], None)
        }
    }

    /// True when account slot `a` has no use (an account an update removed).
    pub(crate) fn is_vacant(&self, a: AccountId) -> bool {
        self.acc_off[a.as_usize()] == self.acc_off[a.as_usize() + 1]
    }

    /// Heap bytes held by the arrays.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::IndexBuilder::new().build()?.graph().heap_bytes() < 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heap_bytes(&self) -> usize {
        4 * (self.acc_off.capacity()
            + self.acc_art.capacity()
            + self.art_off.capacity()
            + self.art_acc.capacity()
            + self.ev_off.capacity()
            + self.ev_acc.capacity())
            + self.art_kind.capacity()
            + 8 * self.ev_time.capacity()
    }
}

/// The uses of one artifact; see [`Graph::uses`].
///
/// # Examples
///
/// See [`Graph::uses`].
#[derive(Clone, Debug)]
pub struct Uses<'g> {
    accounts: &'g [AccountId],
    times: Option<&'g [i64]>,
    pos: usize,
}

impl Iterator for Uses<'_> {
    type Item = Use;

    fn next(&mut self) -> Option<Use> {
        let account = *self.accounts.get(self.pos)?;
        let time = self.times.map_or(NO_TIME, |t| t[self.pos]);
        self.pos += 1;
        Some(Use { account, time })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.accounts.len() - self.pos;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Uses<'_> {}

/// Transposes a CSR relation (rows `0..offsets.len()-1`, each listing targets in
/// `0..n_targets`) by counting sort: returns the offsets and rows per target, rows ascending.
pub(crate) fn transpose<T: Dense + Sync, R: Dense + Send + Sync>(
    offsets: &[u32],
    targets: &[T],
    n_targets: usize,
) -> (Vec<u32>, Vec<R>) {
    transpose_in(offsets, targets, n_targets, parts_for(targets.len()))
}

/// [`transpose`] in `parts` parts.
fn transpose_in<T: Dense + Sync, R: Dense + Send + Sync>(
    offsets: &[u32],
    targets: &[T],
    n_targets: usize,
    parts: usize,
) -> (Vec<u32>, Vec<R>) {
    // Each part owns a range of targets: it reads every row, and counts and fills only its own
    // targets, in row order, so the result is the serial one whatever the number of parts.
    let cuts = even_cuts(n_targets, parts);
    let mut out_off = vec![0u32; n_targets + 1];
    for_each_part(&mut out_off[1..], &cuts, |k, counts| {
        let (lo, hi) = (cuts[k], cuts[k + 1]);
        for &t in targets {
            if (lo..hi).contains(&t.index()) {
                counts[t.index() - lo] += 1;
            }
        }
    });
    for k in 0..n_targets {
        out_off[k + 1] += out_off[k];
    }
    let mut rows: Vec<R> = filled(targets.len(), R::from_u32(0));
    let row_cuts: Vec<usize> = cuts.iter().map(|&c| out_off[c] as usize).collect();
    for_each_part(&mut rows, &row_cuts, |k, part| {
        let (lo, hi, start) = (cuts[k], cuts[k + 1], row_cuts[k]);
        let mut fill: Vec<u32> = out_off[lo..hi].to_vec();
        for (row, w) in offsets.windows(2).enumerate() {
            for &t in &targets[w[0] as usize..w[1] as usize] {
                if (lo..hi).contains(&t.index()) {
                    let slot = &mut fill[t.index() - lo];
                    part[*slot as usize - start] = R::from_u32(row as u32);
                    *slot += 1;
                }
            }
        }
    });
    (out_off, rows)
}

/// How many parts a pass over `n` items is worth splitting into: the worker threads (at most
/// `MAX_PARTS`), for a large pass; one otherwise.
pub(crate) fn parts_for(n: usize) -> usize {
    #[cfg(feature = "rayon")]
    if n >= 1 << 20 {
        return rayon::current_num_threads().clamp(1, MAX_PARTS);
    }
    let _ = n;
    1
}

/// The most parts a pass is split into: a part that owns a range of accounts still reads every
/// use, so more parts read more (sequentially) for less random work each.
#[cfg(feature = "rayon")]
const MAX_PARTS: usize = 8;

/// `0..n` cut into `parts` ranges of about equal length: the cuts, from 0 to `n`.
pub(crate) fn even_cuts(n: usize, parts: usize) -> Vec<usize> {
    (0..=parts).map(|k| n * k / parts.max(1)).collect()
}

/// `n` copies of `value`, written in parallel for a large `n` (the first touch of fresh pages
/// is most of the cost of a large buffer, and each thread pays for its own).
pub(crate) fn filled<R: Copy + Send + Sync>(n: usize, value: R) -> Vec<R> {
    #[cfg(feature = "rayon")]
    if parts_for(n) > 1 {
        use rayon::prelude::*;
        return (0..n).into_par_iter().map(|_| value).collect();
    }
    vec![value; n]
}

/// Runs `each(k, part)` on the parts of `data` between successive `cuts` (ascending, from 0 to
/// `data.len()`): part `k` is `data[cuts[k]..cuts[k + 1]]`. In parallel with the `rayon` feature.
pub(crate) fn for_each_part<T: Send>(data: &mut [T], cuts: &[usize], each: impl Fn(usize, &mut [T]) + Sync) {
    let mut parts = Vec::with_capacity(cuts.len());
    let mut rest = data;
    for (k, w) in cuts.windows(2).enumerate() {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
        parts.push((k, part));
        rest = tail;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        parts.into_par_iter().for_each(|(k, part)| each(k, part));
    }
    #[cfg(not(feature = "rayon"))]
    for (k, part) in parts {
        each(k, part);
    }
}

/// Moves the distinct values of a sorted slice to its front; returns how many there are.
fn dedup_sorted<T: PartialEq + Copy>(v: &mut [T]) -> usize {
    let mut w = 0;
    for r in 0..v.len() {
        if r == 0 || v[r] != v[w - 1] {
            v[w] = v[r];
            w += 1;
        }
    }
    w
}

/// `f` of each item, in parallel for a large slice (see [`filled`]).
pub(crate) fn mapped<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "rayon")]
    if parts_for(items.len()) > 1 {
        use rayon::prelude::*;
        return items.par_iter().map(f).collect();
    }
    items.iter().map(f).collect()
}

/// `f` of each of `0..n`, in parallel for a large `n` (see [`filled`]).
pub(crate) fn tabulated<U: Send>(n: usize, f: impl Fn(u32) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "rayon")]
    if parts_for(n) > 1 {
        use rayon::prelude::*;
        return (0..n as u32).into_par_iter().map(f).collect();
    }
    (0..n as u32).map(f).collect()
}

/// Sorts a slice, in parallel when the `rayon` feature is on: the one place the crate chooses
/// between the two (edges here, weak pairs in linking, names and hashes in interning).
pub(crate) fn sort_unstable<T: Ord + Send>(v: &mut [T]) {
    #[cfg(feature = "rayon")]
    {
        use rayon::slice::ParallelSliceMut;
        v.par_sort_unstable();
    }
    #[cfg(not(feature = "rayon"))]
    v.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(account: u32, artifact: u32, time: i64) -> Edge {
        Edge { artifact, time, account }
    }

    proptest::proptest! {
        /// The transpose in any number of parts is the serial one, and each target lists the
        /// rows that hold it, ascending.
        #[test]
        fn transpose_in_parts_is_the_serial_one(
            rows in proptest::collection::vec(proptest::collection::vec(0u32..40, 0..8), 0..60),
            n in 40usize..45,
        ) {
            let mut offsets = vec![0u32];
            let mut targets = Vec::new();
            for r in &rows {
                targets.extend(r.iter().map(|&t| AccountId::must(t as usize)));
                offsets.push(targets.len() as u32);
            }
            let mut naive: Vec<Vec<u32>> = vec![Vec::new(); n];
            for (i, r) in rows.iter().enumerate() {
                for &t in r {
                    naive[t as usize].push(i as u32);
                }
            }
            for parts in 1..6 {
                let (off, got): (Vec<u32>, Vec<ArtifactId>) = transpose_in(&offsets, &targets, n, parts);
                for (t, want) in naive.iter().enumerate() {
                    let have: Vec<u32> =
                        got[off[t] as usize..off[t + 1] as usize].iter().map(|r| r.as_u32()).collect();
                    proptest::prop_assert_eq!(&have, want, "parts {}", parts);
                }
            }
        }
    }

    #[test]
    fn csr_both_ways() {
        let kinds = vec![0u8; 3];
        let mut edges = vec![e(2, 0, 5), e(0, 0, 9), e(0, 0, 9), e(1, 1, NO_TIME), e(0, 1, 3), e(2, 0, 1)];
        let g = Graph::from_edges(3, kinds, &mut edges).unwrap();
        let acc = |ids: &[u32]| ids.iter().map(|&a| AccountId::must(a as usize)).collect::<Vec<_>>();
        let art = |ids: &[u32]| ids.iter().map(|&a| ArtifactId::must(a as usize)).collect::<Vec<_>>();
        assert_eq!(g.accounts_of(ArtifactId::must(0)), acc(&[0, 2]));
        assert_eq!(g.accounts_of(ArtifactId::must(1)), acc(&[0, 1]));
        assert_eq!(g.accounts_of(ArtifactId::must(2)), acc(&[]));
        assert_eq!(g.artifacts_of(AccountId::must(0)), art(&[0, 1]));
        assert_eq!(g.artifacts_of(AccountId::must(2)), art(&[0]));
        assert_eq!(g.degree(ArtifactId::must(0)), 2);
        let uses: Vec<_> = g.uses(ArtifactId::must(0)).map(|u| (u.account.as_u32(), u.time)).collect();
        assert_eq!(uses, vec![(2, 1), (2, 5), (0, 9)]);
        let uses: Vec<_> = g.uses(ArtifactId::must(1)).map(|u| u.time).collect();
        assert_eq!(uses, vec![NO_TIME, 3]);
        assert!(g.is_timed());
        assert_eq!(g.edge_count(), 4);
    }

    #[test]
    fn untimed_has_no_events() {
        let mut edges = vec![e(0, 0, NO_TIME), e(1, 0, NO_TIME)];
        let g = Graph::from_edges(2, vec![0], &mut edges).unwrap();
        assert!(!g.is_timed());
        assert_eq!(g.uses(ArtifactId::must(0)).count(), 2);
    }
}
