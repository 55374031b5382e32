//! The built index: every lookup an investigator or a service asks, answered from arrays and
//! bitmaps in time proportional to the answer.
//!
//! An [`Index`] is immutable once built and `Send + Sync`: share it behind an `Arc` and query
//! it from any number of threads without locks. It owns the interned names (the only place the
//! user's strings live), the frozen graph, the link result (components and hubs), the operator
//! clustering, a bitmap of accounts per kind, and ready-made bitmaps for artifacts with many
//! accounts (small ones are converted from their sorted CSR slice on demand, which is as fast
//! as cloning a bitmap and costs no memory).

use std::time::{Duration, Instant};

use ahash::AHashMap;
use roaring::RoaringBitmap;

use crate::builder::IndexBuilder;
use crate::cluster::Clustering;
use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId, ClusterId, KindId};
use crate::intern::{Interner, StrList};
use crate::kind::Kinds;
use crate::link::{Decisions, Linkage, Prior, Resolved, link_decided, relink};
use crate::operators::{OperatorClustering, Operators};
use crate::policy::LinkPolicy;
use crate::set::AccountSet;

/// Artifacts with at least this many accounts get a ready-made bitmap.
pub const BITMAP_MIN_DEGREE: u32 = 256;

/// Which shared artifacts a neighbourhood lookup goes through.
///
/// # Examples
///
/// ```
/// use sellerlink::index::Via;
/// assert_ne!(Via::Any, Via::NonHubs);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Via {
    /// Every shared artifact, hubs included.
    Any,
    /// Only artifacts that are not suppressed hubs.
    NonHubs,
    /// Only suppressed hubs.
    Hubs,
}

/// Which clustering a lookup reads.
///
/// # Examples
///
/// ```
/// use sellerlink::index::Level;
/// assert_eq!(Level::default(), Level::Operators);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Level {
    /// Linked components (union-find).
    Components,
    /// Operators (communities within components); falls back to components when the index was
    /// built without the operator stage.
    #[default]
    Operators,
}

/// Reports pipeline stages as they start (for progress bars).
pub trait Progress {
    /// Called when a stage starts.
    fn stage(&mut self, name: &'static str);
}

/// A [`Progress`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&mut self, _name: &'static str) {}
}

/// Counts and stage timings of a build.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct BuildStats {
    /// Observations given to the builder (duplicates included).
    pub observations: u64,
    /// Wall time per stage, in pipeline order.
    pub timings: Vec<(&'static str, Duration)>,
}

/// A suppressed hub: an artifact with more accounts than its kind's cap.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// for i in 0..50 {
///     b.add(&format!("s{i}"), "wifi", "00:11:22:33:44:55", None)?;
/// }
/// let index = b.build()?;
/// let hub = index.hubs().next().expect("the cafe router");
/// assert_eq!(hub.accounts, 50);
/// assert_eq!(hub.cap, 40);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hub {
    /// The artifact.
    pub artifact: ArtifactId,
    /// Its kind.
    pub kind: KindId,
    /// How many accounts used it.
    pub accounts: u32,
    /// The cap it exceeded.
    pub cap: u32,
}

/// The built index. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, index::Via};
/// let mut b = IndexBuilder::new();
/// b.add("s1", "device", "laptop-1", None)?;
/// b.add("s2", "device", "laptop-1", None)?;
/// b.add("s2", "payment", "mule-9", None)?;
/// b.add("s3", "payment", "MULE-9", None)?;
/// let index = b.build()?;
/// let s1 = index.account("s1").expect("known");
/// let s3 = index.account("s3").expect("known");
/// assert_eq!(index.cluster_of(s1), index.cluster_of(s3));
/// let laptop = index.artifact("device", "laptop-1").expect("known");
/// assert_eq!(index.accounts_of(laptop).len(), 2);
/// assert_eq!(index.neighbors(s1, Via::Any).len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Index {
    pub(crate) kinds: Kinds,
    pub(crate) policy: LinkPolicy,
    pub(crate) accounts: Interner,
    pub(crate) artifacts: Interner,
    pub(crate) first_written: StrList,
    pub(crate) graph: Graph,
    pub(crate) resolved: Resolved,
    pub(crate) hubs: RoaringBitmap,
    pub(crate) confirmed: Vec<u64>,
    pub(crate) decisions: Decisions,
    pub(crate) components: Clustering,
    pub(crate) operators: Option<OperatorClustering>,
    pub(crate) operator_config: Option<Operators>,
    pub(crate) kind_accounts: Vec<RoaringBitmap>,
    pub(crate) big: AHashMap<u32, RoaringBitmap>,
    pub(crate) stats: BuildStats,
}

impl Index {
    /// Runs the pipeline on a builder, reporting stages to `progress`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Graph`] when the input exceeds 32-bit offsets.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{Index, IndexBuilder, index::NoProgress};
    /// let mut b = IndexBuilder::new();
    /// b.add("s1", "email", "a@b.c", None)?;
    /// let index = Index::build_from(b, &mut NoProgress)?;
    /// assert_eq!(index.account_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_from(b: IndexBuilder, progress: &mut dyn Progress) -> Result<Index, crate::Error> {
        Ok(Self::assemble(b, progress, &|_, _| None, None)?.0)
    }

    /// The pipeline, with per-component operator results reusable and, after an update (the
    /// previous index and the artifacts whose uses changed), linking limited to what the update
    /// reaches (see [`relink`]). Also returns how many accounts were linked.
    pub(crate) fn assemble(
        mut b: IndexBuilder,
        progress: &mut dyn Progress,
        reuse: &(dyn Fn(&Index, &[u32]) -> Option<crate::operators::Solved> + Sync),
        prior: Option<(&Index, &RoaringBitmap)>,
    ) -> Result<(Index, usize), crate::Error> {
        let mut timings = Vec::new();
        let observations = b.edges.len() as u64;
        let mut clock = Instant::now();
        let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
            timings.push((name, clock.elapsed()));
            clock = Instant::now();
        };
        progress.stage("canonicalize");
        let new_of_old = b.canonicalize_accounts();
        lap("canonicalize", &mut timings);
        progress.stage("freeze");
        let graph = b.freeze()?;
        lap("freeze", &mut timings);
        progress.stage("link");
        let decisions = Decisions::resolve(&b.policy, &b.kinds, &b.accounts, &b.artifacts);
        let (Linkage { components, hubs, resolved, confirmed }, linked) = match prior {
            Some((old, touched)) => {
                let prior = Prior {
                    components: &old.components,
                    caps: &old.resolved.cap,
                    confirmed: &old.confirmed,
                    graph: &old.graph,
                    touched,
                    new_of_old: new_of_old.get(..old.account_count()).unwrap_or(&[]),
                };
                relink(&graph, &b.kinds, &b.policy, &decisions, &prior)
            }
            None => (link_decided(&graph, &b.kinds, &b.policy, &decisions), graph.account_count()),
        };
        drop(new_of_old);
        lap("link", &mut timings);
        let mut index = Index {
            kinds: b.kinds,
            policy: b.policy,
            accounts: b.accounts,
            artifacts: b.artifacts,
            first_written: b.first_written,
            graph,
            resolved,
            hubs,
            confirmed,
            decisions,
            components,
            operators: None,
            operator_config: b.operators,
            kind_accounts: Vec::new(),
            big: AHashMap::new(),
            stats: BuildStats::default(),
        };
        if let Some(ops) = index.operator_config.clone() {
            progress.stage("operators");
            index.operators = Some(ops.detect_reusing(&index, reuse));
            lap("operators", &mut timings);
        }
        progress.stage("bitmaps");
        index.build_bitmaps();
        lap("bitmaps", &mut timings);
        index.stats = BuildStats { observations, timings };
        Ok((index, linked))
    }

    pub(crate) fn build_bitmaps(&mut self) {
        let g = &self.graph;
        // Per kind, a plain bitset over accounts (n/8 bytes), filled artifact by artifact (in
        // array order) and then compressed: no random reads of artifact kinds per account.
        let mut bits: Vec<Vec<u8>> = vec![Vec::new(); self.kinds.len()];
        for f in 0..g.artifact_count() {
            let set = &mut bits[g.art_kind[f].as_usize()];
            if set.is_empty() {
                set.resize(g.account_count().div_ceil(8), 0);
            }
            for &a in g.accounts_of(ArtifactId::from_u32(f as u32)) {
                set[a as usize / 8] |= 1 << (a % 8);
            }
        }
        let kind_accounts: Vec<RoaringBitmap> =
            bits.iter().map(|b| RoaringBitmap::from_lsb0_bytes(0, b)).collect();
        drop(bits);
        let mut big = AHashMap::new();
        for f in 0..g.artifact_count() as u32 {
            if g.degree(ArtifactId::from_u32(f)) >= BITMAP_MIN_DEGREE {
                big.insert(f, AccountSet::from_sorted(g.accounts_of(ArtifactId::from_u32(f))).into_bitmap());
            }
        }
        self.kind_accounts = kind_accounts;
        self.big = big;
    }

    /// Replaces the normaliser of a kind, for lookups by value (for example to restore a
    /// custom rule after loading a snapshot, which saves custom rules by name only).
    ///
    /// # Errors
    ///
    /// A [`crate::kind::KindError`] when the name is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::normalize::Normalizer;
    /// let mut index = sellerlink::IndexBuilder::new().build()?;
    /// index.set_normalizer("tax_id", Normalizer::Document)?;
    /// assert!(index.kinds().get("tax_id").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_normalizer(
        &mut self,
        kind: &str,
        normalizer: crate::normalize::Normalizer,
    ) -> Result<KindId, crate::kind::KindError> {
        let k = self.kinds.register(kind, normalizer)?;
        if self.kind_accounts.len() < self.kinds.len() {
            self.kind_accounts.resize(self.kinds.len(), RoaringBitmap::new());
            self.resolved.cap.resize(self.kinds.len(), u32::MAX);
        }
        Ok(k)
    }

    // ---- names and ids ----

    /// Number of accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::IndexBuilder::new().build()?.account_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Number of artifacts.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::IndexBuilder::new().build()?.artifact_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn artifact_count(&self) -> usize {
        self.artifacts.len()
    }

    /// The id of an account by name (trimmed, case-sensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add(" s1 ", "email", "a@b.c", None)?;
    /// let index = b.build()?;
    /// assert!(index.account("s1").is_some());
    /// assert!(index.account("S1").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn account(&self, name: &str) -> Option<AccountId> {
        self.accounts.find(0, name.trim()).map(AccountId::from_u32)
    }

    /// The name of an account.
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "email", "a@b.c", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.account_name(index.account("s1").expect("known")), "s1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn account_name(&self, a: AccountId) -> &str {
        self.accounts.get(a.as_u32())
    }

    /// The id of an artifact by kind name and raw value (normalised by the kind's rule).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "wifi", "A4-2B-B0-12-34-56", None)?;
    /// let index = b.build()?;
    /// assert!(index.artifact("wifi", "a42bb0123456").is_some());
    /// assert!(index.artifact("wifi", "not a mac").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn artifact(&self, kind: &str, value: &str) -> Option<ArtifactId> {
        let k = self.kinds.get(kind)?;
        let mut out = String::new();
        self.kinds.normalizer(k).normalize(value, &mut out).ok()?;
        self.artifacts.find(k.as_u32(), &out).map(ArtifactId::from_u32)
    }

    /// The canonical value of an artifact.
    ///
    /// # Panics
    ///
    /// Panics when `f` is not from this index.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "email", " Ann@Example.com", None)?;
    /// let index = b.build()?;
    /// let f = index.artifact("email", "ann@example.com").expect("known");
    /// assert_eq!(index.artifact_value(f), "ann@example.com");
    /// assert_eq!(index.kind_name(index.artifact_kind(f)), "email");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn artifact_value(&self, f: ArtifactId) -> &str {
        self.artifacts.get(f.as_u32())
    }

    /// An artifact's value as first written in the input (before normalisation).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "wifi", "A4-2B-B0-12-34-56", None)?;
    /// b.add("s2", "wifi", "a42bb0123456", None)?;
    /// let index = b.build()?;
    /// let f = index.artifact("wifi", "a4:2b:b0:12:34:56").expect("known");
    /// assert_eq!(index.artifact_first_written(f), "A4-2B-B0-12-34-56");
    /// assert_eq!(index.artifact_value(f), "a4:2b:b0:12:34:56");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn artifact_first_written(&self, f: ArtifactId) -> &str {
        match self.first_written.get(f.as_usize()) {
            "" => self.artifact_value(f),
            raw => raw,
        }
    }

    /// The kind of an artifact.
    ///
    /// # Panics
    ///
    /// Panics when `f` is not from this index.
    ///
    /// # Examples
    ///
    /// See [`Index::artifact_value`].
    pub fn artifact_kind(&self, f: ArtifactId) -> KindId {
        self.graph.kind(f)
    }

    /// The name of a kind.
    ///
    /// # Panics
    ///
    /// Panics when `k` is not from this index.
    ///
    /// # Examples
    ///
    /// See [`Index::artifact_value`].
    pub fn kind_name(&self, k: KindId) -> &str {
        self.kinds.name(k)
    }

    /// The kinds registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert!(index.kinds().get("payment").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kinds(&self) -> &Kinds {
        &self.kinds
    }

    /// The linking policy the index was built with.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert_eq!(index.policy().corroboration_needed(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn policy(&self) -> &LinkPolicy {
        &self.policy
    }

    /// The frozen bipartite graph.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert_eq!(index.graph().edge_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Counts and stage timings of the build.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert!(index.stats().timings.iter().any(|(stage, _)| *stage == "link"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    // ---- the bipartite graph ----

    /// The accounts that used an artifact.
    ///
    /// # Panics
    ///
    /// Panics when `f` is not from this index.
    ///
    /// # Examples
    ///
    /// See [`Index`].
    pub fn accounts_of(&self, f: ArtifactId) -> AccountSet {
        match self.big.get(&f.as_u32()) {
            Some(bm) => AccountSet::from(bm.clone()),
            None => AccountSet::from_sorted(self.graph.accounts_of(f)),
        }
    }

    /// The artifacts an account used, in id order.
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "email", "a@b.c", None)?;
    /// b.add("s1", "phone", "+44 20 7946 0958", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.artifacts_of(index.account("s1").expect("known")).count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn artifacts_of(&self, a: AccountId) -> impl ExactSizeIterator<Item = ArtifactId> + '_ {
        self.graph.artifacts_of(a).iter().map(|&f| ArtifactId::from_u32(f))
    }

    /// The accounts that used at least one artifact of a kind.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "email", "a@b.c", None)?;
    /// let index = b.build()?;
    /// let email = index.kinds().get("email").expect("built in");
    /// assert_eq!(index.accounts_with_kind(email).len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accounts_with_kind(&self, k: KindId) -> AccountSet {
        self.kind_accounts.get(k.as_usize()).cloned().map(AccountSet::from).unwrap_or_default()
    }

    /// True when an artifact is a suppressed hub.
    ///
    /// # Examples
    ///
    /// See [`Hub`].
    pub fn is_hub(&self, f: ArtifactId) -> bool {
        self.hubs.contains(f.as_u32())
    }

    /// The suppressed hubs, in artifact id order.
    ///
    /// # Examples
    ///
    /// See [`Hub`].
    pub fn hubs(&self) -> impl Iterator<Item = Hub> + '_ {
        self.hubs.iter().map(|f| {
            let artifact = ArtifactId::from_u32(f);
            let kind = self.graph.kind(artifact);
            Hub {
                artifact,
                kind,
                accounts: self.graph.degree(artifact),
                cap: self.resolved.cap[kind.as_usize()],
            }
        })
    }

    /// Number of suppressed hubs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::IndexBuilder::new().build()?.hub_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hub_count(&self) -> u64 {
        self.hubs.len()
    }

    /// The hub cap in force for a kind (resolved: automatic caps are numbers here).
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert_eq!(index.hub_cap(index.kinds().get("wifi").expect("built in")), 40);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hub_cap(&self, k: KindId) -> u32 {
        self.resolved.cap.get(k.as_usize()).copied().unwrap_or(u32::MAX)
    }

    /// True when time group `ordinal` of weak artifact `f` was linked by group corroboration.
    pub(crate) fn is_confirmed(&self, f: u32, ordinal: u32) -> bool {
        self.confirmed.binary_search(&(u64::from(f) << 32 | u64::from(ordinal))).is_ok()
    }

    fn passes(&self, f: u32, via: Via) -> bool {
        match via {
            Via::Any => true,
            Via::NonHubs => !self.hubs.contains(f),
            Via::Hubs => self.hubs.contains(f),
        }
    }

    /// The accounts that share at least one artifact with `a` (through `via`), `a` excluded.
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// See [`Index`].
    pub fn neighbors(&self, a: AccountId, via: Via) -> AccountSet {
        self.sharing(a, None, via)
    }

    /// The accounts that share with `a` at least one artifact of kind `k` (through `via`),
    /// `a` excluded. Combine with set operators for questions such as "shares a device *and* a
    /// payment account with X, not through a hub".
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, index::Via};
    /// let mut b = IndexBuilder::new();
    /// for (s, dev, pay) in [("x", "d1", "p1"), ("y", "d1", "p1"), ("z", "d1", "p2")] {
    ///     b.add(s, "device", dev, None)?;
    ///     b.add(s, "payment", pay, None)?;
    /// }
    /// let index = b.build()?;
    /// let x = index.account("x").expect("known");
    /// let device = index.kinds().get("device").expect("built in");
    /// let payment = index.kinds().get("payment").expect("built in");
    /// let both = index.shares(x, device, Via::NonHubs) & index.shares(x, payment, Via::NonHubs);
    /// assert_eq!(both.iter().map(|a| index.account_name(a)).collect::<Vec<_>>(), vec!["y"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shares(&self, a: AccountId, k: KindId, via: Via) -> AccountSet {
        self.sharing(a, Some(k), via)
    }

    fn sharing(&self, a: AccountId, k: Option<KindId>, via: Via) -> AccountSet {
        let mut out = RoaringBitmap::new();
        for &f in self.graph.artifacts_of(a) {
            if k.is_some_and(|k| self.graph.art_kind[f as usize] != k) || !self.passes(f, via) {
                continue;
            }
            match self.big.get(&f) {
                Some(bm) => out |= bm,
                None => out.extend(self.graph.accounts_of(ArtifactId::from_u32(f)).iter().copied()),
            }
        }
        out.remove(a.as_u32());
        AccountSet::from(out)
    }

    // ---- clusterings ----

    /// The linked components (union-find level).
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert!(index.components().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn components(&self) -> &Clustering {
        &self.components
    }

    /// The operator clustering with confidences, when the operator stage ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert!(index.operators().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn operators(&self) -> Option<&OperatorClustering> {
        self.operators.as_ref()
    }

    /// The clustering at a level (operators fall back to components when not computed).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::index::Level;
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert_eq!(index.clustering_at(Level::Components).len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clustering_at(&self, level: Level) -> &Clustering {
        match (level, &self.operators) {
            (Level::Operators, Some(ops)) => ops.clustering(),
            _ => &self.components,
        }
    }

    /// The default clustering: operators when computed, else components.
    ///
    /// # Examples
    ///
    /// See [`IndexBuilder::build`].
    pub fn clustering(&self) -> &Clustering {
        self.clustering_at(Level::Operators)
    }

    /// The cluster of an account in the default clustering.
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// See [`Index`].
    pub fn cluster_of(&self, a: AccountId) -> ClusterId {
        self.clustering().cluster_of(a).unwrap_or_else(|| panic!("account {a} is not in this index"))
    }

    /// The members of a cluster of the default clustering (empty when out of range).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "d", None)?;
    /// b.add("s2", "device", "d", None)?;
    /// let index = b.build()?;
    /// let c = index.cluster_of(index.account("s1").expect("known"));
    /// assert_eq!(index.members(c).len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn members(&self, c: ClusterId) -> AccountSet {
        self.clustering().member_set(c)
    }

    /// The representative of a cluster of the default clustering: its smallest member name.
    /// Unlike the dense [`ClusterId`], it does not move when an update adds or removes other
    /// clusters, and it does not depend on input order; an update keeps it for every cluster
    /// it does not touch (and for a cluster that only gained members with larger names).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s2", "device", "d", None)?;
    /// b.add("s1", "device", "d", None)?;
    /// let index = b.build()?;
    /// let c = index.cluster_of(index.account("s2").expect("known"));
    /// assert_eq!(index.representative(c), Some("s1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn representative(&self, c: ClusterId) -> Option<&str> {
        // Account ids are in name order, so the smallest id has the smallest name... except
        // after an update appended accounts; take the minimum name to be exact.
        self.clustering().members(c).iter().map(|&a| self.accounts.get(a)).min()
    }

    /// The other members of `a`'s cluster (default clustering).
    ///
    /// # Panics
    ///
    /// Panics when `a` is not from this index.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "d", None)?;
    /// b.add("s2", "device", "d", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.cluster_mates(index.account("s1").expect("known")).len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cluster_mates(&self, a: AccountId) -> AccountSet {
        let mut s = self.members(self.cluster_of(a));
        s.remove(a);
        s
    }

    /// Approximate heap bytes held by the index.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::IndexBuilder::new().build()?.heap_bytes() < 1 << 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heap_bytes(&self) -> usize {
        let bitmaps: usize =
            self.kind_accounts.iter().chain(self.big.values()).map(|b| b.serialized_size()).sum();
        self.graph.heap_bytes()
            + self.accounts.heap_bytes()
            + self.artifacts.heap_bytes()
            + self.first_written.heap_bytes()
            + self.components.heap_bytes()
            + self.operators.as_ref().map_or(0, OperatorClustering::heap_bytes)
            + bitmaps
            + self.hubs.serialized_size()
    }
}
