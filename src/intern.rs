//! Interning: external strings to dense `u32` ids, each string stored once.
//!
//! An [`Interner`] keeps all strings back to back in one arena (`String`) with an end offset per
//! id, and a hash table of ids (hashbrown's `HashTable`, hashed with ahash) that looks strings
//! up in the arena. The table is only for lookups by text: a finished build drops it
//! ([`Interner::release_table`]) and the first lookup or insert after that builds it again from
//! the arena, once (at 100M observations the two tables are 0.8 GB that the rest of a build
//! does not read). A string therefore costs its bytes, 8 bytes of offset and about
//! 5 bytes of table, with no allocation per string. Artifacts are interned under a tag (their kind)
//! so that the same text under two kinds is two artifacts.

use std::sync::OnceLock;

use ahash::RandomState;
use hashbrown::HashTable;

use crate::id::AccountId;

/// The interned strings are external (account names, artifact values), so the table is keyed
/// with random keys, new for every interner: with fixed keys an adversary could craft names that
/// all fall in one bucket and make every lookup linear (hash flooding). Ids never depend on the
/// keys: they are dense and assigned in first-seen order (and made canonical by name later);
/// the keys only decide where an id sits in the table, and nothing iterates the table to
/// number anything.
fn random_keys() -> RandomState {
    RandomState::new()
}

/// A string interner over one arena; see the [module docs](self).
#[derive(Clone)]
pub struct Interner {
    arena: String,
    ends: Vec<u64>,
    tags: Vec<u8>,
    tagged: bool,
    /// The lookup table; empty until needed after [`Interner::release_table`].
    table: OnceLock<HashTable<u32>>,
    hasher: RandomState,
}

impl core::fmt::Debug for Interner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interner").field("len", &self.len()).field("bytes", &self.arena.len()).finish()
    }
}

impl Interner {
    /// An interner for plain strings (accounts).
    pub fn new() -> Self {
        Self::with_tags(false)
    }

    /// An interner whose keys are `(tag, string)` pairs (artifacts, tagged by kind).
    pub fn tagged() -> Self {
        Self::with_tags(true)
    }

    fn with_tags(tagged: bool) -> Self {
        Self {
            arena: String::new(),
            ends: Vec::new(),
            tags: Vec::new(),
            tagged,
            table: OnceLock::new(),
            hasher: random_keys(),
        }
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The string of `id`.
    ///
    /// # Panics
    ///
    /// Panics when `id >= self.len()`.
    pub fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// The tag of `id` (0 for an untagged interner).
    pub fn tag(&self, id: u32) -> u32 {
        if self.tagged { u32::from(self.tags[id as usize]) } else { 0 }
    }

    fn hash(&self, tag: u32, s: &str) -> u64 {
        if self.tagged { self.hasher.hash_one((tag, s)) } else { self.hasher.hash_one(s) }
    }

    /// The id of `s` under `tag`, if interned.
    pub fn find(&self, tag: u32, s: &str) -> Option<u32> {
        let h = self.hash(tag, s);
        let table = self.table.get_or_init(|| self.build_table());
        table.find(h, |&id| self.tag(id) == tag && self.get(id) == s).copied()
    }

    /// Interns `s` under `tag` (ignored by an untagged interner), returning its id.
    ///
    /// Returns `None` when the interner holds `u32::MAX - 1` strings already, or when a
    /// tagged interner is given a tag above 255 (tags are kinds, and kinds fit a byte).
    pub fn intern(&mut self, tag: u32, s: &str) -> Option<u32> {
        let byte = if self.tagged { u8::try_from(tag).ok()? } else { 0 };
        let h = self.hash(tag, s);
        self.ensure_table();
        // Split borrows: the hasher closure must read the arena while the table grows.
        let Self { arena, ends, tags, tagged, table, hasher } = self;
        let table = table.get_mut()?; // built just above
        let view = View { arena, ends, tags, tagged: *tagged, hasher };
        if let Some(&id) = table.find(h, |&id| view.string(id) == (tag, s)) {
            return Some(id);
        }
        let id = u32::try_from(ends.len()).ok().filter(|&i| i < u32::MAX - 1)?;
        table.insert_unique(h, id, |&other| view.rehash(other));
        arena.push_str(s);
        ends.push(arena.len() as u64);
        if *tagged {
            tags.push(byte);
        }
        Some(id)
    }

    /// Drops the lookup table, keeping the strings: the next lookup or insert builds it again
    /// from the arena. A build calls it once the observations are in (nothing later looks a
    /// string up unless the policy names accounts or values), so that the table does not add
    /// to the peak of the stages after.
    pub(crate) fn release_table(&mut self) {
        self.table = OnceLock::new();
    }

    /// Builds the lookup table if it was released.
    fn ensure_table(&mut self) {
        if self.table.get().is_none() {
            let built = self.build_table();
            self.table = OnceLock::from(built);
        }
    }

    /// The lookup table of the strings as they are (each string is unique by construction).
    fn build_table(&self) -> HashTable<u32> {
        let view = View {
            arena: &self.arena,
            ends: &self.ends,
            tags: &self.tags,
            tagged: self.tagged,
            hasher: &self.hasher,
        };
        bulk_table(&view, self.len()).0
    }

    /// Rebuilds the interner with ids in the order given by `order` (distinct ids; `order[new]
    /// = old`), dropping ids it leaves out, and returns it. The strings are copied in the new
    /// order; the hash table is kept and its ids rewritten in place (no string is hashed again).
    ///
    /// # Panics
    ///
    /// Panics when `order` names an id that is out of range.
    pub fn permuted(&self, order: &[u32]) -> Interner {
        self.permuted_in(order, None)
    }

    /// [`Interner::permuted`], its strings copied in `parts` parts (`None`: as many as pay).
    fn permuted_in(&self, order: &[u32], parts: Option<usize>) -> Interner {
        let mut new_of_old = vec![u32::MAX; self.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of_old[old as usize] = new as u32;
        }
        let mut out = Self::with_tags(self.tagged);
        // The strings' new ends, then their bytes copied in parts that each own a range of new
        // ids (in parallel for a large interner: the reads are at random).
        let lens: Vec<u64> = crate::graph::mapped(order, |&old| self.get(old).len() as u64);
        let mut end = 0u64;
        out.ends = lens
            .iter()
            .map(|&l| {
                end += l;
                end
            })
            .collect();
        drop(lens);
        let cuts = crate::graph::even_cuts(
            order.len(),
            parts.unwrap_or_else(|| crate::graph::parts_for(order.len())),
        );
        let byte_cuts: Vec<usize> =
            cuts.iter().map(|&c| if c == 0 { 0 } else { out.ends[c - 1] as usize }).collect();
        let mut bytes = crate::graph::filled(end as usize, 0u8);
        crate::graph::for_each_part(&mut bytes, &byte_cuts, |k, part| {
            let mut at = 0;
            for &old in &order[cuts[k]..cuts[k + 1]] {
                let s = self.get(old).as_bytes();
                part[at..at + s.len()].copy_from_slice(s);
                at += s.len();
            }
        });
        // Whole strings, each valid UTF-8, concatenated: valid UTF-8.
        out.arena =
            String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if self.tagged {
            out.tags = crate::graph::mapped(order, |&old| self.tags[old as usize]);
        }
        // The table (if built) is kept, so its hasher must be too.
        out.hasher = self.hasher.clone();
        if let Some(table) = self.table.get() {
            let mut table = table.clone();
            if order.len() < self.len() {
                table.retain(|id| new_of_old[*id as usize] != u32::MAX);
            }
            for id in table.iter_mut() {
                *id = new_of_old[*id as usize];
            }
            out.table = OnceLock::from(table);
        }
        out
    }

    /// Makes room for `additional` more strings, so that the table does not grow (and rehash
    /// every string) while they are interned. The arena grows as text arrives.
    pub fn reserve(&mut self, additional: usize) {
        self.ends.reserve(additional);
        if self.tagged {
            self.tags.reserve(additional);
        }
        self.ensure_table();
        let Self { arena, ends, tags, tagged, table, hasher } = self;
        let view = View { arena, ends, tags, tagged: *tagged, hasher };
        if let Some(table) = table.get_mut() {
            table.reserve(additional, |&other| view.rehash(other));
        }
    }

    /// An interner over strings given as an arena and end offsets (and, when `tags` is `Some`,
    /// a tag per string), ids in that order; `None` when an offset is out of order, out of
    /// range or not on a character boundary, or when two strings (with their tags) are equal.
    /// Its table is built in bulk (see `bulk_table`).
    #[cfg(test)]
    pub(crate) fn from_parts(arena: String, ends: Vec<u64>, tags: Option<Vec<u8>>) -> Option<Interner> {
        let out = Self::unindexed(arena, ends, tags)?;
        out.all_distinct().then_some(out)
    }

    /// [`Interner::from_parts`] without the check that the strings are distinct (which
    /// [`Interner::all_distinct`] makes, so that a caller can check the strings otherwise
    /// meanwhile): the offsets and the tag count are checked. The lookup table is built by the
    /// first lookup or insert.
    pub(crate) fn unindexed(arena: String, ends: Vec<u64>, tags: Option<Vec<u8>>) -> Option<Interner> {
        let n = ends.len();
        if u32::try_from(n).ok().is_none_or(|n| n >= u32::MAX - 1)
            || tags.as_ref().is_some_and(|t| t.len() != n)
        {
            return None;
        }
        if !ends_fit(&arena, &ends) {
            return None;
        }
        let mut out = Self::with_tags(tags.is_some());
        out.arena = arena;
        out.ends = ends;
        out.tags = tags.unwrap_or_default();
        Some(out)
    }

    /// True when no two strings (with their tags) are equal; found as [`bulk_table`] finds
    /// it, by sorting hashes, without building the table.
    pub(crate) fn all_distinct(&self) -> bool {
        let view = View {
            arena: &self.arena,
            ends: &self.ends,
            tags: &self.tags,
            tagged: self.tagged,
            hasher: &self.hasher,
        };
        let mut hashed: Vec<(u64, u32)> = crate::graph::tabulated(self.len(), |id| (view.rehash(id), id));
        crate::graph::sort_unstable(&mut hashed);
        distinct_neighbours(&hashed, |&(h, id)| (h, id), &view)
    }

    /// The arena, the end offset of each string and the tags (empty when untagged), as stored.
    pub(crate) fn raw_parts(&self) -> (&str, &[u64], &[u8]) {
        (&self.arena, &self.ends, &self.tags)
    }

    /// Bytes held (arena, offsets, tags and table), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.ends.capacity() * 8
            + self.tags.capacity()
            + self.table.get().map_or(0, |t| t.capacity() * 5)
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

/// The lookup table of the first `n` strings of `view`, and whether they are all distinct.
///
/// Faster than interning one by one: every string is hashed in arena order, the hashes are
/// sorted by table bucket (so the table fills front to back instead of at random) and equal
/// strings are found as neighbours in that order, so no insert has to look first.
fn bulk_table(view: &View<'_>, n: usize) -> (HashTable<u32>, bool) {
    let mut table = HashTable::new();
    table.reserve(n, |_| 0);
    let mask = (table.capacity() as u64 * 8 / 7).next_power_of_two().saturating_sub(1);
    // Hashing reads the arena in order, in parallel parts for a large interner.
    let mut hashed: Vec<(u64, u64, u32)> = crate::graph::tabulated(n, |id| {
        let h = view.rehash(id);
        (h & mask, h, id)
    });
    crate::graph::sort_unstable(&mut hashed);
    let unique = distinct_neighbours(&hashed, |&(_, h, id)| (h, id), view);
    for &(_, h, id) in &hashed {
        table.insert_unique(h, id, |&other| view.rehash(other));
    }
    (table, unique)
}

/// True when no two neighbours of `sorted` (each giving a hash and an id, equal hashes
/// adjacent) name equal strings of `view`.
fn distinct_neighbours<T: Sync>(
    sorted: &[T],
    key: impl Fn(&T) -> (u64, u32) + Sync,
    view: &View<'_>,
) -> bool {
    let distinct = |w: &[T]| {
        let ((h0, a), (h1, b)) = (key(&w[0]), key(&w[1]));
        h0 != h1 || view.string(a) != view.string(b)
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        sorted.par_windows(2).all(distinct)
    }
    #[cfg(not(feature = "rayon"))]
    sorted.windows(2).all(distinct)
}

/// True when `ends` cut `arena` into strings: offsets in order, on character boundaries, the
/// last at the arena's end (for an interner's or a [`StrList`]'s parts read from outside).
pub(crate) fn ends_fit(arena: &str, ends: &[u64]) -> bool {
    let mut start = 0usize;
    for &end in ends {
        let Ok(end) = usize::try_from(end) else { return false };
        if end < start || end > arena.len() || !arena.is_char_boundary(end) {
            return false;
        }
        start = end;
    }
    start == arena.len()
}

/// The canonical order of accounts: account ids in name order, without the slots an update left
/// unused, and each account's rank in that order. Cluster numbering, community detection and
/// tie-breaks follow it, so their results do not depend on how ids were assigned: a fresh build
/// (ids in name order) and an update (old ids kept, new ones appended) agree. Empty vectors
/// stand for the identity, the order of every fresh build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameOrder {
    by_name: Vec<AccountId>,
    /// Per slot, its position in `by_name` (`u32::MAX` for an unused slot).
    rank: Vec<u32>,
}

impl NameOrder {
    /// The identity over `n` slots (every fresh build).
    pub(crate) fn identity(_n: usize) -> Self {
        Self::default()
    }

    /// The order `by_name` (distinct slots below `slots`), or the identity when it is one.
    pub(crate) fn from_by_name(by_name: Vec<u32>, slots: usize) -> Self {
        if by_name.len() == slots && by_name.iter().enumerate().all(|(i, &a)| i as u32 == a) {
            return Self::default();
        }
        let mut rank = vec![u32::MAX; slots];
        for (i, &a) in by_name.iter().enumerate() {
            rank[a as usize] = i as u32;
        }
        Self { by_name: by_name.into_iter().map(AccountId::from_u32).collect(), rank }
    }

    /// True for the identity.
    pub(crate) fn is_identity(&self) -> bool {
        self.rank.is_empty()
    }

    /// The accounts in name order, for an index of `slots` slots.
    pub(crate) fn iter(&self, slots: usize) -> NameOrderIter<'_> {
        if self.is_identity() {
            NameOrderIter::Identity(0..slots as u32)
        } else {
            NameOrderIter::Permuted(self.by_name.iter())
        }
    }

    /// The rank of account `a` in name order (its id under the identity).
    #[inline]
    pub(crate) fn rank(&self, a: AccountId) -> u32 {
        if self.is_identity() { a.as_u32() } else { self.rank[a.as_usize()] }
    }

    /// The account ids in name order, when not the identity.
    pub(crate) fn by_name(&self) -> Option<&[AccountId]> {
        (!self.is_identity()).then_some(&self.by_name[..])
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        4 * (self.by_name.capacity() + self.rank.capacity())
    }
}

/// The accounts of a [`NameOrder`], in name order.
pub(crate) enum NameOrderIter<'a> {
    Identity(core::ops::Range<u32>),
    Permuted(core::slice::Iter<'a, AccountId>),
}

impl Iterator for NameOrderIter<'_> {
    type Item = AccountId;

    #[inline]
    fn next(&mut self) -> Option<AccountId> {
        match self {
            NameOrderIter::Identity(r) => r.next().map(AccountId::from_u32),
            NameOrderIter::Permuted(it) => it.next().copied(),
        }
    }
}

/// An append-only list of strings in one arena (no lookup by text), most of them empty: each
/// artifact's first raw spelling, empty when it equals the canonical one. Only the non-empty
/// entries take room: their bytes, their index (4 bytes) and their end offset (8 bytes); an
/// empty entry costs nothing (on the synthetic marketplace 59% are empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrList {
    arena: String,
    /// The indexes of the non-empty entries, increasing.
    present: Vec<u32>,
    /// The end of each non-empty entry in `arena`.
    ends: Vec<u64>,
    len: usize,
}

impl StrList {
    /// Appends a string.
    ///
    /// # Panics
    ///
    /// When the list already holds `u32::MAX` entries.
    pub fn push(&mut self, s: &str) {
        if !s.is_empty() {
            let at = u32::try_from(self.len).expect("at most u32::MAX entries");
            self.arena.push_str(s);
            self.present.push(at);
            self.ends.push(self.arena.len() as u64);
        }
        self.len += 1;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Entry `i`, or `""` when out of range.
    pub fn get(&self, i: usize) -> &str {
        let Ok(k) =
            u32::try_from(i).map_err(|_| ()).and_then(|i| self.present.binary_search(&i).map_err(|_| ()))
        else {
            return "";
        };
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.arena.get(start..self.ends[k] as usize).unwrap_or("")
    }

    /// The arena and the end offset of every entry, empty ones included (as snapshots store
    /// the list).
    pub(crate) fn dense(&self) -> (&str, Vec<u64>) {
        let mut ends = Vec::with_capacity(self.len);
        let mut end = 0u64;
        let mut next = self.present.iter().zip(&self.ends).peekable();
        for i in 0..self.len as u32 {
            if let Some((_, &e)) = next.next_if(|&(&at, _)| at == i) {
                end = e;
            }
            ends.push(end);
        }
        (&self.arena, ends)
    }

    /// The list whose entry `i` is `arena[ends[i - 1]..ends[i]]` (from 0 for the first);
    /// `None` unless the offsets fit the arena (in order, in range, on character boundaries).
    pub(crate) fn from_dense(arena: &str, ends: &[u64]) -> Option<StrList> {
        if !ends_fit(arena, ends) || u32::try_from(ends.len()).is_err() {
            return None;
        }
        let mut out = StrList::default();
        let mut start = 0usize;
        for &end in ends {
            out.push(&arena[start..end as usize]);
            start = end as usize;
        }
        Some(out)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + 4 * self.present.capacity() + 8 * self.ends.capacity()
    }
}

struct View<'a> {
    arena: &'a str,
    ends: &'a [u64],
    tags: &'a [u8],
    tagged: bool,
    hasher: &'a RandomState,
}

impl View<'_> {
    fn string(&self, id: u32) -> (u32, &str) {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (if self.tagged { u32::from(self.tags[i]) } else { 0 }, &self.arena[start..self.ends[i] as usize])
    }

    fn rehash(&self, id: u32) -> u64 {
        let (tag, s) = self.string(id);
        if self.tagged { self.hasher.hash_one((tag, s)) } else { self.hasher.hash_one(s) }
    }
}

/// Sorts ids by their names, as a multikey sort: ids are sorted by the first 8 bytes of their
/// names (zero-padded, big-endian, so key order never contradicts name order) in one
/// contiguous array, then each run of equal keys by the next 8 bytes, and so on. Most
/// comparisons are integer compares, and names are read in order of the array, not at random
/// from inside a comparison.
pub(crate) fn sort_by_name(order: &mut [u32], names: &Interner) {
    let mut keyed: Vec<(u64, u32)> = order.iter().map(|&a| (name_key(names.get(a), 0), a)).collect();
    crate::graph::sort_unstable(&mut keyed);
    refine_runs(&mut keyed, 0, names);
    for (slot, (_, a)) in order.iter_mut().zip(keyed) {
        *slot = a;
    }
}

/// Bytes `at..at + 8` of `name`, zero-padded, as a big-endian integer.
fn name_key(name: &str, at: usize) -> u64 {
    let rest = name.as_bytes().get(at..).unwrap_or(&[]);
    let mut b = [0u8; 8];
    let n = rest.len().min(8);
    b[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(b)
}

/// Orders each run of equal keys (names equal up to `depth + 8` bytes) by the following bytes.
fn refine_runs(keyed: &mut [(u64, u32)], depth: usize, names: &Interner) {
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i + 1;
        while j < keyed.len() && keyed[j].0 == keyed[i].0 {
            j += 1;
        }
        if j - i > 1 {
            let run = &mut keyed[i..j];
            let next = depth + 8;
            if run.iter().all(|&(_, a)| names.get(a).len() <= next) {
                // Padding hides the rest (only a name with trailing NULs can get here).
                run.sort_unstable_by(|x, y| names.get(x.1).cmp(names.get(y.1)));
            } else {
                for x in run.iter_mut() {
                    x.0 = name_key(names.get(x.1), next);
                }
                run.sort_unstable();
                refine_runs(run, next, names);
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once() {
        let mut i = Interner::new();
        let a = i.intern(0, "alpha").unwrap();
        let b = i.intern(0, "beta").unwrap();
        assert_eq!(i.intern(0, "alpha"), Some(a));
        assert_ne!(a, b);
        assert_eq!(i.get(b), "beta");
        assert_eq!(i.len(), 2);
        assert_eq!(i.find(0, "beta"), Some(b));
        assert_eq!(i.find(0, "gamma"), None);
    }

    #[test]
    fn keys_differ_per_interner_and_ids_do_not_depend_on_them() {
        let (mut a, mut b) = (Interner::tagged(), Interner::tagged());
        let words: Vec<String> = (0..2_000).map(|i| format!("store-{}", (i * 7919) % 2_000)).collect();
        // Two interners, two keys: the same string hashes differently (2^-64 odds otherwise).
        assert_ne!(a.hash(1, "store-1"), b.hash(1, "store-1"));
        for w in &words {
            assert_eq!(a.intern(3, w), b.intern(3, w));
        }
        let order: Vec<u32> = (0..a.len() as u32).rev().collect();
        let (pa, pb) = (a.permuted(&order), b.permuted(&order));
        for w in &words {
            assert_eq!(pa.find(3, w), pb.find(3, w));
            assert!(pa.find(3, w).is_some());
        }
    }

    #[test]
    fn tags_separate() {
        let mut i = Interner::tagged();
        let a = i.intern(1, "x").unwrap();
        let b = i.intern(2, "x").unwrap();
        assert_ne!(a, b);
        assert_eq!(i.tag(b), 2);
        assert_eq!(i.find(1, "x"), Some(a));
        assert_eq!(i.find(3, "x"), None);
    }

    #[test]
    fn from_parts_equals_interning_and_refuses_bad_parts() {
        let mut i = Interner::tagged();
        for n in 0..5_000u32 {
            i.intern(n % 4, &format!("v{}", n / 2));
        }
        let (arena, ends, tags) = i.raw_parts();
        let built = Interner::from_parts(arena.to_string(), ends.to_vec(), Some(tags.to_vec())).unwrap();
        assert_eq!(built.len(), i.len());
        for id in 0..i.len() as u32 {
            assert_eq!(built.find(i.tag(id), i.get(id)), Some(id));
        }
        assert_eq!(built.find(9, "v1"), None);
        // The same text under one tag twice: refused.
        assert!(Interner::from_parts("abab".into(), vec![2, 4], Some(vec![1, 1])).is_none());
        assert!(Interner::from_parts("abab".into(), vec![2, 4], Some(vec![1, 2])).is_some());
        assert!(Interner::from_parts("abab".into(), vec![2, 4], None).is_none());
        // Offsets out of order, past the end, short of the end, inside a character; tags miscounted.
        assert!(Interner::from_parts("abcd".into(), vec![3, 2, 4], None).is_none());
        assert!(Interner::from_parts("abcd".into(), vec![2, 5], None).is_none());
        assert!(Interner::from_parts("abcd".into(), vec![2, 3], None).is_none());
        assert!(Interner::from_parts("é".into(), vec![1, 2], None).is_none());
        assert!(Interner::from_parts("ab".into(), vec![1, 2], Some(vec![0])).is_none());
        let mut empty = Interner::from_parts(String::new(), Vec::new(), None).unwrap();
        assert_eq!(empty.intern(0, "x"), Some(0));
    }

    #[test]
    fn grows_and_permutes() {
        let mut i = Interner::tagged();
        for n in 0..10_000u32 {
            assert_eq!(i.intern(n % 3, &n.to_string()), Some(n));
        }
        for n in 0..10_000u32 {
            assert_eq!(i.find(n % 3, &n.to_string()), Some(n));
        }
        let order: Vec<u32> = (0..10_000u32).rev().collect();
        let p = i.permuted(&order);
        assert_eq!(p.get(0), "9999");
        assert_eq!(p.tag(0), 9999 % 3);
        assert_eq!(p.find(0, "0"), Some(9999));
        for n in 0..10_000u32 {
            assert_eq!(p.find(n % 3, &n.to_string()), Some(9999 - n));
        }
        // Leaving ids out drops them: the odd numbers, in reverse.
        let odd: Vec<u32> = (0..10_000u32).rev().filter(|n| n % 2 == 1).collect();
        let mut q = i.permuted(&odd);
        assert_eq!(q.len(), 5_000);
        assert_eq!(q.find(1, "1"), Some(4_999));
        assert_eq!(q.find(0, "0"), None);
        assert_eq!(q.find(2, "2"), None);
        // And the result interns on as usual.
        assert_eq!(q.intern(0, "0"), Some(5_000));
        assert_eq!(q.find(0, "0"), Some(5_000));
    }

    proptest::proptest! {
        /// Strings copied in any number of parts give the interner one copy gives.
        #[test]
        fn permuted_in_parts_is_permuted(
            words in proptest::collection::btree_set("[a-zé]{0,6}", 1..40),
            keep in proptest::collection::vec(proptest::bool::ANY, 40),
        ) {
            let mut i = Interner::tagged();
            for (n, w) in words.iter().enumerate() {
                i.intern((n % 3) as u32, w);
            }
            let order: Vec<u32> = (0..i.len() as u32).rev().filter(|&n| keep[n as usize]).collect();
            let one = i.permuted_in(&order, Some(1));
            for parts in 2..6 {
                let p = i.permuted_in(&order, Some(parts));
                proptest::prop_assert_eq!((&p.arena, &p.ends, &p.tags), (&one.arena, &one.ends, &one.tags));
            }
            for (new, &old) in order.iter().enumerate() {
                proptest::prop_assert_eq!(one.get(new as u32), i.get(old));
                proptest::prop_assert_eq!(one.tag(new as u32), i.tag(old));
            }
        }
    }
}

#[cfg(test)]
mod sort_tests {
    use super::*;

    #[test]
    fn sort_by_name_equals_string_order() {
        let mut names = Interner::new();
        let words = [
            "store-12",
            "store-1",
            "store-",
            "store-123456789012",
            "store-123456789011",
            "store-\u{0}",
            "store-\u{0}\u{0}",
            "store-é",
            "store-z",
            "store-12345678",
            "store-1234567",
            "Store-1",
            "a-very-long-common-prefix-of-many-bytes-1",
            "a-very-long-common-prefix-of-many-bytes-10",
            "a-very-long-common-prefix-of-many-bytes-",
            "a-very-long-common-prefix-of-many-bytes-0\u{0}",
            "a-very-long-common-prefix-of-many-bytes-0",
            "b",
        ];
        for w in words {
            names.intern(0, w);
        }
        let mut order: Vec<u32> = (0..words.len() as u32).collect();
        sort_by_name(&mut order, &names);
        let got: Vec<&str> = order.iter().map(|&a| names.get(a)).collect();
        let mut want: Vec<&str> = words.to_vec();
        want.sort_unstable();
        assert_eq!(got, want);
        // One name, and none.
        let mut one = vec![3];
        sort_by_name(&mut one, &names);
        assert_eq!(one, vec![3]);
        sort_by_name(&mut [], &names);
    }

    #[test]
    fn sort_by_name_equals_string_order_on_many_shared_prefixes() {
        // Names from a 3-letter alphabet, 0 to 40 long: long runs of equal 8-byte keys.
        let mut names = Interner::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..5_000 {
            let len = (next() % 41) as usize;
            let name: String = (0..len).map(|_| ['a', 'b', 'é'][(next() % 3) as usize]).collect();
            names.intern(0, &name);
        }
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        sort_by_name(&mut order, &names);
        assert!(order.windows(2).all(|w| names.get(w[0]) < names.get(w[1])));
    }
}
