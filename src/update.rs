//! Updates: add observations to a built index, remove accounts, expire old observations.
//!
//! [`Index::updater`] starts an [`Updater`] holding the index's observations; after additions,
//! removals and expiry, [`Updater::finish`] returns the next index and a [`ChangeSet`]. The
//! old index is untouched, so readers keep querying it (behind an `Arc`, say) while the next
//! one is prepared, and then swap.
//!
//! What is recomputed: the graph is re-frozen (a linear pass). Linking runs again only for
//! the accounts the update can reach: new accounts, the previous components of accounts whose
//! artifacts gained or lost a use or that lost a member, closed over group corroboration
//! ([`crate::link::relink`] says exactly); every other account keeps its component, and when a
//! hub cap moves everything is re-linked. Community detection, the expensive stage, runs again
//! only for components that are new or whose accounts use or used a touched artifact. Every other
//! component keeps its operators. Automatic hub caps that move make every component count as
//! touched. The result partitions the accounts exactly as one build from the same
//! observations would, and [`ChangeSet`] counts what was re-linked and recomputed.
//!
//! Identity: dense [`ClusterId`]s are positions and may shift; a cluster's stable identity is
//! its [representative](Index::representative) (smallest member name), which an untouched
//! cluster keeps. The change set speaks in representatives.

use std::sync::atomic::{AtomicUsize, Ordering};

use ahash::{AHashMap, AHashSet};
use roaring::RoaringBitmap;

use crate::builder::IndexBuilder;
use crate::error::ObservationError;
use crate::explain::{Explanation, Step, explain};
use crate::graph::{Edge, NO_TIME};
use crate::id::{AccountId, ClusterId};
use crate::index::{Index, NoProgress};
use crate::ingest::{CsvOptions, IngestReport, read_csv};
use crate::operators::Solved;

/// Prepares the next index from an existing one; see the [module docs](self).
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// for s in ["r1", "r2", "r3"] {
///     b.add(s, "payment", "mule-7", None)?;
/// }
/// b.add("solo", "email", "solo@example.com", None)?;
/// let index = b.build()?;
///
/// let mut u = index.updater();
/// u.add("r4", "payment", "MULE-7", Some(1_700_000_000))?;
/// let (next, changes) = u.finish()?;
/// assert_eq!(next.account_count(), 5);
/// assert_eq!(changes.joined.len(), 1);
/// assert_eq!(changes.joined[0].account, "r4");
/// assert_eq!(changes.joined[0].cluster, "r1");
/// assert_eq!(changes.joined[0].evidence.as_ref().map(|s| s.kind.as_str()), Some("payment"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Updater<'i> {
    old: &'i Index,
    builder: IndexBuilder,
    old_edges: usize,
    removed: AHashSet<u32>,
    expire_before: Option<i64>,
}

/// An account that joined an existing cluster, with the evidence that brought it in.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Joined {
    /// The account.
    pub account: String,
    /// The representative of the cluster it joined.
    pub cluster: String,
    /// The first step of the evidence chain to the cluster's other members.
    pub evidence: Option<Step>,
}

/// What an update changed, in representatives (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ChangeSet {
    /// New clusters of two or more accounts none of which were clustered with another before.
    pub appeared: Vec<String>,
    /// Clusters formed by merging two or more earlier clusters of two or more accounts: the
    /// new representative and the old ones.
    pub merged: Vec<(String, Vec<String>)>,
    /// Earlier clusters whose remaining accounts now lie in two or more clusters: the old
    /// representative and the new ones.
    pub split: Vec<(String, Vec<String>)>,
    /// Accounts that joined an existing cluster.
    pub joined: Vec<Joined>,
    /// Components (of three or more accounts) whose operators were recomputed.
    pub recomputed_components: usize,
    /// Components (of three or more accounts) whose operators were kept from the old index.
    pub kept_components: usize,
    /// Accounts removed (explicitly, or because expiry left them without observations).
    pub removed_accounts: usize,
    /// Accounts whose links were recomputed (the rest kept their components; see
    /// [`crate::link::relink`]).
    pub relinked_accounts: usize,
}

impl Index {
    /// Starts an update of this index; see [`Updater`].
    ///
    /// # Examples
    ///
    /// See [`Updater`].
    pub fn updater(&self) -> Updater<'_> {
        let mut builder = IndexBuilder::with_kinds(self.kinds.clone())
            .policy(self.policy.clone())
            .operators(self.operator_config.clone());
        builder.accounts = self.accounts.clone();
        builder.artifacts = self.artifacts.clone();
        builder.first_written = self.first_written.clone();
        let g = &self.graph;
        let mut edges = Vec::with_capacity(if g.is_timed() { g.ev_acc.len() } else { g.art_acc.len() });
        for f in 0..g.artifact_count() as u32 {
            let (accounts, times) = g.use_slices(f);
            for (i, &account) in accounts.iter().enumerate() {
                edges.push(Edge { artifact: f, time: times.map_or(NO_TIME, |t| t[i]), account });
            }
        }
        let old_edges = edges.len();
        builder.edges = edges;
        Updater { old: self, builder, old_edges, removed: AHashSet::new(), expire_before: None }
    }
}

impl Updater<'_> {
    /// Adds an observation, as [`IndexBuilder::add`].
    ///
    /// # Errors
    ///
    /// An [`ObservationError`] naming the field at fault; nothing is added then.
    ///
    /// # Examples
    ///
    /// See [`Updater`].
    pub fn add(
        &mut self,
        account: &str,
        kind: &str,
        value: &str,
        time: Option<i64>,
    ) -> Result<(), ObservationError> {
        self.builder.add(account, kind, value, time)
    }

    /// Adds observations from CSV, as [`read_csv`].
    ///
    /// # Errors
    ///
    /// As [`read_csv`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::ingest::CsvOptions;
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// let mut u = index.updater();
    /// u.read_csv("account,kind,value\ns1,device,d\ns2,device,d\n".as_bytes(), "day2.csv", &CsvOptions::strict())?;
    /// let (next, changes) = u.finish()?;
    /// assert_eq!(next.clustering().len(), 1);
    /// assert_eq!(changes.appeared, vec!["s1".to_string()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_csv<R: std::io::Read + Send>(
        &mut self,
        reader: R,
        path: impl AsRef<std::path::Path>,
        options: &CsvOptions,
    ) -> Result<IngestReport, crate::error::IngestError> {
        read_csv(reader, path, options, &mut self.builder)
    }

    /// Removes an account and all its observations; false when the index does not have it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "d", None)?;
    /// b.add("s2", "device", "d", None)?;
    /// let index = b.build()?;
    /// let mut u = index.updater();
    /// assert!(u.remove_account("s2"));
    /// let (next, changes) = u.finish()?;
    /// assert_eq!(next.account_count(), 1);
    /// assert_eq!(changes.removed_accounts, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_account(&mut self, name: &str) -> bool {
        match self.old.account(name) {
            Some(a) => self.removed.insert(a.as_u32()),
            None => false,
        }
    }

    /// Drops every timestamped observation older than `cutoff` (unix seconds), including ones
    /// added in this update; untimed observations are kept. Accounts left with no observation
    /// are removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "d", Some(100))?;
    /// b.add("s2", "device", "d", Some(5_000))?;
    /// b.add("s2", "email", "s2@example.com", None)?;
    /// let index = b.build()?;
    /// let mut u = index.updater();
    /// u.expire_before(1_000);
    /// let (next, _) = u.finish()?;
    /// assert!(next.account("s1").is_none());
    /// assert_eq!(next.clustering().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expire_before(&mut self, cutoff: i64) {
        self.expire_before = Some(self.expire_before.map_or(cutoff, |c| c.max(cutoff)));
    }

    /// Builds the next index and says what changed.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Graph`] when the input exceeds 32-bit offsets.
    ///
    /// # Examples
    ///
    /// See [`Updater`].
    pub fn finish(self) -> Result<(Index, ChangeSet), crate::Error> {
        let Updater { old, mut builder, old_edges, removed, expire_before } = self;
        let old_accounts = old.account_count();
        // Which artifacts the update touches, and which edges survive.
        let mut touched = RoaringBitmap::new();
        let mut kept = Vec::with_capacity(builder.edges.len());
        for (i, e) in builder.edges.iter().enumerate() {
            let expired = expire_before.is_some_and(|c| e.time != NO_TIME && e.time < c);
            let gone = (e.account as usize) < old_accounts && removed.contains(&e.account);
            if expired || gone {
                if i < old_edges {
                    touched.insert(e.artifact);
                }
            } else {
                if i >= old_edges {
                    touched.insert(e.artifact);
                }
                kept.push(*e);
            }
        }
        builder.edges = kept;
        let names_before: AHashSet<&str> = (0..old_accounts as u32).map(|a| old.accounts.get(a)).collect();

        // Reuse a component's operators when the component existed before with the same
        // members and none of its accounts uses a touched artifact.
        let old_ops = old.operators();
        let caps_before = old.resolved.cap.clone();
        let (kept, recomputed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let reuse = |next: &Index, members: &[u32]| -> Option<Solved> {
            let solved = reuse_component(old, old_ops, &caps_before, &touched, next, members);
            let counter = if solved.is_some() { &kept } else { &recomputed };
            counter.fetch_add(1, Ordering::Relaxed);
            solved
        };
        let (next, relinked) = Index::assemble(builder, &mut NoProgress, &reuse, Some((old, &touched)))?;
        let removed_accounts = names_before.iter().filter(|n| next.account(n).is_none()).count();
        let mut changes = change_set(old, &next, &touched, removed_accounts);
        changes.kept_components = kept.into_inner();
        changes.recomputed_components = recomputed.into_inner();
        changes.relinked_accounts = relinked;
        Ok((next, changes))
    }
}

/// The old operators of a component, when the update left it alone: it existed before with
/// the same members, none of its accounts uses or used a touched artifact, and no hub cap
/// moved.
fn reuse_component(
    old: &Index,
    old_ops: Option<&crate::operators::OperatorClustering>,
    caps_before: &[u32],
    touched: &RoaringBitmap,
    next: &Index,
    members: &[u32],
) -> Option<Solved> {
    let ops = old_ops?;
    if next.resolved.cap.iter().zip(caps_before).any(|(a, b)| a != b) {
        return None;
    }
    let mut old_ids = Vec::with_capacity(members.len());
    for &m in members {
        let old_id = old.account(next.accounts.get(m))?;
        if reaches_touched(old, next, touched, m, Some(old_id)) {
            return None;
        }
        old_ids.push(old_id);
    }
    let comp = old.components.cluster_of(old_ids[0])?;
    if old.components.size(comp) != members.len()
        || old_ids.iter().any(|&a| old.components.cluster_of(a) != Some(comp))
    {
        return None;
    }
    let mut local: AHashMap<u32, u32> = AHashMap::new();
    let mut confidence = Vec::new();
    let labels = old_ids
        .iter()
        .map(|&a| {
            let op = ops.clustering().cluster_of(a).map_or(0, ClusterId::as_u32);
            let next_label = local.len() as u32;
            *local.entry(op).or_insert_with(|| {
                confidence.push(ops.confidence(ClusterId::from_u32(op)).unwrap_or(1.0));
                next_label
            })
        })
        .collect();
    Some(Solved { labels, confidence })
}

/// True when account `m` of `next` uses a touched artifact, or used one in `old` as `old_id`
/// (expiry can take an artifact away from an account altogether).
fn reaches_touched(
    old: &Index,
    next: &Index,
    touched: &RoaringBitmap,
    m: u32,
    old_id: Option<AccountId>,
) -> bool {
    let uses = |g: &crate::graph::Graph, a: AccountId| g.artifacts_of(a).iter().any(|&f| touched.contains(f));
    uses(&next.graph, AccountId::from_u32(m)) || old_id.is_some_and(|o| uses(&old.graph, o))
}

fn change_set(old: &Index, next: &Index, touched: &RoaringBitmap, removed_accounts: usize) -> ChangeSet {
    let mut cs = ChangeSet { removed_accounts, ..ChangeSet::default() };
    let (old_c, new_c) = (old.clustering(), next.clustering());
    let touches = |c: ClusterId| {
        new_c
            .members(c)
            .iter()
            .any(|&m| reaches_touched(old, next, touched, m, old.account(next.accounts.get(m))))
    };
    // Old cluster of each surviving account, by name.
    let old_of = |m: u32| old.account(next.accounts.get(m)).and_then(|a| old_c.cluster_of(a));
    let mut old_spread: AHashMap<u32, AHashSet<u32>> = AHashMap::new();
    for c in 0..new_c.len() {
        let c = ClusterId::must(c);
        for &m in new_c.members(c) {
            if let Some(o) = old_of(m) {
                old_spread.entry(o.as_u32()).or_default().insert(c.as_u32());
            }
        }
        if new_c.size(c) < 2 || !touches(c) {
            continue;
        }
        let rep = next.representative(c).unwrap_or_default().to_string();
        let mut olds: Vec<u32> =
            new_c.members(c).iter().filter_map(|&m| old_of(m)).map(ClusterId::as_u32).collect();
        olds.sort_unstable();
        olds.dedup();
        let big: Vec<u32> =
            olds.iter().copied().filter(|&o| old_c.size(ClusterId::from_u32(o)) >= 2).collect();
        if big.is_empty() {
            cs.appeared.push(rep);
            continue;
        }
        if big.len() >= 2 {
            let reps = big
                .iter()
                .filter_map(|&o| old.representative(ClusterId::from_u32(o)).map(str::to_string))
                .collect();
            cs.merged.push((rep.clone(), reps));
        }
        // Accounts that were not in one of the big clusters before joined this one.
        let anchor =
            new_c.members(c).iter().copied().find(|&m| old_of(m).is_some_and(|o| big.contains(&o.as_u32())));
        for &m in new_c.members(c) {
            if old_of(m).is_some_and(|o| big.contains(&o.as_u32())) {
                continue;
            }
            let evidence = anchor.and_then(|anchor| {
                match explain(next, AccountId::from_u32(m), AccountId::from_u32(anchor)) {
                    Explanation::Linked { path, .. } => path.into_iter().next(),
                    _ => None,
                }
            });
            cs.joined.push(Joined {
                account: next.accounts.get(m).to_string(),
                cluster: rep.clone(),
                evidence,
            });
        }
    }
    for (o, news) in old_spread {
        let oc = ClusterId::from_u32(o);
        if old_c.size(oc) >= 2 && news.len() >= 2 {
            let mut reps: Vec<String> = news
                .iter()
                .filter_map(|&c| next.representative(ClusterId::from_u32(c)).map(str::to_string))
                .collect();
            reps.sort();
            cs.split.push((old.representative(oc).unwrap_or_default().to_string(), reps));
        }
    }
    cs.split.sort();
    cs
}
