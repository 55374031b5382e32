//! Link policy: which shared artifacts are evidence that two accounts have one operator.
//!
//! A [`LinkPolicy`] holds a [`KindPolicy`] per kind name and one for custom kinds. Each says:
//!
//! - **strength**: a [`Strength::Strong`] artifact (a device, a payment account, an ID document)
//!   links two accounts on its own; a [`Strength::Weak`] one (a router, an IP, an address) links
//!   two accounts only when they share at least [`LinkPolicy::corroboration`] distinct linking
//!   artifacts (two by default). Kinds in one *evidence group* count once: a router, its public
//!   IP and a street address are one *place* seen three ways (group `network`), so a household
//!   or a co-working space (router, IP and address shared) corroborates nothing; a place and a
//!   device, a payment account or a document do. A weak artifact is also corroborated *as a
//!   group* ([`LinkPolicy::group_cohesion`]): when it has three or more accounts and at least
//!   half of them already lie in one component, it attaches its accounts that are linked to
//!   nobody to that component (it never merges two components). An evasive ring's office
//!   router completes the ring; a café router, whose users are strangers, does not.
//! - **coherence** (on by default, [`LinkPolicy::coherence`]): an artifact of three or more
//!   accounts links them only when the accounts are otherwise related: one group, related
//!   through other accepted evidence, must hold half of those of its accounts that have any
//!   other evidence. A café PC used by fifteen strangers is *incoherent* and links nobody; a
//!   mule account used by 150 storefronts that also share laptops, documents and office IPs is
//!   the ring's spine. A second related group that reaches beyond the artifact (the other ring
//!   that bought a document) is *detached*: the artifact links it to nobody. The rules are in
//!   the docs of the coherence judgement (one visit seen through several artifacts counts once;
//!   far larger artifacts do not relate; a crowd over eight that shares nothing else is a hub).
//! - **hub cap and ceiling**: an artifact used by more accounts than its kind's cap links
//!   nobody. Kinds have no cap by default: coherence judges them, and the policy's
//!   [`ceiling`](LinkPolicy::ceiling) (4096 accounts) bounds the work. [`HubCap::Fixed`] and
//!   [`HubCap::Auto`] (derived from the kind's own degree distribution) remain available.
//!   Artifacts set aside are reported with the reason ([`Suppressed`]) and stay queryable.
//! - **time window**: with a window, two uses of one artifact are shared only if their
//!   timestamps are at most the window apart (residential IPs are re-leased to other households
//!   every few days). An observation without a timestamp is compatible with every use.
//! - **weight**: how much one shared artifact of this kind counts in the evidence graph that
//!   community detection runs on (scaled by rarity: `w · ln 2 / ln d` for `d` accounts).
//!
//! ## Learning
//!
//! A build learns from its data ([`LinkPolicy::learn`], on by default) how strongly each kind
//! indicates one operator: Fellegi–Sunter `m` and `u` estimated by expectation–maximisation over
//! the pairs of accounts that share a linking artifact, and, per kind, the share of those pairs
//! that also share other evidence. A kind links on its own when either estimate says one
//! shared artifact is more likely one operator than two ([`LearnedKind::strong`]); a custom
//! kind that is derived from another (a `surname+postcode` kind beside `surname`) is one piece
//! of evidence with it. Learning can make a weak built-in kind strong (on person records, an
//! address is an identifier), never a strong one weak, and a custom kind weighs what it
//! learned. What was learned is pinned in the index's policy ([`Learned`]): updates reuse it,
//! snapshots store it, and a policy saved to a file reproduces the run.
//!
//! ## The defaults, and why
//!
//! | kind | prior strength | group | window | weight | reasoning |
//! |---|---|---|---|---|---|
//! | `device` | strong | – | – | 1.0 | a laptop is one operator's; a café PC or a default fingerprint is incoherent |
//! | `wifi` | weak | `network` | – | 0.5 | households, offices and cafés share routers |
//! | `ip` | weak | `network` | 24 h | 0.3 | NAT and VPN exits are shared by many at once; residential IPs are recycled |
//! | `id_document` | strong | – | – | 1.0 | one identity; a document sold to a second ring is detached |
//! | `phone` | strong | – | – | 0.8 | |
//! | `email` | strong | – | – | 0.8 | accounts rarely share a mailbox legitimately |
//! | `payment` | strong | – | – | 1.0 | a mule account can serve 150 storefronts |
//! | `address` | weak | `network` | – | 0.4 | a place: a warehouse, a household, a fulfilment centre |
//! | custom | weak | – | – | 0.5 | until learned: strong when what it shares comes with other evidence |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::Suppressed;
use crate::kind::{BUILTINS, CUSTOM_PRIOR, Prior};

/// Whether one shared artifact of a kind links two accounts on its own.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{LinkPolicy, Strength};
/// assert_eq!(LinkPolicy::default().kind_policy("device").strength(), Strength::Strong);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Strength {
    /// One shared artifact links.
    Strong,
    /// Needs corroboration by further shared artifacts.
    Weak,
}

/// The largest number of accounts an artifact may have and still link them.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{HubCap, KindPolicy};
/// let p = KindPolicy::weak().hub_cap(HubCap::Auto);
/// assert_eq!(p.cap(), HubCap::Auto);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HubCap {
    /// Artifacts with more accounts than this are hubs.
    Fixed(u32),
    /// Derived per kind from the degree distribution: see [`auto_cap`].
    Auto,
    /// No artifact of this kind is a hub.
    Unlimited,
}

/// The policy of one kind. Built with [`KindPolicy::strong`] or [`KindPolicy::weak`] and setters.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{KindPolicy, LinkPolicy};
/// let ip = KindPolicy::weak().max_accounts(20).window_secs(6 * 3600).weight(0.2);
/// let policy = LinkPolicy::default().kind("ip", ip);
/// assert_eq!(policy.kind_policy("ip").window(), Some(6 * 3600));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindPolicy {
    strength: Strength,
    cap: HubCap,
    window: Option<u64>,
    weight: f64,
    group: Option<String>,
}

impl KindPolicy {
    /// A strong kind: no cap, no window, weight 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{HubCap, KindPolicy};
    /// assert_eq!(KindPolicy::strong().cap(), HubCap::Unlimited);
    /// ```
    pub fn strong() -> Self {
        Self { strength: Strength::Strong, cap: HubCap::Unlimited, window: None, weight: 1.0, group: None }
    }

    /// A weak kind: no cap, no window, weight 0.5.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{KindPolicy, Strength};
    /// assert_eq!(KindPolicy::weak().strength(), Strength::Weak);
    /// ```
    pub fn weak() -> Self {
        Self { strength: Strength::Weak, cap: HubCap::Unlimited, window: None, weight: 0.5, group: None }
    }

    /// Sets the hub cap to a fixed number of accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{HubCap, KindPolicy};
    /// assert_eq!(KindPolicy::strong().max_accounts(5).cap(), HubCap::Fixed(5));
    /// ```
    pub fn max_accounts(self, n: u32) -> Self {
        self.hub_cap(HubCap::Fixed(n))
    }

    /// Sets the hub cap.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{HubCap, KindPolicy};
    /// assert_eq!(KindPolicy::strong().hub_cap(HubCap::Auto).cap(), HubCap::Auto);
    /// ```
    pub fn hub_cap(mut self, cap: HubCap) -> Self {
        self.cap = cap;
        self
    }

    /// Sets a time window in seconds (uses further apart are not shared).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::weak().window_secs(60).window(), Some(60));
    /// ```
    pub fn window_secs(mut self, secs: u64) -> Self {
        self.window = Some(secs);
        self
    }

    /// Removes the time window.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::weak().window_secs(60).no_window().window(), None);
    /// ```
    pub fn no_window(mut self) -> Self {
        self.window = None;
        self
    }

    /// Sets the evidence weight (finite, non-negative; other values are clamped to 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::weak().weight(f64::NAN).evidence_weight(), 0.0);
    /// ```
    pub fn weight(mut self, w: f64) -> Self {
        self.weight = if w.is_finite() && w > 0.0 { w } else { 0.0 };
        self
    }

    /// Puts the kind in an evidence group: for corroboration, all the artifacts of all the
    /// kinds in one group count as one piece of evidence.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::weak().group("network").evidence_group(), Some("network"));
    /// ```
    pub fn group(mut self, name: &str) -> Self {
        self.group = Some(name.to_string());
        self
    }

    /// The evidence group, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// assert_eq!(LinkPolicy::new().kind_policy("ip").evidence_group(), Some("network"));
    /// ```
    pub fn evidence_group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// Sets the strength.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{KindPolicy, Strength};
    /// assert_eq!(KindPolicy::weak().strength_is(Strength::Strong).strength(), Strength::Strong);
    /// ```
    pub fn strength_is(mut self, s: Strength) -> Self {
        self.strength = s;
        self
    }

    /// The strength.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{KindPolicy, Strength};
    /// assert_eq!(KindPolicy::strong().strength(), Strength::Strong);
    /// ```
    pub fn strength(&self) -> Strength {
        self.strength
    }

    /// The hub cap.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{HubCap, KindPolicy};
    /// assert_eq!(KindPolicy::weak().cap(), HubCap::Unlimited);
    /// ```
    pub fn cap(&self) -> HubCap {
        self.cap
    }

    /// The time window in seconds, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::strong().window(), None);
    /// ```
    pub fn window(&self) -> Option<u64> {
        self.window
    }

    /// The evidence weight.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::KindPolicy;
    /// assert_eq!(KindPolicy::strong().evidence_weight(), 1.0);
    /// ```
    pub fn evidence_weight(&self) -> f64 {
        self.weight
    }
}

/// The linking policy: a [`KindPolicy`] per kind name, one for custom kinds, and the
/// corroboration weak evidence needs. See the [module docs](self) for the defaults.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{HubCap, KindPolicy, LinkPolicy};
/// let policy = LinkPolicy::default()
///     .kind("address", KindPolicy::weak().max_accounts(10))
///     .custom_kinds(KindPolicy::strong().max_accounts(5))
///     .corroboration(3);
/// assert_eq!(policy.kind_policy("address").cap(), HubCap::Fixed(10));
/// assert_eq!(policy.kind_policy("dob_name").cap(), HubCap::Fixed(5));
/// assert_eq!(policy.corroboration_needed(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkPolicy {
    kinds: BTreeMap<String, KindPolicy>,
    custom: KindPolicy,
    corroboration: u32,
    cohesion: Option<f64>,
    coherence: Option<f64>,
    ceiling: u32,
    learn: bool,
    learned: Option<Learned>,
    overrides: Overrides,
}

/// What a build learned of each kind from its data (see
/// [`LinkPolicy::learn`]), pinned in the policy so that updates, snapshots and later runs with
/// the saved policy reuse it.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// for i in 0..40 {
///     // Two records of one person share a name-and-birth-date; most also share an email.
///     for r in 0..2 {
///         let account = format!("p{i}-r{r}");
///         b.add(&account, "name_dob", &format!("person {i} 1970-01-0{}", i % 9 + 1), None)?;
///         let email = if i % 10 == 0 { format!("p{i}-{r}@example.com") } else { format!("p{i}@example.com") };
///         b.add(&account, "email", &email, None)?;
///     }
/// }
/// let index = b.build()?;
/// let learned = index.policy().learned().expect("learned at build");
/// let name_dob = &learned.kinds["name_dob"];
/// assert!(name_dob.strong(), "{name_dob:?}");
/// assert!(name_dob.applied);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Learned {
    /// The share of candidate pairs (accounts that share a linking artifact) estimated to have
    /// one operator.
    pub match_share: f64,
    /// How many candidate pairs the estimate read.
    pub pairs: u64,
    /// Per kind, by name.
    pub kinds: BTreeMap<String, LearnedKind>,
}

/// What a build learned of one kind; see [`Learned`].
///
/// # Examples
///
/// See [`Learned`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LearnedKind {
    /// `m`: the chance that two accounts of one operator share an artifact of this kind's
    /// evidence field.
    pub m: f64,
    /// `u`: the same chance for accounts of different operators.
    pub u: f64,
    /// The chance of one operator given a shared artifact of this kind alone.
    pub posterior: f64,
    /// Of the pairs of accounts that share this kind's evidence, the share that also share
    /// other evidence.
    pub corroborated: f64,
    /// The kind this one is derived from (its shared artifacts lie inside that kind's), if any:
    /// the two are then one piece of evidence.
    pub derived_from: Option<String>,
    /// True when linking uses the estimate for this kind (see [`LearnedKind::strong`]); a
    /// custom kind also weighs the larger of its posterior and its corroborated share in
    /// community detection (built-in kinds keep their prior weights).
    pub applied: bool,
}

impl LearnedKind {
    /// True when the estimate says one shared artifact of this kind links on its own: its
    /// posterior is at least one half, or at least [`STRONG_CORROBORATED`] of the pairs that
    /// share it also share other evidence (the mixture model cannot separate two classes when
    /// nearly every candidate pair is one operator; the corroborated share still can tell an
    /// identifier from a place). A built-in kind that is strong by prior stays strong.
    ///
    /// # Examples
    ///
    /// See [`Learned`].
    pub fn strong(&self) -> bool {
        self.posterior >= 0.5 || self.corroborated >= STRONG_CORROBORATED
    }
}

/// The share of a kind's candidate pairs that must also share other evidence for the kind to
/// link on its own (see [`LearnedKind::strong`]): sharing it comes with independent evidence
/// four times in five.
pub const STRONG_CORROBORATED: f64 = 0.8;

/// The default hard ceiling: artifacts with more accounts than this link nobody, whatever their
/// coherence (a bound on work, not a judgement of evidence).
pub const DEFAULT_CEILING: u32 = 4096;

/// The default coherence share: one related group must hold half of an artifact's accounts
/// that have other evidence for it to link them.
pub const DEFAULT_COHERENCE: f64 = 0.5;

/// Analyst decisions that override the evidence; part of the policy, so they survive every
/// rebuild, snapshot and update.
///
/// # Examples
///
/// ```
/// let p = sellerlink::policy::LinkPolicy::new().must_link("a", "b").legitimate("address", "1 Dock Rd");
/// assert_eq!(p.overrides().must_link, vec![("a".to_string(), "b".to_string())]);
/// assert_eq!(p.overrides().legitimate.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    /// Account pairs confirmed to have one operator: linked, and kept in one operator.
    pub must_link: Vec<(String, String)>,
    /// Account pairs confirmed to have different operators: an operator holding both is split
    /// between them (their component, a statement about evidence, stays).
    pub cannot_link: Vec<(String, String)>,
    /// Artifacts declared legitimate shared infrastructure (`(kind, value)`, value as written):
    /// they link nobody and weigh nothing in community detection, like a known fulfilment centre.
    pub legitimate: Vec<(String, String)>,
}

impl KindPolicy {
    /// The policy a prior describes.
    fn from_prior(p: &Prior) -> Self {
        let mut k = if p.strong { KindPolicy::strong() } else { KindPolicy::weak() };
        k = k.weight(p.weight);
        if p.cap != crate::kind::NO_CAP {
            k = k.max_accounts(p.cap);
        }
        if let Some(w) = p.window_secs {
            k = k.window_secs(w);
        }
        if let Some(g) = p.group {
            k = k.group(g);
        }
        k
    }
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            kinds: BUILTINS.iter().map(|b| (b.name.to_string(), KindPolicy::from_prior(&b.prior))).collect(),
            custom: KindPolicy::from_prior(&CUSTOM_PRIOR),
            corroboration: 2,
            cohesion: Some(0.5),
            coherence: Some(DEFAULT_COHERENCE),
            ceiling: DEFAULT_CEILING,
            learn: true,
            learned: None,
            overrides: Overrides::default(),
        }
    }
}

impl LinkPolicy {
    /// The default policy (see the [module docs](self)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::policy::LinkPolicy::new().corroboration_needed(), 2);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the policy of one kind (by name, case-insensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{KindPolicy, LinkPolicy, Strength};
    /// let p = LinkPolicy::new().kind("Wifi", KindPolicy::strong());
    /// assert_eq!(p.kind_policy("wifi").strength(), Strength::Strong);
    /// ```
    pub fn kind(mut self, name: &str, policy: KindPolicy) -> Self {
        self.kinds.insert(name.trim().to_ascii_lowercase(), policy);
        self
    }

    /// Sets the policy of every kind without a policy of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{KindPolicy, LinkPolicy, Strength};
    /// let p = LinkPolicy::new().custom_kinds(KindPolicy::strong());
    /// assert_eq!(p.kind_policy("shoe_size").strength(), Strength::Strong);
    /// ```
    pub fn custom_kinds(mut self, policy: KindPolicy) -> Self {
        self.custom = policy;
        self
    }

    /// Sets how many distinct shared linking artifacts weak evidence needs (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// assert_eq!(LinkPolicy::new().corroboration(0).corroboration_needed(), 1);
    /// ```
    pub fn corroboration(mut self, n: u32) -> Self {
        self.corroboration = n.max(1);
        self
    }

    /// Sets the share of a weak artifact's accounts that must already be linked to another of
    /// its accounts for the artifact to link them all (group corroboration; only for artifacts
    /// with three or more accounts). `None` turns group corroboration off. Values are clamped
    /// to `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// assert_eq!(LinkPolicy::new().group_cohesion(None).group_cohesion_needed(), None);
    /// assert_eq!(LinkPolicy::new().group_cohesion_needed(), Some(0.5));
    /// ```
    pub fn group_cohesion(mut self, share: Option<f64>) -> Self {
        self.cohesion = share.filter(|s| s.is_finite() && *s > 0.0).map(|s| s.min(1.0));
        self
    }

    /// Sets the coherence an artifact of three or more accounts needs to link them: the share
    /// of its accounts that one group, related through other accepted evidence, must hold (see
    /// [the coherence rules](crate::policy#coherence)). `None` turns the judgement off, leaving
    /// only degree caps. Values are clamped to `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// assert_eq!(LinkPolicy::new().coherence(Some(0.8)).coherence_needed(), Some(0.8));
    /// assert_eq!(LinkPolicy::new().coherence(None).coherence_needed(), None);
    /// ```
    pub fn coherence(mut self, share: Option<f64>) -> Self {
        self.coherence = share.filter(|s| s.is_finite() && *s > 0.0).map(|s| s.min(1.0));
        self
    }

    /// The coherence share, if the judgement is on.
    ///
    /// # Examples
    ///
    /// See [`LinkPolicy::coherence`].
    pub fn coherence_needed(&self) -> Option<f64> {
        self.coherence
    }

    /// The cap of kind `name` under this policy: its fixed cap, or for an automatic cap
    /// [`auto_cap_histogram`] of `histogram` (degree → how many of the kind's artifacts have
    /// it), and never above the ceiling. A build resolves every kind's cap so.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use sellerlink::policy::{KindPolicy, LinkPolicy, DEFAULT_CEILING};
    /// let p = LinkPolicy::new().kind("wifi", KindPolicy::weak().max_accounts(40));
    /// assert_eq!(p.cap_for("wifi", &BTreeMap::new()), 40);
    /// assert_eq!(p.cap_for("device", &BTreeMap::new()), DEFAULT_CEILING);
    /// ```
    pub fn cap_for(&self, name: &str, histogram: &std::collections::BTreeMap<u32, u64>) -> u32 {
        match self.kind_policy(name).cap() {
            HubCap::Fixed(n) => n.min(self.ceiling_accounts()),
            HubCap::Unlimited => self.ceiling_accounts(),
            HubCap::Auto => auto_cap_histogram(histogram).min(self.ceiling_accounts()),
        }
    }

    /// Sets the hard ceiling: an artifact with more accounts links nobody (at least 2).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// assert_eq!(LinkPolicy::new().ceiling(500).ceiling_accounts(), 500);
    /// ```
    pub fn ceiling(mut self, accounts: u32) -> Self {
        self.ceiling = accounts.max(2);
        self
    }

    /// The hard ceiling.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{DEFAULT_CEILING, LinkPolicy};
    /// assert_eq!(LinkPolicy::new().ceiling_accounts(), DEFAULT_CEILING);
    /// ```
    pub fn ceiling_accounts(&self) -> u32 {
        self.ceiling
    }

    /// Whether a build learns from its data how strongly each custom kind indicates one operator
    /// (Fellegi–Sunter weights estimated by EM; see [the learning method](crate::policy#learning))
    /// when the policy has nothing learned pinned. On by default.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new()
    ///     .policy(sellerlink::policy::LinkPolicy::new().learn(false));
    /// b.add("a", "email", "a@example.com", None)?;
    /// assert!(b.build()?.policy().learned().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn learn(mut self, on: bool) -> Self {
        self.learn = on;
        self
    }

    /// True when builds learn (see [`LinkPolicy::learn`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::policy::LinkPolicy::new().learns());
    /// ```
    pub fn learns(&self) -> bool {
        self.learn
    }

    /// Pins (or with `None` unpins) what was learned: a build with a pinned estimate uses it
    /// instead of learning again (an index's [`policy`](crate::Index::policy) comes pinned).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = sellerlink::IndexBuilder::new();
    /// b.add("a", "email", "a@example.com", None)?;
    /// let pinned = b.build()?.policy().clone();
    /// assert!(pinned.learned().is_some());
    /// assert!(pinned.with_learned(None).learned().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_learned(mut self, learned: Option<Learned>) -> Self {
        self.learned = learned;
        self
    }

    /// What was learned, when pinned.
    ///
    /// # Examples
    ///
    /// See [`Learned`].
    pub fn learned(&self) -> Option<&Learned> {
        self.learned.as_ref()
    }

    /// The group-corroboration share, if on.
    ///
    /// # Examples
    ///
    /// See [`LinkPolicy::group_cohesion`].
    pub fn group_cohesion_needed(&self) -> Option<f64> {
        self.cohesion
    }

    /// Declares two accounts one operator (an analyst's confirmation).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = sellerlink::policy::LinkPolicy::new().must_link("store-a", "store-b");
    /// assert_eq!(p.overrides().must_link.len(), 1);
    /// ```
    pub fn must_link(mut self, a: &str, b: &str) -> Self {
        self.overrides.must_link.push((a.trim().to_string(), b.trim().to_string()));
        self
    }

    /// Declares two accounts different operators (an analyst's confirmation).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = sellerlink::policy::LinkPolicy::new().cannot_link("store-a", "store-b");
    /// assert_eq!(p.overrides().cannot_link.len(), 1);
    /// ```
    pub fn cannot_link(mut self, a: &str, b: &str) -> Self {
        self.overrides.cannot_link.push((a.trim().to_string(), b.trim().to_string()));
        self
    }

    /// Declares an artifact legitimate shared infrastructure (it is normalised by its kind's
    /// rule when the index is built).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = sellerlink::policy::LinkPolicy::new().legitimate("address", "1 Logistics Way, Dock 4");
    /// assert_eq!(p.overrides().legitimate.len(), 1);
    /// ```
    pub fn legitimate(mut self, kind: &str, value: &str) -> Self {
        self.overrides.legitimate.push((kind.trim().to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Replaces the analyst overrides.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::LinkPolicy;
    /// let old = LinkPolicy::new().must_link("a", "b");
    /// let p = LinkPolicy::new().with_overrides(old.overrides().clone());
    /// assert_eq!(p.overrides().must_link.len(), 1);
    /// ```
    pub fn with_overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// The analyst overrides.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::policy::LinkPolicy::new().overrides().must_link.is_empty());
    /// ```
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Switches every kind (and custom kinds) to [`HubCap::Auto`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{HubCap, LinkPolicy};
    /// let p = LinkPolicy::new().auto_hubs();
    /// assert_eq!(p.kind_policy("ip").cap(), HubCap::Auto);
    /// ```
    pub fn auto_hubs(mut self) -> Self {
        for p in self.kinds.values_mut() {
            p.cap = HubCap::Auto;
        }
        self.custom.cap = HubCap::Auto;
        self
    }

    /// The policy that applies to a kind name.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::policy::{LinkPolicy, Strength};
    /// assert_eq!(LinkPolicy::new().kind_policy("ip").strength(), Strength::Weak);
    /// ```
    pub fn kind_policy(&self, name: &str) -> &KindPolicy {
        self.kinds
            .get(name)
            .or_else(|| self.kinds.get(&name.trim().to_ascii_lowercase()))
            .unwrap_or(&self.custom)
    }

    /// How many distinct shared linking artifacts weak evidence needs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::policy::LinkPolicy::new().corroboration_needed(), 2);
    /// ```
    pub fn corroboration_needed(&self) -> u32 {
        self.corroboration
    }
}

/// The automatic hub cap for one kind, from the account counts of its artifacts.
///
/// Artifacts used by one account carry no linking evidence and are ignored. Over the rest the cap
/// is a robust outlier bound on log-degree: `exp(median + 4 × 1.4826 × MAD)`, clamped to
/// `[5, 1000]`, so that a kind whose artifacts are normally shared by two or three accounts
/// treats one shared by two hundred as a hub, while a kind with routinely larger groups gets a
/// proportionally larger cap. With fewer than 20 shared artifacts there is too little to go on
/// and the cap is 50.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::auto_cap;
/// let mut degrees = vec![2u32; 500];
/// degrees.extend([3; 300]);
/// degrees.extend([400, 900, 1200]);
/// let cap = auto_cap(&degrees);
/// assert!(cap >= 5 && cap < 400);
/// assert_eq!(auto_cap(&[2, 2, 3]), 50);
/// ```
pub fn auto_cap(degrees: &[u32]) -> u32 {
    let mut histogram = std::collections::BTreeMap::new();
    for &d in degrees {
        *histogram.entry(d).or_insert(0u64) += 1;
    }
    auto_cap_histogram(&histogram)
}

/// [`auto_cap`] from a histogram of degrees (degree → how many artifacts have it): the same
/// cap, from counts that pieces of a market can add up.
///
/// # Examples
///
/// ```
/// use sellerlink::policy::{auto_cap, auto_cap_histogram};
/// let degrees = [2u32, 2, 2, 3, 3, 7, 2, 2, 2, 2, 3, 3, 4, 2, 2, 2, 2, 2, 40, 2, 1, 1];
/// let mut histogram = std::collections::BTreeMap::new();
/// for d in degrees {
///     *histogram.entry(d).or_insert(0u64) += 1;
/// }
/// assert_eq!(auto_cap_histogram(&histogram), auto_cap(&degrees));
/// ```
pub fn auto_cap_histogram(histogram: &std::collections::BTreeMap<u32, u64>) -> u32 {
    // Logs in ascending order, each with its count (the log is monotone in the degree).
    let logs: Vec<(f64, u64)> =
        histogram.range(2..).filter(|(_, c)| **c > 0).map(|(&d, &c)| (f64::from(d).ln(), c)).collect();
    let len: u64 = logs.iter().map(|&(_, c)| c).sum();
    if len < 20 {
        return 50;
    }
    // The element at `index` of the sorted multiset.
    let nth = |sorted: &[(f64, u64)], index: u64| -> f64 {
        let mut seen = 0u64;
        for &(v, c) in sorted {
            seen += c;
            if index < seen {
                return v;
            }
        }
        sorted.last().map_or(0.0, |&(v, _)| v)
    };
    let median = nth(&logs, len / 2);
    let mut dev: Vec<(f64, u64)> = logs.iter().map(|&(l, c)| ((l - median).abs(), c)).collect();
    dev.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A MAD of zero (all pairs, say) still allows groups a few times the median.
    let mad = nth(&dev, len / 2).max(0.25);
    let cap = (median + 4.0 * 1.4826 * mad).exp();
    cap.round().clamp(5.0, 1000.0) as u32
}
