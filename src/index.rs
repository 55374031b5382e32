//! The built index: every lookup an investigator or a service asks, answered from arrays and
//! bitmaps in time proportional to the answer.
//!
//! An [`Index`] is immutable once built and `Send + Sync`: share it behind an `Arc` and query
//! it from any number of threads without locks. It owns the interned names (the only place the
//! user's strings live), the frozen graph, the link result (components and hubs), the operator
//! clustering, a bitmap of accounts per kind, and ready-made bitmaps for artifacts with many
//! accounts (small ones are converted from their sorted CSR slice on demand, which is as fast
//! as cloning a bitmap and costs no memory).

use std::time::Duration;

use ahash::AHashMap;
use roaring::RoaringBitmap;

use crate::cluster::{Clustering, Clusters};
use crate::evidence::Evidence;
use crate::graph::Graph;
use crate::id::{AccountId, ArtifactId, ClusterId, KindId};
use crate::intern::{Interner, NameOrder, StrList};
use crate::kind::Kinds;
use crate::operators::{Input, OperatorClustering, OperatorSettings};
use crate::policy::LinkPolicy;
use crate::set::AccountSet;

/// Artifacts with at least this many accounts get a ready-made bitmap.
///
/// # Examples
///
/// ```
/// assert!(sellerlink::BITMAP_MIN_DEGREE >= 2);
/// ```
pub const BITMAP_MIN_DEGREE: u32 = 256;

/// Which shared artifacts a neighbourhood lookup goes through.
///
/// # Examples
///
/// ```
/// use sellerlink::Via;
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
/// use sellerlink::Level;
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
///
/// # Examples
///
/// See [`IndexBuilder::build_with`](crate::IndexBuilder::build_with).
pub trait Progress {
    /// Called when a stage starts.
    fn stage(&mut self, name: &'static str);
}

/// A [`Progress`] that ignores everything.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, NoProgress};
/// let index = IndexBuilder::new().build_with(&mut NoProgress)?;
/// assert_eq!(index.account_count(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&mut self, _name: &'static str) {}
}

/// Counts and stage timings of a build.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// b.add("s1", "email", "a@b.c", None)?;
/// let index = b.build()?;
/// assert_eq!(index.stats().observations, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BuildStats {
    /// Observations given to the builder (duplicates included).
    pub observations: u64,
    /// Wall time per stage, in pipeline order.
    pub timings: Vec<(&'static str, Duration)>,
}

/// A suppressed artifact ("hub"): one that links nobody, with the reason: more accounts than
/// its kind's cap or the policy's ceiling, accounts that are not otherwise related
/// (incoherent), or an analyst's declaration of legitimate infrastructure. It stays queryable.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{KindPolicy, LinkPolicy, Suppressed};
/// let policy = LinkPolicy::new().kind("wifi", KindPolicy::weak().max_accounts(40));
/// let mut b = sellerlink::IndexBuilder::new().policy(policy);
/// for i in 0..50 {
///     b.add(&format!("s{i}"), "wifi", "00:11:22:33:44:55", None)?;
/// }
/// let index = b.build()?;
/// let hub = index.hubs().next().expect("the cafe router");
/// assert_eq!(hub.accounts, 50);
/// assert_eq!(hub.reason, Suppressed::Degree { cap: 40 });
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
    /// The degree cap in force for its kind.
    pub cap: u32,
    /// Why it links nobody.
    pub reason: crate::policy::Suppressed,
}

/// The built index: every lookup an investigator or a service asks, answered from arrays and
/// bitmaps in time proportional to the answer.
///
/// An `Index` is immutable once built and `Send + Sync`: share it behind an `Arc` and query
/// it from any number of threads without locks. It owns the interned names (the only place the
/// user's strings live), the frozen graph, the evidence judged on it (hubs, corroboration), the
/// components, the operator clustering, a bitmap of accounts per kind, and ready-made bitmaps
/// for artifacts with many accounts (small ones are converted from their sorted CSR slice on
/// demand, which is as fast as cloning a bitmap and costs no memory).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, Via};
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
    pub(crate) order: NameOrder,
    live: usize,
    pub(crate) graph: Graph,
    pub(crate) evidence: Evidence,
    pub(crate) components: Clustering,
    pub(crate) operators: Option<OperatorClustering>,
    pub(crate) operator_settings: Option<OperatorSettings>,
    kind_accounts: Vec<RoaringBitmap>,
    big: AHashMap<u32, RoaringBitmap>,
    pub(crate) stats: BuildStats,
}

/// The outputs of the pipeline's stages, from which [`Index::from_parts`] makes an index.
pub(crate) struct Parts {
    pub(crate) kinds: Kinds,
    pub(crate) policy: LinkPolicy,
    pub(crate) accounts: Interner,
    pub(crate) artifacts: Interner,
    pub(crate) first_written: StrList,
    pub(crate) order: NameOrder,
    pub(crate) graph: Graph,
    pub(crate) evidence: Evidence,
    pub(crate) components: Clustering,
    pub(crate) operators: Option<OperatorClustering>,
    pub(crate) operator_settings: Option<OperatorSettings>,
    pub(crate) stats: BuildStats,
}

impl Index {
    /// The one constructor: an index from the stages' outputs (a build, an update or a
    /// snapshot), with its lookup bitmaps built here.
    pub(crate) fn from_parts(p: Parts) -> Index {
        let live = (0..p.graph.account_count() as u32)
            .filter(|&a| !p.graph.is_vacant(AccountId::from_u32(a)))
            .count();
        let (kind_accounts, big) = lookup_bitmaps(&p.graph, p.kinds.len());
        Index {
            kinds: p.kinds,
            policy: p.policy,
            accounts: p.accounts,
            artifacts: p.artifacts,
            first_written: p.first_written,
            order: p.order,
            live,
            graph: p.graph,
            evidence: p.evidence,
            components: p.components,
            operators: p.operators,
            operator_settings: p.operator_settings,
            kind_accounts,
            big,
            stats: p.stats,
        }
    }

    /// The operator stage's view of this index.
    pub(crate) fn operator_input(&self) -> Input<'_> {
        Input {
            graph: &self.graph,
            evidence: &self.evidence,
            components: &self.components,
            order: &self.order,
            names: &self.accounts,
        }
    }

    /// Number of account slots (ids `0..n`); more than [`Index::account_count`] when updates
    /// removed accounts.
    pub(crate) fn account_slots(&self) -> usize {
        self.graph.account_count()
    }

    /// True when `a` names an account of this index.
    #[inline]
    fn is_live(&self, a: AccountId) -> bool {
        a.as_usize() < self.account_slots() && !self.graph.is_vacant(a)
    }

    /// `a`, checked: an account of this index.
    ///
    /// Account ids are stable across updates: an update appends new accounts and never
    /// renumbers old ones, so an id taken from an index names the same account in every index
    /// updated from it. An id past the end (from another index, say) or of an account an update
    /// removed is refused.
    ///
    /// # Errors
    ///
    /// [`crate::Error::UnknownAccountId`] or [`crate::Error::RemovedAccount`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{AccountId, Error, IndexBuilder};
    /// let mut b = IndexBuilder::new();
    /// b.add("s1", "device", "d", None)?;
    /// b.add("s2", "device", "d", None)?;
    /// let index = b.build()?;
    /// let s2 = index.account("s2").expect("known");
    /// let mut u = index.updater();
    /// u.add("s0", "device", "d", None)?; // sorts first, yet gets a new id
    /// u.remove_account("s1");
    /// let (next, _) = u.finish()?;
    /// assert_eq!(next.check(s2)?, s2);
    /// assert_eq!(next.account_name(s2), "s2");
    /// assert!(matches!(next.check(index.account("s1").expect("known")), Err(Error::RemovedAccount { .. })));
    /// assert!(matches!(next.check(AccountId::must(99)), Err(Error::UnknownAccountId { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check(&self, a: AccountId) -> Result<AccountId, crate::Error> {
        if a.as_usize() >= self.account_slots() {
            return Err(crate::Error::UnknownAccountId { id: a, slots: self.account_slots() });
        }
        if self.graph.is_vacant(a) {
            return Err(crate::Error::RemovedAccount {
                id: a,
                name: self.accounts.get(a.as_u32()).to_string(),
            });
        }
        Ok(a)
    }

    /// Panics with the reason [`Index::check`] gives when `a` is not an account of this index.
    #[track_caller]
    fn expect_account(&self, a: AccountId) {
        if !self.is_live(a) {
            match self.check(a) {
                Err(e) => panic!("{e}"),
                Ok(_) => unreachable!("a live account passes the check"),
            }
        }
    }

    /// Panics when `f` is not an artifact of this index.
    #[track_caller]
    fn expect_artifact(&self, f: ArtifactId) {
        if f.as_usize() >= self.artifact_count() {
            panic!("{}", crate::Error::UnknownArtifactId { id: f, count: self.artifact_count() });
        }
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
        self.live
    }

    /// The accounts, in id order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s2", "email", "b@b.c", None)?;
    /// b.add("s1", "email", "a@b.c", None)?;
    /// let index = b.build()?;
    /// let names: Vec<&str> = index.accounts().map(|a| index.account_name(a)).collect();
    /// assert_eq!(names, ["s1", "s2"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accounts(&self) -> impl Iterator<Item = AccountId> + '_ {
        (0..self.account_slots() as u32).map(AccountId::from_u32).filter(|&a| !self.graph.is_vacant(a))
    }

    /// The accounts in name order (the order of [`Index::accounts`] in a fresh build; an
    /// update appends new accounts' ids, so their orders can differ after it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s2", "email", "b@b.c", None)?;
    /// let index = b.build()?;
    /// let mut u = index.updater();
    /// u.add("s1", "email", "a@b.c", None)?;
    /// let (next, _) = u.finish()?;
    /// let by_id: Vec<&str> = next.accounts().map(|a| next.account_name(a)).collect();
    /// let by_name: Vec<&str> = next.accounts_by_name().map(|a| next.account_name(a)).collect();
    /// assert_eq!((by_id, by_name), (vec!["s2", "s1"], vec!["s1", "s2"]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accounts_by_name(&self) -> impl Iterator<Item = AccountId> + '_ {
        self.order.iter(self.account_slots())
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
        self.accounts.find(0, name.trim()).map(AccountId::from_u32).filter(|&a| self.is_live(a))
    }

    /// The id of an account by name, or an error naming it.
    ///
    /// # Errors
    ///
    /// [`crate::Error::UnknownAccount`] when the index has no such account.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "email", "a@b.c", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.try_account("s1")?, index.account("s1").expect("known"));
    /// assert!(index.try_account("s2").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_account(&self, name: &str) -> Result<AccountId, crate::Error> {
        self.account(name).ok_or_else(|| crate::Error::UnknownAccount(name.trim().to_string()))
    }

    /// The name of an account.
    ///
    /// # Panics
    ///
    /// Panics when `a` is not an account of this index (see [`Index::check`]).
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
    #[track_caller]
    pub fn account_name(&self, a: AccountId) -> &str {
        self.expect_account(a);
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
        crate::evidence::find_written(&self.kinds, &self.artifacts, kind, value, &mut String::new())
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
    #[track_caller]
    pub fn artifact_value(&self, f: ArtifactId) -> &str {
        self.expect_artifact(f);
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
    #[track_caller]
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
    #[track_caller]
    pub fn artifact_kind(&self, f: ArtifactId) -> KindId {
        self.expect_artifact(f);
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
    #[track_caller]
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
    #[track_caller]
    pub fn accounts_of(&self, f: ArtifactId) -> AccountSet {
        self.expect_artifact(f);
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
    #[track_caller]
    pub fn artifacts_of(&self, a: AccountId) -> impl ExactSizeIterator<Item = ArtifactId> + '_ {
        self.expect_account(a);
        self.graph.artifacts_of(a).iter().copied()
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
        self.evidence.is_suppressed(f)
    }

    /// The suppressed hubs, in artifact id order.
    ///
    /// # Examples
    ///
    /// See [`Hub`].
    pub fn hubs(&self) -> impl Iterator<Item = Hub> + '_ {
        self.evidence.suppressed.iter().map(|f| {
            let artifact = ArtifactId::from_u32(f);
            let kind = self.graph.kind(artifact);
            Hub {
                artifact,
                kind,
                accounts: self.graph.degree(artifact),
                cap: self.evidence.resolved.cap[kind.as_usize()],
                reason: self
                    .evidence
                    .suppression(&self.graph, artifact)
                    .unwrap_or(crate::policy::Suppressed::Incoherent),
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
        self.evidence.suppressed.len()
    }

    /// The degree cap in force for a kind (resolved: automatic caps are numbers here, and a kind
    /// without a cap of its own has the policy's ceiling).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{DEFAULT_CEILING, KindPolicy, LinkPolicy};
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// assert_eq!(index.hub_cap(index.kinds().get("wifi").expect("built in")), DEFAULT_CEILING);
    /// let policy = LinkPolicy::new().kind("wifi", KindPolicy::weak().max_accounts(40));
    /// let index = sellerlink::IndexBuilder::new().policy(policy).build()?;
    /// assert_eq!(index.hub_cap(index.kinds().get("wifi").expect("built in")), 40);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hub_cap(&self, k: KindId) -> u32 {
        self.evidence.resolved.cap.get(k.as_usize()).copied().unwrap_or(u32::MAX)
    }

    fn passes(&self, f: ArtifactId, via: Via) -> bool {
        match via {
            Via::Any => true,
            Via::NonHubs => !self.is_hub(f),
            Via::Hubs => self.is_hub(f),
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
    #[track_caller]
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
    /// use sellerlink::{IndexBuilder, Via};
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
    #[track_caller]
    pub fn shares(&self, a: AccountId, k: KindId, via: Via) -> AccountSet {
        self.sharing(a, Some(k), via)
    }

    #[track_caller]
    fn sharing(&self, a: AccountId, k: Option<KindId>, via: Via) -> AccountSet {
        self.expect_account(a);
        let mut out = RoaringBitmap::new();
        for &f in self.graph.artifacts_of(a) {
            if k.is_some_and(|k| self.graph.kind(f) != k) || !self.passes(f, via) {
                continue;
            }
            match self.big.get(&f.as_u32()) {
                Some(bm) => out |= bm,
                None => out.extend(self.graph.accounts_of(f).iter().map(|a| a.as_u32())),
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

    /// The operator stage's settings, when it ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let index = sellerlink::IndexBuilder::new().operators(None).build()?;
    /// assert!(index.operator_settings().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn operator_settings(&self) -> Option<&OperatorSettings> {
        self.operator_settings.as_ref()
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
    /// use sellerlink::Level;
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
    /// See [`IndexBuilder::build`](crate::IndexBuilder::build).
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
    #[track_caller]
    pub fn cluster_of(&self, a: AccountId) -> ClusterId {
        self.expect_account(a);
        match self.clustering().cluster_of(a) {
            Some(c) => c,
            None => unreachable!("every live account has a cluster"),
        }
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
        let first = self.clustering().members(c).iter().min_by_key(|&&a| self.order.rank(a))?;
        Some(self.accounts.get(first.as_u32()))
    }

    /// The clusters of the default clustering, in id order, with their members.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "device", "d", None)?;
    /// b.add("s2", "device", "d", None)?;
    /// b.add("s3", "email", "s3@example.com", None)?;
    /// let index = b.build()?;
    /// let sizes: Vec<usize> = index.clusters().map(|(_, members)| members.len()).collect();
    /// assert_eq!(sizes, [2, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clusters(&self) -> Clusters<'_> {
        self.clustering().iter()
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
    #[track_caller]
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
            + self.order.heap_bytes()
            + bitmaps
            + self.evidence.suppressed.serialized_size()
    }
}

/// The lookup bitmaps: per kind, the accounts that used an artifact of it; per artifact with
/// at least [`BITMAP_MIN_DEGREE`] accounts, its accounts.
fn lookup_bitmaps(g: &Graph, kinds: usize) -> (Vec<RoaringBitmap>, AHashMap<u32, RoaringBitmap>) {
    // Per kind, a plain bitset over accounts (n/8 bytes), filled artifact by artifact (in
    // array order) and then compressed: no random reads of artifact kinds per account.
    let mut bits: Vec<Vec<u8>> = vec![Vec::new(); kinds];
    for f in (0..g.artifact_count() as u32).map(ArtifactId::from_u32) {
        let set = &mut bits[g.kind(f).as_usize()];
        if set.is_empty() {
            set.resize(g.account_count().div_ceil(8), 0);
        }
        for &a in g.accounts_of(f) {
            set[a.as_usize() / 8] |= 1 << (a.as_u32() % 8);
        }
    }
    let kind_accounts: Vec<RoaringBitmap> =
        bits.iter().map(|b| RoaringBitmap::from_lsb0_bytes(0, b)).collect();
    drop(bits);
    let mut big = AHashMap::new();
    for f in (0..g.artifact_count() as u32).map(ArtifactId::from_u32) {
        if g.degree(f) >= BITMAP_MIN_DEGREE {
            big.insert(f.as_u32(), AccountSet::from_sorted(g.accounts_of(f)).into_bitmap());
        }
    }
    (kind_accounts, big)
}
