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
//! (a must-link partner is pulled in too); every other account keeps its component, and when a
//! hub cap moves everything is re-linked. Community detection, the expensive stage, runs again
//! only for components that are new or whose accounts use or used a touched artifact. Every other
//! component keeps its operators. Automatic hub caps that move make every component count as
//! touched. The result partitions the accounts exactly as one build from the same
//! observations would, and [`ChangeSet`] counts what was re-linked and recomputed.
//!
//! Identity: account ids are stable: an update keeps every old account's id and appends new
//! accounts (an account the update removes leaves its id unused, and [`Index::check`] refuses
//! it). Dense [`ClusterId`]s are positions and may shift; a cluster's stable identity is its
//! [representative](Index::representative) (smallest member name), which an untouched cluster
//! keeps. The change set speaks in representatives.
//!
//! Within one update, additions and removals apply in the order they are made: removing an
//! account drops every observation of it made so far (the index's and this update's), and an
//! observation added after the removal is kept.

use std::sync::atomic::{AtomicUsize, Ordering};

use ahash::{AHashMap, AHashSet};
use roaring::RoaringBitmap;

use crate::builder::IndexBuilder;
use crate::error::ObservationError;
use crate::explain::{Explanation, Step, explain};
use crate::graph::{Edge, Graph, NO_TIME};
use crate::id::{AccountId, ClusterId};
use crate::index::{Index, NoProgress};
use crate::ingest::{CsvOptions, IngestReport, read_csv};
use crate::operators::{Input, Solved};
use crate::pipeline::{Collected, Update};

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
    /// Removed accounts, each with the number of observations collected when it was removed.
    removed: AHashMap<AccountId, usize>,
    expire_before: Option<i64>,
}

/// An account that joined an existing cluster, with the evidence that brought it in.
///
/// # Examples
///
/// See [`Updater`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
///
/// # Examples
///
/// See [`Updater`].
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// Accounts whose links were recomputed (the rest kept their components; see the
    /// [module docs](self)).
    pub relinked_accounts: usize,
}

impl Index {
    /// Starts an update of this index; see [`Updater`].
    ///
    /// # Examples
    ///
    /// See [`Updater`].
    pub fn updater(&self) -> Updater<'_> {
        let g = &self.graph;
        let mut edges = Vec::with_capacity(if g.is_timed() { g.ev_acc.len() } else { g.art_acc.len() });
        for f in (0..g.artifact_count() as u32).map(crate::ArtifactId::from_u32) {
            let (accounts, times) = g.use_slices(f);
            for (i, &account) in accounts.iter().enumerate() {
                let time = times.map_or(NO_TIME, |t| t[i]);
                edges.push(Edge { artifact: f.as_u32(), time, account: account.as_u32() });
            }
        }
        let old_edges = edges.len();
        let builder = IndexBuilder::from_collected(Collected {
            kinds: self.kinds.clone(),
            accounts: self.accounts.clone(),
            artifacts: self.artifacts.clone(),
            first_written: self.first_written.clone(),
            edges,
            policy: self.policy.clone(),
            operators: self.operator_settings.clone(),
            presumed: Vec::new(),
            market_degree: Vec::new(),
        });
        Updater { old: self, builder, old_edges, removed: AHashMap::new(), expire_before: None }
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

    /// Reads a CSV file of observations into this update, as
    /// [`ingest::read_csv_path`](crate::ingest::read_csv_path) does into a builder (its size
    /// sizes the tables, unless `options` set a size hint).
    ///
    /// # Errors
    ///
    /// As [`ingest::read_csv_path`](crate::ingest::read_csv_path): the file cannot be opened,
    /// or a line is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::ingest::CsvOptions;
    /// let path = std::env::temp_dir().join(format!("sellerlink-day2-{}.csv", std::process::id()));
    /// std::fs::write(&path, "account,kind,value\ns1,device,d\ns2,device,d\n")?;
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// let mut u = index.updater();
    /// u.read_csv_path(&path, &CsvOptions::strict())?;
    /// let (next, _) = u.finish()?;
    /// assert_eq!(next.clustering().len(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_csv_path(
        &mut self,
        path: impl AsRef<std::path::Path>,
        options: &CsvOptions,
    ) -> Result<IngestReport, crate::error::IngestError> {
        crate::ingest::read_csv_path(path, options, &mut self.builder)
    }

    /// The builder that collects this update's observations (for the Arrow and Parquet
    /// readers).
    #[cfg(feature = "arrow")]
    pub(crate) fn builder_mut(&mut self) -> &mut IndexBuilder {
        &mut self.builder
    }

    /// Removes an account and every observation of it made so far (the index's, and those
    /// added in this update before the call); observations added after the call are kept.
    /// Returns false when neither the index nor this update has the account.
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
    /// assert!(!u.remove_account("nobody"));
    /// let (next, changes) = u.finish()?;
    /// assert_eq!(next.account_count(), 1);
    /// assert_eq!(changes.removed_accounts, 1);
    ///
    /// // Removed, then added again: the new observation stays.
    /// let mut u = next.updater();
    /// u.remove_account("s1");
    /// u.add("s1", "email", "s1@example.com", None)?;
    /// let (again, _) = u.finish()?;
    /// assert_eq!(again.artifacts_of(again.account("s1").expect("kept")).count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_account(&mut self, name: &str) -> bool {
        let c = &self.builder.collected;
        let Some(a) = c.accounts.find(0, name.trim()).map(AccountId::from_u32) else { return false };
        let known =
            self.old.check(a).is_ok() || c.edges[self.old_edges..].iter().any(|e| e.account == a.as_u32());
        if known {
            self.removed.insert(a, c.edges.len());
        }
        known
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
        let Updater { old, builder, old_edges, removed, expire_before } = self;
        let mut collected = builder.collected;
        // Which artifacts the update touches, and which edges survive. Removals apply to the
        // index's own observations, not to ones this update added.
        let mut touched = RoaringBitmap::new();
        let mut kept = Vec::with_capacity(collected.edges.len());
        for (i, e) in collected.edges.iter().enumerate() {
            let expired = expire_before.is_some_and(|c| e.time != NO_TIME && e.time < c);
            let gone = removed.get(&AccountId::from_u32(e.account)).is_some_and(|&upto| i < upto);
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
        collected.edges = kept;

        // Reuse a component's operators when the component existed before with the same
        // members and none of its accounts uses a touched artifact.
        let (kept, recomputed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let reuse = |input: &Input<'_>, members: &[AccountId]| -> Option<Solved> {
            let solved = reuse_component(old, &touched, input, members);
            let counter = if solved.is_some() { &kept } else { &recomputed };
            counter.fetch_add(1, Ordering::Relaxed);
            solved
        };
        let update = Update { old, touched: &touched, reuse: &reuse };
        let (next, relinked) = crate::pipeline::run(collected, &mut NoProgress, Some(update))?;
        let removed_accounts = old.accounts().filter(|&a| next.check(a).is_err()).count();
        let mut changes = change_set(old, &next, &touched, removed_accounts);
        changes.kept_components = kept.into_inner();
        changes.recomputed_components = recomputed.into_inner();
        changes.relinked_accounts = relinked;
        Ok((next, changes))
    }
}

/// True when `a` was an account of `old`.
fn was_live(old: &Index, a: AccountId) -> bool {
    old.check(a).is_ok()
}

/// The old operators of a component, when the update left it alone: it existed before with
/// the same members, none of its accounts uses or used a touched artifact, and no hub cap
/// moved. `members` are in name order; the labels follow it.
fn reuse_component(
    old: &Index,
    touched: &RoaringBitmap,
    input: &Input<'_>,
    members: &[AccountId],
) -> Option<Solved> {
    let ops = old.operators()?;
    if input.evidence.resolved.cap != old.evidence.resolved.cap {
        return None;
    }
    for &m in members {
        if !was_live(old, m) || reaches_touched(old, input.graph, touched, m) || rejudged(old, input, m) {
            return None;
        }
    }
    let comp = old.components.cluster_of(members[0])?;
    if old.components.size(comp) != members.len()
        || members.iter().any(|&a| old.components.cluster_of(a) != Some(comp))
    {
        return None;
    }
    let mut local: AHashMap<u32, u32> = AHashMap::new();
    let mut confidence = Vec::new();
    let labels = members
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

/// True when the judgement of one of `m`'s artifacts changed: suppressed in one index and not
/// the other, or `m` detached from it in one and not the other (coherence is judged on the
/// whole graph, so an update can change it for artifacts it did not touch).
fn rejudged(old: &Index, input: &Input<'_>, m: AccountId) -> bool {
    input.graph.artifacts_of(m).iter().any(|&f| {
        let known = f.as_usize() < old.graph.artifact_count();
        let before = |ev: &crate::evidence::Evidence| (ev.is_suppressed(f), ev.is_detached(f, m));
        !known || before(&old.evidence) != before(input.evidence)
    })
}

/// True when account `m` uses a touched artifact in `graph` (the next index's), or used one in
/// `old` (expiry can take an artifact away from an account altogether).
fn reaches_touched(old: &Index, graph: &Graph, touched: &RoaringBitmap, m: AccountId) -> bool {
    let uses = |g: &Graph, a: AccountId| g.artifacts_of(a).iter().any(|f| touched.contains(f.as_u32()));
    (m.as_usize() < graph.account_count() && uses(graph, m)) || (was_live(old, m) && uses(&old.graph, m))
}

fn change_set(old: &Index, next: &Index, touched: &RoaringBitmap, removed_accounts: usize) -> ChangeSet {
    let mut cs = ChangeSet { removed_accounts, ..ChangeSet::default() };
    let (old_c, new_c) = (old.clustering(), next.clustering());
    let touches =
        |c: ClusterId| new_c.members(c).iter().any(|&m| reaches_touched(old, &next.graph, touched, m));
    // Old cluster of each surviving account (ids are stable across the update).
    let old_of = |m: AccountId| old_c.cluster_of(m);
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
        let in_big = |m: AccountId| old_of(m).is_some_and(|o| big.contains(&o.as_u32()));
        let anchor = new_c.members(c).iter().copied().find(|&m| in_big(m));
        for &m in new_c.members(c) {
            if in_big(m) {
                continue;
            }
            let evidence = anchor.and_then(|anchor| match explain(next, m, anchor) {
                Explanation::Linked { path, .. } => path.into_iter().next(),
                _ => None,
            });
            cs.joined.push(Joined {
                account: next.account_name(m).to_string(),
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
