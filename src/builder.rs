//! Building: observations in, a frozen [`Index`] out.
//!
//! [`IndexBuilder`] collects observations: each is checked and normalised
//! ([`crate::observation`]), its account and artifact interned to dense ids, and one 16-byte
//! edge appended. [`IndexBuilder::build`] hands what it collected to the
//! [pipeline](crate::pipeline), which runs the remaining stages in order.

use crate::error::{Field, ObservationError};
use crate::graph::Edge;
use crate::id::KindId;
use crate::index::{Index, NoProgress, Progress};
use crate::intern::{Interner, StrList};
use crate::kind::Kinds;
use crate::normalize::Normalizer;
use crate::operators::OperatorSettings;
use crate::pipeline::Collected;
use crate::policy::LinkPolicy;

/// Collects observations and builds an [`Index`].
///
/// # Examples
///
/// ```
/// use sellerlink::IndexBuilder;
/// let mut b = IndexBuilder::new();
/// b.add("store-a", "device", "fp-93ab", None)?;
/// b.add("store-b", "device", "FP-93AB", None)?; // same device, other spelling
/// b.add("store-c", "wifi", "a4:2b:b0:12:34:56", None)?;
/// let index = b.build()?;
/// let a = index.account("store-a").expect("known");
/// let b = index.account("store-b").expect("known");
/// assert_eq!(index.cluster_of(a), index.cluster_of(b));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IndexBuilder {
    pub(crate) collected: Collected,
    scratch: String,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexBuilder {
    /// A builder with the built-in kinds, the default policy and operator detection on.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::IndexBuilder::new().observation_count(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_kinds(Kinds::new())
    }

    /// A builder over a kinds registry of the caller's.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, kind::Kinds, normalize::Normalizer};
    /// let mut kinds = Kinds::new();
    /// kinds.register("dob_name", Normalizer::Address)?;
    /// let b = IndexBuilder::with_kinds(kinds);
    /// assert!(b.kinds().get("dob_name").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_kinds(kinds: Kinds) -> Self {
        Self::from_collected(Collected {
            kinds,
            accounts: Interner::new(),
            artifacts: Interner::tagged(),
            first_written: StrList::default(),
            edges: Vec::new(),
            policy: LinkPolicy::default(),
            operators: Some(OperatorSettings::default()),
            presumed: Vec::new(),
            market_degree: Vec::new(),
        })
    }

    /// A builder that continues from what an earlier build collected (an update).
    pub(crate) fn from_collected(collected: Collected) -> Self {
        Self { collected, scratch: String::new() }
    }

    /// Sets the linking policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, policy::{KindPolicy, LinkPolicy}};
    /// let b = IndexBuilder::new().policy(LinkPolicy::new().kind("wifi", KindPolicy::strong()));
    /// # let _ = b;
    /// ```
    pub fn policy(mut self, policy: LinkPolicy) -> Self {
        self.collected.policy = policy;
        self
    }

    /// Sets the operator (community detection) stage; `None` stops at linked components.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, leiden::Leiden, operators::OperatorSettings};
    /// let components_only = IndexBuilder::new().operators(None);
    /// let tuned = IndexBuilder::new()
    ///     .operators(Some(OperatorSettings::new().leiden(Leiden::new().resolution(0.8))));
    /// # let _ = (components_only, tuned);
    /// ```
    pub fn operators(mut self, operators: Option<OperatorSettings>) -> Self {
        self.collected.operators = operators;
        self
    }

    /// Registers (or replaces) a kind's normaliser; see [`Kinds::register`].
    ///
    /// # Errors
    ///
    /// A [`crate::kind::KindError`] when the name is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, normalize::Normalizer};
    /// let mut b = IndexBuilder::new();
    /// b.register_kind("tax_id", Normalizer::Document)?;
    /// b.add("s1", "tax_id", "de 123-456", None)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_kind(
        &mut self,
        name: &str,
        normalizer: Normalizer,
    ) -> Result<KindId, crate::kind::KindError> {
        self.collected.kinds.register(name, normalizer)
    }

    /// The kinds registry.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::IndexBuilder::new().kinds().get("ip").is_some());
    /// ```
    pub fn kinds(&self) -> &Kinds {
        &self.collected.kinds
    }

    /// Makes room for about `observations` more observations, of which `accounts` new accounts
    /// and `artifacts` new artifacts, so that the lookup tables do not grow (and rehash) while
    /// they arrive. Only a hint: more fit, and fewer waste at most the reserved room.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.reserve(1_000, 200, 700);
    /// b.add("s1", "device", "d", None)?;
    /// assert_eq!(b.observation_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve(&mut self, observations: usize, accounts: usize, artifacts: usize) {
        self.collected.edges.reserve(observations);
        self.collected.accounts.reserve(accounts);
        self.collected.artifacts.reserve(artifacts);
    }

    /// Number of observations accepted so far (duplicates included).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s", "email", "a@b.c", None)?;
    /// assert_eq!(b.observation_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn observation_count(&self) -> usize {
        self.collected.edges.len()
    }

    /// Adds one observation: `account` used the artifact `value` of `kind` at `time` (unix
    /// seconds), normalising `value` by its kind's rule. An unknown kind becomes a custom kind.
    ///
    /// # Errors
    ///
    /// An [`ObservationError`] naming the field at fault; nothing is added then.
    ///
    /// # Panics
    ///
    /// When a custom normaliser ([`Normalizer::custom`]) panics, the panic goes on to the
    /// caller, as any callback's does; nothing is added, and the builder stays usable (a new
    /// kind name stays registered). Reading CSV (the `ingest` module) turns such a panic into an
    /// error naming the line instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("store-1", "phone", "+86 138 0013 8000", Some(1_700_000_000))?;
    /// assert!(b.add("store-1", "phone", "call me", None).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add(
        &mut self,
        account: &str,
        kind: &str,
        value: &str,
        time: Option<i64>,
    ) -> Result<(), ObservationError> {
        let mut scratch = core::mem::take(&mut self.scratch);
        let result =
            crate::observation::check(&mut self.collected.kinds, account, kind, value, time, &mut scratch)
                .and_then(|c| self.add_checked(c.account, c.kind, &scratch, value, c.time));
        self.scratch = scratch;
        result
    }

    /// Adds an observation that passed [`crate::observation::check`] (`value` canonical, `raw`
    /// as written).
    pub(crate) fn add_checked(
        &mut self,
        account: &str,
        kind: KindId,
        value: &str,
        raw: &str,
        time: i64,
    ) -> Result<(), ObservationError> {
        let c = &mut self.collected;
        let artifact = intern_artifact(&mut c.artifacts, &mut c.first_written, kind, value, raw)?;
        self.add_use(account, artifact, time)
    }

    /// Adds a use of an artifact already interned in this builder (by [`intern_artifact`] on
    /// its artifact interner: the CSV reader interns artifacts in a stage of their own).
    pub(crate) fn add_use(
        &mut self,
        account: &str,
        artifact: u32,
        time: i64,
    ) -> Result<(), ObservationError> {
        let c = &mut self.collected;
        let account = c.accounts.intern(0, account).ok_or(ObservationError::Capacity(Field::Account))?;
        c.edges.push(Edge { artifact, time, account });
        Ok(())
    }

    /// The artifact interner and first spellings, taken out for a stage of their own; given
    /// back with [`IndexBuilder::put_artifacts`].
    pub(crate) fn take_artifacts(&mut self) -> (Interner, StrList) {
        let c = &mut self.collected;
        (core::mem::take(&mut c.artifacts), core::mem::take(&mut c.first_written))
    }

    /// Gives back what [`IndexBuilder::take_artifacts`] took.
    pub(crate) fn put_artifacts(&mut self, (artifacts, first_written): (Interner, StrList)) {
        self.collected.artifacts = artifacts;
        self.collected.first_written = first_written;
    }

    /// The numbers of distinct accounts and artifacts collected so far (for sizing tables).
    pub(crate) fn distinct_counts(&self) -> (usize, usize) {
        (self.collected.accounts.len(), self.collected.artifacts.len())
    }

    /// Runs the pipeline: freeze, judge the evidence, link, detect operators, index.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Capacity`] when the input exceeds 32-bit offsets;
    /// [`crate::Error::Settings`] when the operator settings' resolution is NaN, negative or
    /// infinite (which Leiden would read as 1, 0 or the largest float).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("s1", "payment", "DE89 3704 0044 0532 0130 00", None)?;
    /// b.add("s2", "payment", "de89370400440532013000", None)?;
    /// let index = b.build()?;
    /// assert_eq!(index.clustering().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Index, crate::Error> {
        self.build_with(&mut NoProgress)
    }

    /// Runs the pipeline, reporting each stage to `progress` as it starts.
    ///
    /// # Errors
    ///
    /// As [`IndexBuilder::build`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, Progress};
    /// struct Stages(Vec<&'static str>);
    /// impl Progress for Stages {
    ///     fn stage(&mut self, name: &'static str) {
    ///         self.0.push(name);
    ///     }
    /// }
    /// let mut seen = Stages(Vec::new());
    /// IndexBuilder::new().build_with(&mut seen)?;
    /// assert_eq!(seen.0, ["canonicalize", "freeze", "judge", "link", "operators", "bitmaps"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_with(self, progress: &mut dyn Progress) -> Result<Index, crate::Error> {
        if let Some(settings) = &self.collected.operators {
            settings
                .effective_leiden()
                .check()
                .map_err(|why| crate::Error::Settings(format!("operator settings: {why}")))?;
        }
        Ok(crate::pipeline::run(self.collected, progress, None)?.0)
    }
}

/// Interns a canonical `value` of `kind` (`raw` as written), recording its first raw spelling
/// when it is new; its id.
pub(crate) fn intern_artifact(
    artifacts: &mut Interner,
    first_written: &mut StrList,
    kind: KindId,
    value: &str,
    raw: &str,
) -> Result<u32, ObservationError> {
    let artifact = artifacts.intern(kind.as_u32(), value).ok_or(ObservationError::Capacity(Field::Value))?;
    if artifact as usize == first_written.len() {
        let raw = raw.trim();
        first_written.push(if raw == value { "" } else { raw });
    }
    Ok(artifact)
}
