//! Seeded synthetic marketplace: storefronts, the operators behind them, the artifacts that
//! betray them, and the ground truth to score a linker against.
//!
//! # What this module owns
//!
//! [`Marketplace`] describes a world (size, seed, share of counterfeit rings, traps on or off,
//! hostile market on or off); [`Marketplace::records`] streams its observations as
//! [`Record`]s, one storefront (account) at a time, and [`write_csv`] writes them as an
//! observation file (`account,kind,value,timestamp`) plus a truth file
//! (`account,operator,role`, one row per account). Nothing else in the crate
//! depends on this module; it exists to produce test data, the shipped sample and benchmark
//! inputs. Everything is deterministic for a seed: the same [`Marketplace`] always yields the
//! same records in the same order, on every platform.
//!
//! # Streaming
//!
//! The generator keeps at most 64 operators "in flight" and picks the next storefront from a
//! random one of them, so the stores of one ring are spread over the stream instead of sitting
//! next to each other. Its memory is that window plus the records of one storefront: nothing
//! grows with the number of accounts emitted. Shared artifacts (a ring's laptops, a hotspot's
//! router, a household's IP) are not stored anywhere; each is a pure function of the seed and
//! the index of its owner, so 100 million observations stream in constant memory.
//!
//! Account names (`store-048213377`, `shop-…`, `luckymart-…`) carry a keyed permutation of
//! the account index, so they are unique and say nothing about which stores belong together.
//!
//! # The world
//!
//! The simulated period is [`PERIOD_SECONDS`] (90 days) from [`PERIOD_START`]
//! (2024-01-01T00:00:00Z); timestamps are unix seconds. Sessions (`device`, `wifi`, `ip`)
//! always carry a timestamp; profile attributes (`id_document`, `phone`, `email`, `payment`,
//! `address`) carry the time they were set about half of the time and are empty otherwise.
//! A storefront yields ≈ 5.6 observations on average (honest ≈ 5.45, merchant ≈ 6.1, ring
//! ≈ 6.1, evasive ring ≈ 6.0), so 100 million observations are ≈ 18 million accounts; every
//! account has exactly one `email`, and [`Stats`] gives the exact counts of a run.
//!
//! Operators and their shares of accounts (`ring_share` = r, default 0.15):
//!
//! | operator | role | stores | share of accounts | what its stores share |
//! | --- | --- | --- | --- | --- |
//! | honest seller | [`Role::Honest`] | 1 | ≈ 0.88 · (1 − r) | nothing: own device, home router, residential IP (30 % of households also IPv6), phone, email, payment, address, ID document |
//! | multi-store merchant | [`Role::Merchant`] | 2–6, uniform | ≈ 0.12 · (1 − r) | one honest person: 1–2 devices, the home router and IP, the payment account, home address, ID document and (70 %) phone; one email per store |
//! | counterfeit ring | [`Role::Ring`] | 3–150, heavy-tailed | ≈ 0.7 · r (traps on), r (off) | `min(size, 1 + size/12)` laptops; 1–2 office routers and office IPs (v4, sometimes v6) seen in `min(80, 8 + size/2)` shared work sessions, so several stores use one IP within the same hours; reused ID documents (`size/6`) and phones (`size/5`); `min(4, 1 + size/40)` mule payment accounts; 1–2 warehouse return addresses |
//! | evasive ring (trap) | [`Role::EvasiveRing`] | 3–150, heavy-tailed | ≈ 0.3 · r (traps on only) | nothing personal: a fresh device, document, phone and email per store, VPN or residential-proxy IPs; linked **only** through 1–2 mule payment accounts, 1–2 warehouse addresses and 1–2 office routers (consecutive stores share one of them, so the ring is connected while each store shows just one to three links) |
//!
//! Ring sizes follow a discrete power law `P(s) ∝ s⁻²` on `3..=150` (mean ≈ 10.5, median 5,
//! ≈ 3.5 % of rings have 50 stores or more): a 20 000-account market holds ≈ 290 rings, a
//! handful of them with 50+ stores. Ring stores also touch hubs now and then (3 % a hotspot,
//! 5 % carrier NAT, 5 % a fulfilment centre, 10 % a VPN exit), which links them to strangers.
//!
//! Hubs link strangers. Their numbers scale with the number of accounts `n`, and visits are
//! uneven: the busiest tenth of each kind of hub takes 35 % of the visits, so busy hubs see
//! ≈ 3.5 times and quiet ones ≈ 0.7 times the mean.
//!
//! | hub | kind | count | operators per hub |
//! | --- | --- | --- | --- |
//! | public Wi-Fi hotspot or café (6 % of honest stores, 3 % of ring stores) | `wifi`, plus the hotspot's public `ip` minutes later (70 %) | `n/800` | ≈ 35 (quiet) to ≈ 200 (busy) |
//! | carrier-grade NAT (12 % of honest stores) | `ip`, at times spread over the period, so they overlap | `n/2000` | ≈ 160 (quiet) to ≈ 800 (busy) |
//! | fulfilment centre (12 % of honest, 25 % of merchant stores) | `address` | `n/5000` | ≈ 450 (quiet) to ≈ 2 000 (busy) |
//! | recycled residential IP (8 % of pairs of consecutive honest operators) | `ip` | one per pair | exactly 2 households: the first holds the IP until a switch day, the second leases it 14–28 days later |
//!
//! # Traps
//!
//! With [`Marketplace::traps`] on (the default), the world also contains:
//!
//! * **Evasive rings**: 30 % of rings, as in the table above: no shared device, document or
//!   phone; only mule payments, warehouse addresses and office routers tie them together.
//! * **ID documents sold to two rings**: for 30 % of pairs of consecutive rings, one document
//!   is used by stores of both rings (the first store of each always uses it), so the document
//!   links exactly two ring operators that are otherwise unrelated.
//! * **Internet-café devices**: `max(1, n/3200)` cafés (the first hotspots), each with 3
//!   shared laptops used by 0.6 % of honest stores, ≈ 5 strangers per laptop; a café visit
//!   also shows the café's router and public IP.
//! * **Colliding default fingerprints**: 2 % of honest operators report a factory-default
//!   fingerprint (such as `d41d8cd98f00b204e9800998ecf8427e`, the MD5 of nothing) instead of
//!   their device: `min(6, 1 + n/50 000)` such values, each shared by hundreds of strangers.
//! * **VPN exit IPs**: `n/4000` exits, each with 24 busy quarter-hours; 3 % of honest stores,
//!   10 % of ring stores and about half of the evasive logins use them, so many strangers
//!   share one IP within the same minutes (≈ 250 operators per exit on average).
//! * **Households**: 4 % of pairs of consecutive honest operators are one household of two
//!   honest sellers (two operators) sharing the home router and residential IP.
//! * **Value noise**: every emission picks a textual form, keeping what the value denotes:
//!   MACs as `a4:2b:b0:12:34:56`, `A4-2B-B0-12-34-56`, `a42bb0123456`, `A4:2B:B0:12:34:56` or
//!   `a42b.b012.3456`; phones as `+8613800138000`, `+86 138 0013 8000`, `008613800138000` or
//!   `+86-138-0013-8000` (also `+1` and `+44` numbers); emails with random case and
//!   surrounding spaces; IPv4 also as IPv4-mapped IPv6 (`::ffff:1.2.3.4`); IPv6 compressed,
//!   fully expanded or upper case; ID documents, card numbers and IBANs with spaces, dashes and
//!   case changes; addresses with case, comma, period and whitespace changes. Device
//!   fingerprints are opaque and never rewritten. About 45 % of emissions stay canonical.
//!
//! With traps off the hubs and recycled IPs stay, every ring is a plain [`Role::Ring`], and
//! every value is written in its canonical form (lower-case colon MAC, `+<digits>` phone,
//! lower-case trimmed email, dotted or RFC 5952 IP, upper-case compact document, card or IBAN,
//! `Flat C, 12/F, 88 Harbour Rd, Kwai Chung, Hong Kong`-style address).
//!
//! # Hostile market
//!
//! [`Marketplace::hostile`] (off by default; off, the output is byte for byte what it always
//! was) adds the traps of a real marketplace that make a union-find linker *percolate*: many
//! small pieces of legitimate sharing, each below the default hub caps, that chain strangers
//! and rings into one component growing with the market. Its rates are a [`Hostile`]
//! ([`Marketplace::hostility`] sets them, [`Hostile::scaled`] sweeps them); every one is a
//! share of accounts, rings or civilian operators, so the density of each trap, and the share
//! of the market the largest component takes, stay the same from 20 000 to 20 million
//! accounts. With the defaults:
//!
//! | trap | kind | who | sharing |
//! | --- | --- | --- | --- |
//! | internet-café PC | `device` (strong), plus the café's router (60 %) and public IP (50 %) | 1.5 % of stores (any role; 30 % of them come twice) | 10–30 accounts per PC, uniform; two PCs per café |
//! | co-working space | `wifi` router, its public IP (70 %), and its address as the business address (60 %) | 2 % of stores | 10–30 accounts per space: router *and* address corroborate each other |
//! | mail drop, small fulfilment centre | `address` | 4 % of stores | 10–30 accounts per address |
//! | SMS-activation number | `phone` (strong) | 0.5 % of stores | 8–24 accounts per number (phone cap 25) |
//! | ID broker | `id_document` and its SIM's `phone` (50 %) | 40 % of rings, evasive or not | each document (and SIM) sold to 2–4 rings; a ring buys one or two; its first stores use them, later ones 10 % of the time (about four stores at most, so the document stays below the cap of 25) |
//! | multi-seller household | `wifi` router (50 % of stores), `ip` leases on five shared evenings (same IP within hours), home `address` (50 %), family PC `device` (25 %) | 15 % of blocks of four consecutive civilian operators | 2–4 honest sellers, each its own operator |
//! | re-leased residential IP | `ip` | 15 % of pairs of consecutive civilians in different homes (single sellers, or a household of three and its neighbour) | the first home holds it until a switch day (day 20–70), the second gets it 0–48 h later; each shows it within 12 h of the handover 60 % of the time, so the two uses are often inside a 24 h window |
//!
//! Club membership (café PC, co-working space, mail drop, SMS number) is a pure function of
//! the seed and the account index: a keyed permutation of the account indices is cut into rows,
//! and the first 10–30 slots of each of the first `rate · n / 20` rows are a club. A store is
//! in at most one club of each kind; the clubs of different kinds are independent, so a ring or
//! merchant with many stores touches many of them. The ID-broker batches do the same over the
//! (expected) ring indices, in two layers; households and re-leased IPs are decided per block
//! of four civilian operators. The truth is untouched: strangers, household members and the
//! buyers of one document stay separate operators.
//!
//! Strong sub-cap sharing (café PCs, SMS numbers, sold documents) links strangers on its own;
//! co-working spaces link them once router and address corroborate each other, and group
//! corroboration then pulls in the members who showed only the router. Mail drops, households
//! and re-leased IPs are weak: they bite through corroboration (household router plus home
//! address or family PC) or group corroboration (a re-leased IP inside the window joins a
//! linked household and its neighbour). With sellerlink's default link policy the largest
//! union-find component holds ≈ 15 % of the accounts at every market size (seed 7: 2 968 at
//! 20 000 accounts, 32 406 at 200 000, 305 396 at 2 million; two thirds of the ring accounts
//! plus the strangers that glue them), against a single ring of at most a few hundred stores
//! without, so component-level pairwise F1 falls from ≈ 0.9 to 0.02, 0.002 and 0.0002.
//! The café PCs, co-working spaces and SMS numbers carry the percolation (without them the
//! largest component is 1 251 sold-document rings at 200 000 accounts); mail drops and
//! re-leased IPs barely move it. `Hostile::default().scaled(0.5)` gives a largest component of
//! ≈ 9 % (F1 0.05 at 20 000 accounts, 0.007 at 200 000).
//!
//! Values are unique by construction: every artifact has a serial number that a keyed
//! permutation maps into its value space (MACs, IPv4, phones, documents, card numbers,
//! addresses), so two artifacts never collide by accident up to ≈ 60 million accounts.
//! Card numbers pass the Luhn check, IBANs the mod-97 check and Chinese resident ID numbers
//! their ISO 7064 check character.
//!
//! A few rows (≈ 1.5 % of accounts) use the custom kind [`CUSTOM_KIND`] (`dob_name`): the date of
//! birth and name on the document the store was registered with, `1987-03-14|wei wang`.
//!
//! # Ground truth
//!
//! Every [`Record`] carries the operator (a `u64`, numbered from 0 in creation order) and the
//! [`Role`] of its account; [`write_csv`] writes one truth row per account.

use std::collections::VecDeque;
use std::io;
use std::net::Ipv6Addr;

/// Start of the simulated period: 2024-01-01T00:00:00Z in unix seconds.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{Marketplace, PERIOD_SECONDS, PERIOD_START};
/// for r in Marketplace::new().accounts(50).records() {
///     if let Some(t) = r.timestamp {
///         assert!((PERIOD_START..PERIOD_START + PERIOD_SECONDS).contains(&t));
///     }
/// }
/// ```
pub const PERIOD_START: i64 = 1_704_067_200;

/// Length of the simulated period in seconds (90 days).
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink_synth::PERIOD_SECONDS, 90 * 86_400);
/// ```
pub const PERIOD_SECONDS: i64 = 90 * DAY;

/// The eight standard observation kinds.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{KINDS, Marketplace};
/// assert!(Marketplace::new().accounts(100).records().all(|r| {
///     KINDS.contains(&r.kind) || r.kind == sellerlink_synth::CUSTOM_KIND
/// }));
/// ```
pub const KINDS: [&str; 8] = ["device", "wifi", "ip", "id_document", "phone", "email", "payment", "address"];

/// The one custom kind, used by a few rows: `YYYY-MM-DD|given surname` from an ID document.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{CUSTOM_KIND, Marketplace};
/// let row = Marketplace::new().accounts(2_000).records().find(|r| r.kind == CUSTOM_KIND);
/// assert!(row.is_some_and(|r| r.value.contains('|')));
/// ```
pub const CUSTOM_KIND: &str = "dob_name";

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// Operators whose stores are being emitted at the same time.
const IN_FLIGHT: usize = 64;
const RING_MIN: u64 = 3;
const RING_MAX: u64 = 150;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// A synthetic marketplace to generate: builder for [`Records`].
///
/// Unset options take their defaults: 10 000 accounts, seed 42, ring share 0.15, traps on,
/// hostile market off.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{Marketplace, Role};
/// let market = Marketplace::new().accounts(1_000).seed(7).ring_share(0.2);
/// let records: Vec<_> = market.records().collect();
/// assert!(records.iter().any(|r| r.role == Role::Ring));
/// assert_eq!(records, market.records().collect::<Vec<_>>()); // deterministic
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Marketplace {
    /// Number of storefronts (accounts) to emit; `None` means 10 000.
    pub accounts: Option<u64>,
    /// Seed of every random choice; `None` means 42.
    pub seed: Option<u64>,
    /// Fraction of accounts run by counterfeit rings, in `[0, 1]`; `None` means 0.15.
    pub ring_share: Option<f64>,
    /// Whether the adversarial traps are planted; `None` means on.
    pub traps: Option<bool>,
    /// The hostile market's extra traps and their rates (see [`Hostile`]); `None` means off.
    pub hostile: Option<Hostile>,
}

/// The rates of the hostile market's traps: shared artifacts below the default hub caps, ID
/// brokers, multi-seller households and recycled residential IPs (see the module docs,
/// "Hostile market"). Off unless set with [`Marketplace::hostile`] or
/// [`Marketplace::hostility`].
///
/// Every rate is a share in `[0, 1]` (clamped; NaN counts as 0) and is per account, per ring or
/// per civilian operator, so the density of every trap stays the same as the market grows.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{Hostile, Marketplace};
/// let mut h = Hostile::default();
/// h.cafe_pcs = 0.05; // more internet-café logins than the default 1.5 %
/// let market = Marketplace::new().accounts(2_000).hostility(h.clone());
/// assert_eq!(market.hostile, Some(h));
/// assert!(market.records().count() > 10_000);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Hostile {
    /// Share of stores that log in on an internet-café PC (`device`, 10–30 accounts per PC, two
    /// PCs per café, whose router and public IP they also show); default 0.015.
    pub cafe_pcs: f64,
    /// Share of stores that work from a co-working space: its router (`wifi`, 10–30 accounts),
    /// its public IP, and (60 % of its members) its address as their business address;
    /// default 0.02.
    pub coworking: f64,
    /// Share of stores that give a mail-drop or small fulfilment-centre `address` shared with
    /// 10–30 strangers; default 0.04.
    pub mail_drops: f64,
    /// Share of stores verified with a rented SMS-activation `phone` number (8–24 accounts per
    /// number); default 0.005.
    pub sms_numbers: f64,
    /// Share of rings (evasive or not) that buy ID documents (and the matching SIM) from a
    /// broker who sells each one to 2–4 rings; default 0.4.
    pub id_brokers: f64,
    /// Share of blocks of four consecutive civilian operators that hold a household of 2–4
    /// honest sellers (router, IP leases, home address and a family PC); default 0.15.
    pub households: f64,
    /// Share of pairs of neighbouring homes whose residential IP is re-leased from one to the
    /// other within hours to two days; default 0.15.
    pub recycled_ips: f64,
}

impl Default for Hostile {
    fn default() -> Self {
        Self {
            cafe_pcs: 0.015,
            coworking: 0.02,
            mail_drops: 0.04,
            sms_numbers: 0.005,
            id_brokers: 0.4,
            households: 0.15,
            recycled_ips: 0.15,
        }
    }
}

impl Hostile {
    /// Every rate multiplied by `factor` (then clamped to `[0, 1]`): a knob for sweeping the
    /// trap density, e.g. `Hostile::default().scaled(0.5)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::Hostile;
    /// let half = Hostile::default().scaled(0.5);
    /// assert_eq!(half.cafe_pcs, Hostile::default().cafe_pcs / 2.0);
    /// assert_eq!(Hostile::default().scaled(100.0).households, 1.0);
    /// ```
    #[must_use]
    pub fn scaled(self, factor: f64) -> Self {
        let f = |x: f64| clamp_rate(x * factor);
        Self {
            cafe_pcs: f(self.cafe_pcs),
            coworking: f(self.coworking),
            mail_drops: f(self.mail_drops),
            sms_numbers: f(self.sms_numbers),
            id_brokers: f(self.id_brokers),
            households: f(self.households),
            recycled_ips: f(self.recycled_ips),
        }
    }
}

/// A rate clamped to `[0, 1]`, NaN as 0.
fn clamp_rate(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

impl Marketplace {
    /// A marketplace with every option at its default.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = sellerlink_synth::Marketplace::new().accounts(10).records().count();
    /// assert!(n >= 10);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of storefronts; the stream holds exactly this many accounts.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::{Marketplace, write_csv};
    /// let stats = write_csv(Marketplace::new().accounts(321).records(), Vec::new(), Vec::new())?;
    /// assert_eq!(stats.accounts, 321);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accounts(mut self, n: u64) -> Self {
        self.accounts = Some(n);
        self
    }

    /// Sets the seed; the same seed (and options) always gives the same records.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::Marketplace;
    /// let a: Vec<_> = Marketplace::new().accounts(50).seed(1).records().collect();
    /// let b: Vec<_> = Marketplace::new().accounts(50).seed(2).records().collect();
    /// assert_ne!(a, b);
    /// ```
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }

    /// Sets the fraction of accounts run by counterfeit rings (clamped to `[0, 1]`; NaN means
    /// the default 0.15). The realised share is close to it but varies with the ring sizes.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::Marketplace;
    /// let none = Marketplace::new().accounts(500).ring_share(0.0);
    /// assert!(none.records().all(|r| !r.role.is_ring()));
    /// ```
    pub fn ring_share(mut self, f: f64) -> Self {
        self.ring_share = Some(f);
        self
    }

    /// Plants the adversarial traps (evasive rings, documents sold to two rings, café
    /// devices, default fingerprints, VPN exits, two-seller households, value noise) or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::{Marketplace, Role};
    /// let plain = Marketplace::new().accounts(3_000).traps(false);
    /// assert!(plain.records().all(|r| r.role != Role::EvasiveRing));
    /// ```
    pub fn traps(mut self, on: bool) -> Self {
        self.traps = Some(on);
        self
    }

    /// Turns the hostile market on (with the [`Hostile::default`] rates) or off (the default).
    /// It adds, on top of whatever [`Marketplace::traps`] says, shared artifacts below the
    /// default hub caps (internet-café PCs, co-working routers and addresses, mail drops,
    /// SMS-activation numbers), ID brokers selling to several rings, multi-seller households and
    /// residential IPs re-leased within the linker's time window. Off, the output is exactly
    /// that of earlier versions.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::Marketplace;
    /// let plain = Marketplace::new().accounts(500).seed(1);
    /// let off: Vec<_> = plain.clone().hostile(false).records().collect();
    /// assert_eq!(off, plain.records().collect::<Vec<_>>());
    /// let on: Vec<_> = plain.hostile(true).records().collect();
    /// assert!(on.len() > off.len());
    /// ```
    pub fn hostile(mut self, on: bool) -> Self {
        self.hostile = on.then(Hostile::default);
        self
    }

    /// Turns the hostile market on with these rates (see [`Hostile`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::{Hostile, Marketplace};
    /// let m = Marketplace::new().accounts(100).hostility(Hostile::default().scaled(2.0));
    /// assert!(m.hostile.is_some_and(|h| (h.cafe_pcs - 0.03).abs() < 1e-12));
    /// ```
    pub fn hostility(mut self, rates: Hostile) -> Self {
        self.hostile = Some(rates);
        self
    }

    /// The records of this marketplace, streamed: all records of one account are consecutive,
    /// and memory does not grow with the number of accounts emitted.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink_synth::Marketplace;
    /// let first = Marketplace::new().accounts(1_000_000).records().next();
    /// assert!(first.is_some());
    /// ```
    pub fn records(&self) -> Records {
        Records::new(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Records and roles
// ---------------------------------------------------------------------------------------------

/// What kind of operator runs an account.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::Role;
/// assert_eq!(Role::EvasiveRing.as_str(), "evasive_ring");
/// assert!(Role::EvasiveRing.is_ring() && !Role::Merchant.is_ring());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// A single honest storefront.
    Honest,
    /// One of 2–6 storefronts of one honest person.
    Merchant,
    /// A storefront of a counterfeit ring that reuses devices, documents and phones.
    Ring,
    /// A storefront of an evasive ring: fresh device and document per store.
    EvasiveRing,
}

impl Role {
    /// The name written in truth files: `honest`, `merchant`, `ring` or `evasive_ring`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink_synth::Role::Honest.as_str(), "honest");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Honest => "honest",
            Role::Merchant => "merchant",
            Role::Ring => "ring",
            Role::EvasiveRing => "evasive_ring",
        }
    }

    /// Whether the role is a counterfeit ring, evasive or not.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink_synth::Role::Ring.is_ring());
    /// ```
    pub const fn is_ring(self) -> bool {
        matches!(self, Role::Ring | Role::EvasiveRing)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observation: the account saw `value` of `kind` (at `timestamp`), with its ground truth.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::Marketplace;
/// let r = Marketplace::new().accounts(10).records().next().expect("one record");
/// assert!(!r.account.is_empty() && !r.value.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The storefront, e.g. `store-048213377`.
    pub account: String,
    /// One of [`KINDS`] or [`CUSTOM_KIND`].
    pub kind: &'static str,
    /// The observed value, possibly in a non-canonical textual form.
    pub value: String,
    /// Unix seconds, when known.
    pub timestamp: Option<i64>,
    /// Ground truth: the operator running the account.
    pub operator: u64,
    /// Ground truth: what kind of operator that is.
    pub role: Role,
}

/// Streaming iterator over a [`Marketplace`]'s records (see [`Marketplace::records`]).
///
/// # Examples
///
/// ```
/// use sellerlink_synth::Marketplace;
/// let mut accounts = 0;
/// let mut last = String::new();
/// for r in Marketplace::new().accounts(200).records() {
///     if r.account != last {
///         accounts += 1;
///         last = r.account;
///     }
/// }
/// assert_eq!(accounts, 200);
/// ```
#[derive(Clone, Debug)]
pub struct Records {
    world: World,
    rng: Rng,
    pool: Vec<Operator>,
    buf: VecDeque<Record>,
    allocated: u64,
    operators: u64,
    civilians: u64,
    rings: u64,
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(r) = self.buf.pop_front() {
                return Some(r);
            }
            if !self.next_account() {
                return None;
            }
        }
    }
}

impl std::iter::FusedIterator for Records {}

/// Counts of what [`write_csv`] wrote.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{Marketplace, write_csv};
/// let s = write_csv(Marketplace::new().accounts(1_000).records(), Vec::new(), Vec::new())?;
/// assert_eq!(s.accounts, 1_000);
/// assert!(s.observations > 3 * s.accounts && s.rings > 0 && s.operators < s.accounts);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Accounts (truth rows) written.
    pub accounts: u64,
    /// Observation rows written.
    pub observations: u64,
    /// Distinct operators.
    pub operators: u64,
    /// Distinct ring operators ([`Role::Ring`] or [`Role::EvasiveRing`]).
    pub rings: u64,
    /// Distinct evasive ring operators.
    pub evasive_rings: u64,
}

/// Writes records as CSV: observations (`account,kind,value,timestamp`, an empty timestamp when
/// unknown) to `obs` and one truth row per account (`account,operator,role`) to `truth`.
///
/// Records of one account must be consecutive, as [`Records`] yields them; a new truth row is
/// written whenever the account changes. Operators are counted with a bitmap of their ids
/// (a hash set for ids of `2³²` and above), so memory stays small for generated streams.
///
/// # Errors
///
/// Any I/O error of either writer.
///
/// # Examples
///
/// ```
/// use sellerlink_synth::{Marketplace, write_csv};
/// let (mut obs, mut truth) = (Vec::new(), Vec::new());
/// let stats = write_csv(Marketplace::new().accounts(20).records(), &mut obs, &mut truth)?;
/// let truth = String::from_utf8(truth).expect("utf-8");
/// assert!(truth.starts_with("account,operator,role\n"));
/// assert_eq!(truth.lines().count() as u64, stats.accounts + 1);
/// assert!(obs.starts_with(b"account,kind,value,timestamp\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_csv<W: io::Write, T: io::Write>(
    records: impl Iterator<Item = Record>,
    obs: W,
    truth: T,
) -> io::Result<Stats> {
    // Every field goes through the csv crate, quoted where it needs to be (RFC 4180).
    let mut o = csv::WriterBuilder::new().buffer_capacity(1 << 17).from_writer(obs);
    let mut t = csv::WriterBuilder::new().buffer_capacity(1 << 16).from_writer(truth);
    o.write_record(["account", "kind", "value", "timestamp"])?;
    t.write_record(["account", "operator", "role"])?;
    let mut stats = Stats::default();
    let mut seen = OperatorSet::default();
    let mut current = String::new();
    let mut started = false;
    let mut number = Vec::with_capacity(24);
    for r in records {
        if !started || r.account != current {
            started = true;
            current.clear();
            current.push_str(&r.account);
            number.clear();
            push_int(&mut number, false, r.operator);
            t.write_record([r.account.as_bytes(), &number, r.role.as_str().as_bytes()])?;
            stats.accounts += 1;
            if seen.insert(r.operator) {
                stats.operators += 1;
                if r.role.is_ring() {
                    stats.rings += 1;
                }
                if r.role == Role::EvasiveRing {
                    stats.evasive_rings += 1;
                }
            }
        }
        number.clear();
        if let Some(v) = r.timestamp {
            push_int(&mut number, v < 0, v.unsigned_abs());
        }
        o.write_record([r.account.as_bytes(), r.kind.as_bytes(), r.value.as_bytes(), &number])?;
        stats.observations += 1;
    }
    o.flush()?;
    t.flush()?;
    Ok(stats)
}

fn push_int(line: &mut Vec<u8>, negative: bool, mut x: u64) {
    let mut buf = [0u8; 21];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    line.extend_from_slice(&buf[i..]);
}

/// Set of operator ids: a bitmap for ids below 2³², a hash set above.
#[derive(Default)]
struct OperatorSet {
    bits: Vec<u64>,
    large: ahash::AHashSet<u64>,
}

impl OperatorSet {
    fn insert(&mut self, id: u64) -> bool {
        if id >= 1 << 32 {
            return self.large.insert(id);
        }
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.bits.len() {
            self.bits.resize((word + 1).max(self.bits.len() * 2), 0);
        }
        let fresh = self.bits[word] & (1 << bit) == 0;
        self.bits[word] |= 1 << bit;
        fresh
    }
}

// ---------------------------------------------------------------------------------------------
// Randomness: SplitMix64 mixing, xoshiro256**, keyed permutations
// ---------------------------------------------------------------------------------------------

/// SplitMix64 finaliser: a bijection on `u64`.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A keyed hash of `(tag, x)`.
#[inline]
fn hash(key: u64, tag: u64, x: u64) -> u64 {
    mix(mix(key ^ tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_add(x) ^ 0x6a09_e667_f3bc_c909)
}

#[inline]
fn unit_of(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// xoshiro256** seeded through SplitMix64.
#[derive(Clone, Debug)]
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix(s)
        };
        Rng([next(), next(), next(), next()])
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `0..n` seconds.
    #[inline]
    fn secs(&mut self, n: i64) -> i64 {
        self.below(n.max(1) as u64) as i64
    }

    #[inline]
    fn unit(&mut self) -> f64 {
        unit_of(self.next_u64())
    }

    #[inline]
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A hub in `0..n`: the busiest tenth of the hubs (rounded up) takes 35 % of the visits,
    /// so busy hubs see about 3.5 times, quiet ones about 0.7 times the mean number of visitors.
    #[inline]
    fn hub(&mut self, n: u64) -> u64 {
        let busy = n.div_ceil(10);
        if busy >= n {
            self.below(n)
        } else if self.chance(0.35) {
            self.below(busy)
        } else {
            busy + self.below(n - busy)
        }
    }

    /// An index in `0..n` skewed towards 0 (the smaller of two uniform draws), in integer
    /// arithmetic only so that every platform draws the same.
    #[inline]
    fn skewed(&mut self, n: u64) -> u64 {
        self.below(n).min(self.below(n))
    }
}

/// A keyed permutation of `0..n`, applied to `x mod n`: distinct serials below `n` give
/// distinct results. A 4-round unbalanced Feistel network permutes `0..2^bits` (the smallest
/// power of two ≥ `n`, so fewer than 2 rounds of cycle walking on average bring the result
/// back below `n`).
fn permute(key: u64, x: u64, n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let bits = 64 - (n - 1).leading_zeros();
    let lo_bits = bits / 2;
    let hi_mask = u64::MAX >> (64 - (bits - lo_bits));
    let lo_mask = (1u64 << lo_bits) - 1;
    let mut y = x % n;
    loop {
        let (mut hi, mut lo) = (y >> lo_bits, y & lo_mask);
        for round in 0..4u32 {
            let k = key.rotate_left(round * 16) ^ u64::from(round);
            if round % 2 == 0 {
                hi ^= mix(lo ^ k) & hi_mask;
            } else {
                lo ^= mix(hi ^ k) & lo_mask;
            }
        }
        y = (hi << lo_bits) | lo;
        if y < n {
            return y;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Serial numbers: every artifact is `index * 8 + slot` in its kind's namespace
// ---------------------------------------------------------------------------------------------

const SLOTS: u64 = 8;
/// Owned by one account (index = account index).
const S_ACCOUNT: u64 = 0;
/// The hostile market's artifacts (index = `x * 4 + family`, see [`F_HOME`] and after).
const S_HOSTILE: u64 = 1;
/// Owned by an operator (index = operator's first account + j).
const S_OPERATOR: u64 = 2;
/// A second family owned by an operator.
const S_OPERATOR2: u64 = 3;
/// Owned by a pair (civilian pair index, or ring pair index for sold documents).
const S_PAIR: u64 = 4;
/// Hubs: hotspots / cafés / fulfilment centres.
const S_HUB_A: u64 = 5;
/// Hubs: carrier-grade NAT.
const S_HUB_B: u64 = 6;
/// Hubs: VPN exits.
const S_HUB_C: u64 = 7;

#[inline]
fn serial(index: u64, slot: u64) -> u64 {
    index.wrapping_mul(SLOTS).wrapping_add(slot)
}

// Families of the hostile slot; each kind has its own value space, so a family only has to be
// unique within a kind.
/// A household (x = civilian block): its router, IP, address and family PC.
const F_HOME: u64 = 0;
/// An internet café (x = PC for devices, café for its router and IP).
const F_CAFE: u64 = 1;
/// A co-working space (router, IP, address; x = space) or an SMS number (phone; x = number).
const F_SPACE: u64 = 2;
/// A mail drop (address), a re-leased residential IP (x = civilian pair) or a broker's document
/// and SIM (x = batch).
const F_SHARED: u64 = 3;

#[inline]
fn hostile_serial(x: u64, family: u64) -> u64 {
    serial(x.wrapping_mul(4).wrapping_add(family), S_HOSTILE)
}

// Hash tags.
const T_KIND: u64 = 1;
const T_OPERATOR: u64 = 2;
const T_ACCOUNT: u64 = 3;
const T_PAIR: u64 = 4;
const T_SOLD: u64 = 5;
const T_SESSION: u64 = 6;
const T_VPN: u64 = 7;
const T_NAME: u64 = 8;
const T_SWITCH: u64 = 9;
const T_BRIDGE: u64 = 10;
const T_HOSTILE: u64 = 11;
const T_HOUSE: u64 = 12;
const T_RELEASE: u64 = 13;
const T_CLUB: u64 = 14;
const T_BROKER: u64 = 15;
const T_EVENING: u64 = 16;

// ---------------------------------------------------------------------------------------------
// Value spaces
// ---------------------------------------------------------------------------------------------

/// Router vendor prefixes (unicast, globally administered).
const OUIS: [u32; 32] = [
    0x50C7BF, 0xF4F26D, 0x00E0FC, 0x640980, 0xA040A0, 0x14CC20, 0x3C8D20, 0xC83A35, 0x8C53C3, 0xD46E0E,
    0x28EE52, 0x1C3BF3, 0xB0BE76, 0x00259C, 0xE4F4C6, 0x48EE0C, 0x9C5322, 0x60E327, 0xA42BB0, 0x2C3AE8,
    0xBC5FF4, 0xF8D111, 0x7CC2C6, 0x4C1FCC, 0xE0469A, 0x004F62, 0x0C8063, 0x788A20, 0xAC84C6, 0x34E894,
    0x98DED0, 0xEC086B,
];
const MAC_SPACE: u64 = (OUIS.len() as u64) << 24;

/// First octets of public unicast IPv4 used here (1..=223 without 10, 100, 127, 169, 172,
/// 192 and 198).
const V4_FIRST: [u8; 216] = v4_first();
const V4_SPACE: u64 = (V4_FIRST.len() as u64) << 24;

const fn v4_first() -> [u8; 216] {
    let mut out = [0u8; 216];
    let mut i = 0;
    let mut o = 1u32;
    while o <= 223 {
        if !matches!(o, 10 | 100 | 127 | 169 | 172 | 192 | 198) {
            out[i] = o as u8;
            i += 1;
        }
        o += 1;
    }
    out
}

const V6_PREFIX: [u16; 6] = [0x240e, 0x2408, 0x2409, 0x2a02, 0x2600, 0x2a01];

const PHONE_CN: u64 = 7_000_000_000;
const PHONE_US: u64 = 800 * 800 * 10_000;
const PHONE_GB: u64 = 1_000_000_000;

const GIVEN: [&str; 24] = [
    "wei", "fang", "min", "jing", "lei", "yan", "jun", "hui", "tao", "ming", "xin", "yu", "hong", "ping",
    "chao", "li", "na", "qiang", "anna", "david", "maria", "james", "linda", "kevin",
];
const SURNAMES: [&str; 24] = [
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu",
    "hu", "guo", "he", "lin", "gao", "luo", "smith", "nguyen", "kim", "garcia",
];
const MAIL_DOMAINS: [&str; 8] =
    ["gmail.com", "qq.com", "163.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "126.com"];
const EMAIL_TOKEN_SPACE: u64 = 36u64.pow(7);

const REGIONS: [u32; 30] = [
    110101, 110105, 310104, 310115, 440103, 440106, 440304, 440305, 330102, 330782, 320102, 320505, 350203,
    370202, 420106, 430104, 500103, 510104, 610113, 210102, 220102, 230102, 340104, 360102, 410105, 450103,
    460106, 520102, 530102, 620102,
];
/// Days from 1960-01-01 to 2004-12-31 inclusive.
const DOB_DAYS: u64 = 16_437;
const DOC_CN_SPACE: u64 = REGIONS.len() as u64 * DOB_DAYS * 1000;
const PASSPORT_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DOC_PP_SPACE: u64 = 24 * 10_000_000;

const CARD_BINS: [u32; 10] = [453201, 455673, 492181, 518765, 522182, 540158, 622202, 621700, 625807, 356600];
const CARD_SPACE: u64 = CARD_BINS.len() as u64 * 1_000_000_000;
const BANK_CODES: [u32; 10] =
    [37040044, 10070000, 20041111, 50010517, 12030000, 76026000, 70150000, 60050101, 30020900, 43060967];
const IBAN_SPACE: u64 = BANK_CODES.len() as u64 * 10_000_000_000;

const STREETS: [&str; 15] = [
    "Harbour",
    "Nathan",
    "Canton",
    "Hennessy",
    "Shanghai",
    "Lockhart",
    "Jaffe",
    "Kowloon",
    "Garden",
    "Castle",
    "Temple",
    "Reclamation",
    "Tsuen",
    "Lai",
    "Victoria",
];
const SUFFIXES: [&str; 4] = ["Rd", "St", "Ave", "Blvd"];
const AREAS: [(&str, &str); 30] = [
    ("Kwai Chung", "Hong Kong"),
    ("Tsuen Wan", "Hong Kong"),
    ("Mong Kok", "Hong Kong"),
    ("Kwun Tong", "Hong Kong"),
    ("Sha Tin", "Hong Kong"),
    ("Tuen Mun", "Hong Kong"),
    ("Futian", "Shenzhen"),
    ("Nanshan", "Shenzhen"),
    ("Longgang", "Shenzhen"),
    ("Bao'an", "Shenzhen"),
    ("Baiyun", "Guangzhou"),
    ("Panyu", "Guangzhou"),
    ("Tianhe", "Guangzhou"),
    ("Yiwu", "Jinhua"),
    ("Jiangbei", "Ningbo"),
    ("Huli", "Xiamen"),
    ("Pudong", "Shanghai"),
    ("Minhang", "Shanghai"),
    ("Chaoyang", "Beijing"),
    ("Haidian", "Beijing"),
    ("Wuhou", "Chengdu"),
    ("Yuexiu", "Guangzhou"),
    ("Nancheng", "Dongguan"),
    ("Humen", "Dongguan"),
    ("Shunde", "Foshan"),
    ("Xihu", "Hangzhou"),
    ("Gulou", "Nanjing"),
    ("Lixia", "Jinan"),
    ("Jiangan", "Wuhan"),
    ("Yuzhong", "Chongqing"),
];
const ADDR_SPACE: u64 = 8 * 40 * 999 * (STREETS.len() * SUFFIXES.len()) as u64 * AREAS.len() as u64;

const STORE_WORDS: [&str; 12] = [
    "luckymart",
    "bestdeals",
    "trendyhub",
    "gadgetzone",
    "homejoy",
    "styleloft",
    "megabuy",
    "sunnyshop",
    "kidscorner",
    "techtrend",
    "beautybox",
    "outdoorpro",
];

/// Factory-default fingerprints reported by many unrelated devices.
const DEFAULT_FINGERPRINTS: [&str; 6] = [
    "d41d8cd98f00b204e9800998ecf8427e",
    "00000000000000000000000000000000",
    "0123456789abcdef0123456789abcdef",
    "da39a3ee5e6b4b0d3255bfef95601890",
    "e3b0c44298fc1c149afbf4c8996fb924",
    "c4ca4238a0b923820dcc509a6f75849b",
];

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

// ---------------------------------------------------------------------------------------------
// The world: parameters derived once from the configuration
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct World {
    seed: u64,
    target: u64,
    traps: bool,
    /// Cumulative operator-type probabilities: ring, ring + merchant.
    p_ring: f64,
    p_merchant: f64,
    /// Cumulative ring-size distribution over `RING_MIN..=RING_MAX`.
    ring_cdf: Vec<f64>,
    name_space: u64,
    name_width: usize,
    hotspots: u64,
    cafes: u64,
    cgnat: u64,
    vpn: u64,
    fulfilment: u64,
    defaults: u64,
    k_mac: u64,
    k_v4: u64,
    k_v6: u64,
    k_phone: u64,
    k_email: u64,
    k_doc: u64,
    k_pay: u64,
    k_addr: u64,
    k_dev: u64,
    k_name: u64,
    hostile: Option<HostileWorld>,
}

/// The hostile market's parameters, derived once.
#[derive(Clone, Debug)]
struct HostileWorld {
    rates: Hostile,
    cafes: Clubs,
    spaces: Clubs,
    drops: Clubs,
    sms: Clubs,
    brokers: Brokers,
}

/// Accounts that share one artifact with strangers, below the hub caps. A keyed permutation of
/// the account indices lays the accounts out in rows of `hi` slots; row `c < count` is club
/// `c`, and its first `size(c)` slots (`lo..=hi`, uniform) are its members. So every club has
/// between `lo` and `hi` accounts, an account is in at most one club of a kind, membership is
/// a pure function of the account index, and `count` grows with the market.
#[derive(Clone, Debug)]
struct Clubs {
    key: u64,
    n: u64,
    count: u64,
    lo: u64,
    hi: u64,
}

impl Clubs {
    fn new(key: u64, n: u64, rate: f64, lo: u64, hi: u64) -> Self {
        let mean = (lo + hi) as f64 / 2.0;
        let count = ((n as f64 * rate / mean).round() as u64).min(n / hi);
        Self { key, n, count, lo, hi }
    }

    /// The club account `a` belongs to, if any.
    #[inline]
    fn of(&self, a: u64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = permute(self.key, a, self.n);
        let club = q / self.hi;
        (club < self.count && q % self.hi < self.size(club)).then_some(club)
    }

    fn size(&self, club: u64) -> u64 {
        self.lo + hash(self.key, T_CLUB, club) % (self.hi - self.lo + 1)
    }
}

/// ID brokers: in each of two layers, a keyed permutation of the (estimated) ring indices lays
/// the rings out in rows of `width`; the first 2–4 rings of a row buy one document (and its
/// SIM) of that row's batch. `width` is set so that the share of rings in at least one batch is
/// the configured rate.
#[derive(Clone, Debug)]
struct Brokers {
    key: u64,
    rings: u64,
    width: u64,
}

impl Brokers {
    /// The batch (unique over both layers) ring `r` buys from in `layer`, if any.
    fn batch(&self, r: u64, layer: u64) -> Option<u64> {
        if self.width == 0 || r >= self.rings {
            return None;
        }
        let q = permute(hash(self.key, T_BROKER, layer), r, self.rings);
        let b = q / self.width * 2 + layer;
        (q % self.width < 2 + hash(self.key, T_BROKER, b) % 3).then_some(b)
    }
}

/// Kind of pairing between two consecutive civilian (honest or merchant) operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pair {
    None,
    /// The pair's residential IP is leased to the first, later to the second household.
    Recycled {
        first: bool,
    },
    /// Two honest sellers in one household: same router and IP.
    Household,
}

#[derive(Clone, Copy, Debug)]
struct Operator {
    id: u64,
    role: Role,
    /// First account index; the operator's accounts are `base..base + size`.
    base: u64,
    size: u64,
    next: u64,
    key: u64,
    /// Civilian pair index and kind.
    pair_index: u64,
    pair: Pair,
    /// Ring index (rings only) and whether its pair shares a sold document.
    ring: u64,
    sold: bool,
    devices: u64,
    routers: u64,
    mules: u64,
    warehouses: u64,
    docs: u64,
    phones: u64,
    sessions: u64,
    shared_phone: bool,
    ipv6: bool,
    default_fp: Option<u64>,
    /// Hostile market: the civilian block of the operator's multi-seller household.
    house: Option<u64>,
    /// Hostile market: the civilian pair whose IP is re-leased, and whether this home holds it
    /// first.
    release: Option<(u64, bool)>,
    /// Hostile market: the broker batches a ring buys from.
    broker: [Option<u64>; 2],
}

impl World {
    fn new(m: &Marketplace) -> Self {
        let seed = m.seed.unwrap_or(42);
        let target = m.accounts.unwrap_or(10_000);
        let traps = m.traps.unwrap_or(true);
        let r = match m.ring_share {
            Some(f) if !f.is_nan() => f.clamp(0.0, 1.0),
            _ => 0.15,
        };
        let mut ring_cdf = Vec::with_capacity((RING_MAX - RING_MIN + 1) as usize);
        let (mut total, mut mean) = (0.0, 0.0);
        for s in RING_MIN..=RING_MAX {
            let w = 1.0 / (s * s) as f64;
            total += w;
            mean += w * s as f64;
            ring_cdf.push(total);
        }
        for c in &mut ring_cdf {
            *c /= total;
        }
        mean /= total;
        let merchant_share = 0.12 * (1.0 - r);
        let honest_share = 1.0 - r - merchant_share;
        let (wr, wm, wh) = (r / mean, merchant_share / 4.0, honest_share);
        let sum = wr + wm + wh;
        let key = |tag: u64| hash(seed, T_KIND, tag);
        let per = |k: u64| (target / k).max(1);
        let hotspots = per(800);
        let hostile = m.hostile.as_ref().map(|h| {
            let h = h.clone().scaled(1.0);
            // Expected rings: operators per account times the share of ring operators.
            let (p_ring, p_merchant) = (wr / sum, (wr + wm) / sum);
            let per_operator = p_ring * mean + (p_merchant - p_ring) * 4.0 + (1.0 - p_merchant);
            let rings = (target as f64 * p_ring / per_operator) as u64;
            // A ring is in a layer's batch with probability 3 / width; two layers.
            let per_layer = 1.0 - (1.0 - h.id_brokers).sqrt();
            let width = if per_layer > 0.0 { ((3.0 / per_layer).round() as u64).max(4) } else { 0 };
            HostileWorld {
                cafes: Clubs::new(key(11), target, h.cafe_pcs, 10, 30),
                spaces: Clubs::new(key(12), target, h.coworking, 10, 30),
                drops: Clubs::new(key(13), target, h.mail_drops, 10, 30),
                sms: Clubs::new(key(14), target, h.sms_numbers, 8, 24),
                brokers: Brokers { key: key(15), rings, width },
                rates: h,
            }
        });
        Self {
            seed,
            target,
            traps,
            p_ring: wr / sum,
            p_merchant: (wr + wm) / sum,
            ring_cdf,
            name_space: if target <= 1_000_000_000 { 1_000_000_000 } else { 1_000_000_000_000_000 },
            name_width: if target <= 1_000_000_000 { 9 } else { 15 },
            hotspots,
            cafes: (hotspots / 4).max(1),
            cgnat: per(2000),
            vpn: per(4000),
            fulfilment: per(5000),
            defaults: (1 + target / 50_000).min(DEFAULT_FINGERPRINTS.len() as u64),
            k_mac: key(1),
            k_v4: key(2),
            k_v6: key(3),
            k_phone: key(4),
            k_email: key(5),
            k_doc: key(6),
            k_pay: key(7),
            k_addr: key(8),
            k_dev: key(9),
            k_name: key(10),
            hostile,
        }
    }

    /// Picks a textual form: 0 (canonical) without traps or 45 % of the time, else `1..n`.
    #[inline]
    fn form(&self, rng: &mut Rng, n: u64) -> u64 {
        if !self.traps || rng.chance(0.45) { 0 } else { 1 + rng.below(n - 1) }
    }

    fn account_name(&self, a: u64) -> String {
        let v = permute(self.k_name, a, self.name_space);
        let h = hash(self.k_name, T_NAME, a);
        let mut s = String::with_capacity(32);
        match h % 10 {
            0..=5 => s.push_str("store-"),
            6 | 7 => s.push_str("shop-"),
            _ => {
                s.push_str(STORE_WORDS[((h >> 8) % STORE_WORDS.len() as u64) as usize]);
                s.push('-');
            }
        }
        push_dec(&mut s, v, self.name_width);
        s
    }

    // --- artifacts ---------------------------------------------------------------------------

    fn mac(&self, serial: u64, rng: &mut Rng) -> String {
        let v = permute(self.k_mac, serial, MAC_SPACE);
        let m = (u64::from(OUIS[(v >> 24) as usize]) << 24) | (v & 0xFF_FFFF);
        fmt_mac(m, self.form(rng, 5))
    }

    fn ipv4_bits(&self, serial: u64) -> u32 {
        let v = permute(self.k_v4, serial, V4_SPACE);
        (u32::from(V4_FIRST[(v >> 24) as usize]) << 24) | (v & 0xFF_FFFF) as u32
    }

    fn ipv4(&self, serial: u64, rng: &mut Rng) -> String {
        let ip = self.ipv4_bits(serial);
        let mut s = String::with_capacity(22);
        if self.traps && rng.chance(0.2) {
            s.push_str("::ffff:");
        }
        for i in 0..4 {
            if i > 0 {
                s.push('.');
            }
            push_dec(&mut s, u64::from((ip >> (24 - 8 * i)) as u8), 1);
        }
        s
    }

    fn ipv6(&self, serial: u64, rng: &mut Rng) -> String {
        let m = mix(serial.wrapping_add(self.k_v6));
        let h = hash(self.k_v6, 1, serial);
        let g = |x: u64| (x & 0xFFFF) as u16;
        let ip = Ipv6Addr::new(
            V6_PREFIX[(h % V6_PREFIX.len() as u64) as usize],
            g(m >> 48),
            g(m >> 32),
            g(m >> 16),
            g(m),
            g(h >> 16),
            g(h >> 32),
            g(h >> 48),
        );
        match self.form(rng, 3) {
            0 => ip.to_string(),
            1 => {
                let mut s = String::with_capacity(39);
                for (i, seg) in ip.segments().iter().enumerate() {
                    if i > 0 {
                        s.push(':');
                    }
                    for k in (0..4).rev() {
                        s.push(char::from(HEX_LOWER[usize::from((seg >> (4 * k)) & 0xF)]));
                    }
                }
                s
            }
            _ => ip.to_string().to_uppercase(),
        }
    }

    fn phone(&self, serial: u64, rng: &mut Rng) -> String {
        let v = permute(self.k_phone, serial, PHONE_CN + PHONE_US + PHONE_GB);
        let (cc, national, groups): (&str, u64, &[usize]) = if v < PHONE_CN {
            let national = (13 + v / 1_000_000_000) * 1_000_000_000 + v % 1_000_000_000;
            ("86", national, &[3, 4, 4])
        } else if v < PHONE_CN + PHONE_US {
            let w = v - PHONE_CN;
            let (area, exchange) = (200 + w / 8_000_000, 200 + (w / 10_000) % 800);
            ("1", area * 10_000_000 + exchange * 10_000 + w % 10_000, &[3, 3, 4])
        } else {
            ("44", 7_000_000_000 + (v - PHONE_CN - PHONE_US), &[4, 6])
        };
        let mut digits = String::with_capacity(12);
        push_dec(&mut digits, national, 1);
        let mut s = String::with_capacity(24);
        let form = self.form(rng, 4);
        s.push_str(if form == 2 { "00" } else { "+" });
        s.push_str(cc);
        match form {
            1 | 3 => {
                let sep = if form == 1 { ' ' } else { '-' };
                let mut at = 0;
                for &g in groups {
                    s.push(sep);
                    s.push_str(&digits[at..at + g]);
                    at += g;
                }
            }
            _ => s.push_str(&digits),
        }
        s
    }

    fn email(&self, serial: u64, rng: &mut Rng) -> String {
        let mut token = permute(self.k_email, serial, EMAIL_TOKEN_SPACE);
        let h = hash(self.k_email, 1, serial);
        let given = GIVEN[(h % GIVEN.len() as u64) as usize];
        let surname = SURNAMES[((h >> 16) % SURNAMES.len() as u64) as usize];
        let domain = MAIL_DOMAINS[((h >> 32) % MAIL_DOMAINS.len() as u64) as usize];
        let mut tok = [b'0'; 7];
        for c in tok.iter_mut().rev() {
            *c = b"0123456789abcdefghijklmnopqrstuvwxyz"[(token % 36) as usize];
            token /= 36;
        }
        let mut canonical = String::with_capacity(40);
        let parts: [&str; 3] = match (h >> 48) % 4 {
            0 => [given, ".", surname],
            1 => [given, "", surname],
            2 => [surname, "_", given],
            _ => [given, "", ""],
        };
        for p in parts {
            canonical.push_str(p);
        }
        canonical.extend(tok.iter().map(|&b| char::from(b)));
        canonical.push('@');
        canonical.push_str(domain);
        if self.form(rng, 2) == 0 {
            return canonical;
        }
        // Random case and surrounding spaces (ASCII only, so bytes are characters).
        let mode = rng.below(3);
        let mut s = Vec::with_capacity(canonical.len() + 4);
        s.resize(rng.below(3) as usize, b' ');
        let mut first = true;
        for &b in canonical.as_bytes() {
            let upper = match mode {
                0 => true,
                1 => rng.next_u64() % 5 < 2,
                _ => std::mem::take(&mut first) || b == b'.',
            };
            s.push(if upper { b.to_ascii_uppercase() } else { b });
        }
        s.resize(s.len() + rng.below(3) as usize, b' ');
        if s == canonical.as_bytes() {
            s.push(b' ');
        }
        String::from_utf8(s).unwrap_or(canonical)
    }

    fn doc(&self, serial: u64) -> Doc {
        let v = permute(self.k_doc, serial, DOC_CN_SPACE + DOC_PP_SPACE);
        let h = hash(self.k_doc, 1, serial);
        let given = GIVEN[(h % GIVEN.len() as u64) as usize];
        let surname = SURNAMES[((h >> 16) % SURNAMES.len() as u64) as usize];
        let epoch = days_from_civil(1960, 1, 1);
        let mut text = String::with_capacity(18);
        if v < DOC_CN_SPACE {
            let region = REGIONS[(v % REGIONS.len() as u64) as usize];
            let rest = v / REGIONS.len() as u64;
            let dob = civil_from_days(epoch + (rest % DOB_DAYS) as i64);
            push_dec(&mut text, u64::from(region), 6);
            push_dec(&mut text, dob.0.unsigned_abs(), 4);
            push_dec(&mut text, u64::from(dob.1), 2);
            push_dec(&mut text, u64::from(dob.2), 2);
            push_dec(&mut text, rest / DOB_DAYS, 3);
            text.push(cn_id_check(text.as_bytes()));
            Doc { text, passport: false, dob, given, surname }
        } else {
            let w = v - DOC_CN_SPACE;
            text.push('E');
            text.push(char::from(PASSPORT_LETTERS[(w % 24) as usize]));
            push_dec(&mut text, w / 24, 7);
            Doc {
                text,
                passport: true,
                dob: civil_from_days(epoch + ((h >> 32) % DOB_DAYS) as i64),
                given,
                surname,
            }
        }
    }

    fn doc_text(&self, doc: &Doc, rng: &mut Rng) -> String {
        let t = doc.text.as_str();
        let join = |parts: &[&str], sep: char| {
            let mut s = String::with_capacity(t.len() + parts.len());
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    s.push(sep);
                }
                s.push_str(p);
            }
            s
        };
        if doc.passport {
            match self.form(rng, 4) {
                0 => t.to_owned(),
                1 => t.to_lowercase(),
                2 => join(&[&t[..2], &t[2..]], ' '),
                _ => join(&[&t[..2], &t[2..5], &t[5..]], '-'),
            }
        } else {
            let parts = [&t[..6], &t[6..14], &t[14..]];
            match self.form(rng, 5) {
                0 => t.to_owned(),
                1 => join(&parts, ' '),
                2 => join(&parts, '-'),
                3 => format!(" {}", t.to_lowercase()),
                _ => join(&parts, ' ').to_lowercase(),
            }
        }
    }

    fn payment(&self, serial: u64, rng: &mut Rng) -> String {
        let v = permute(self.k_pay, serial, CARD_SPACE + IBAN_SPACE);
        let mut plain = String::with_capacity(22);
        let (group, lower_forms) = if v < CARD_SPACE {
            push_dec(&mut plain, u64::from(CARD_BINS[(v % CARD_BINS.len() as u64) as usize]), 6);
            push_dec(&mut plain, v / CARD_BINS.len() as u64, 9);
            plain.push(luhn_digit(plain.as_bytes()));
            (self.form(rng, 3), false)
        } else {
            let w = v - CARD_SPACE;
            let mut bban = String::with_capacity(18);
            push_dec(&mut bban, u64::from(BANK_CODES[(w % BANK_CODES.len() as u64) as usize]), 8);
            push_dec(&mut bban, w / BANK_CODES.len() as u64, 10);
            plain.push_str("DE");
            push_dec(&mut plain, u64::from(iban_check("DE", &bban)), 2);
            plain.push_str(&bban);
            (self.form(rng, 4), true)
        };
        // Cards: 0 plain, 1 spaced, 2 dashed. IBANs: 0 plain, 1 spaced, 2 spaced lower, 3 lower.
        let (sep, lower) = match (group, lower_forms) {
            (0, _) => (None, false),
            (1, _) => (Some(' '), false),
            (2, false) => (Some('-'), false),
            (2, true) => (Some(' '), true),
            _ => (None, true),
        };
        let mut s = String::with_capacity(plain.len() + 6);
        for (i, ch) in plain.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                if let Some(c) = sep {
                    s.push(c);
                }
            }
            s.push(if lower { ch.to_ascii_lowercase() } else { ch });
        }
        s
    }

    fn address(&self, serial: u64, business: bool, rng: &mut Rng) -> String {
        let mut v = permute(self.k_addr, serial, ADDR_SPACE);
        let mut take = |n: u64| {
            let x = v % n;
            v /= n;
            x
        };
        let flat = char::from(b'A' + take(8) as u8);
        let floor = 1 + take(40);
        let number = 1 + take(999);
        let street = take((STREETS.len() * SUFFIXES.len()) as u64) as usize;
        let (district, city) = AREAS[take(AREAS.len() as u64) as usize];
        let (name, suffix) = (STREETS[street / SUFFIXES.len()], SUFFIXES[street % SUFFIXES.len()]);
        // Noise: drop commas, add a period after the street suffix, change case, add spaces.
        let (comma, dot, case, spaces) = if self.form(rng, 2) == 1 {
            loop {
                let c = (rng.chance(0.5), rng.chance(0.4), rng.below(3), rng.chance(0.4));
                if c != (false, false, 0, false) {
                    break (if c.0 { "" } else { "," }, c.1, c.2, c.3);
                }
            }
        } else {
            (",", false, 0, false)
        };
        let mut text = String::with_capacity(64);
        if business {
            text.push_str("Unit ");
            push_dec(&mut text, floor, 1);
            text.push(flat);
        } else {
            text.push_str("Flat ");
            text.push(flat);
            text.push_str(comma);
            text.push(' ');
            push_dec(&mut text, floor, 1);
            text.push_str("/F");
        }
        text.push_str(comma);
        text.push(' ');
        push_dec(&mut text, number, 1);
        for part in [" ", name, " ", suffix, if dot { "." } else { "" }, comma, " "] {
            text.push_str(part);
        }
        for part in [district, comma, " ", city] {
            text.push_str(part);
        }
        let text = match case {
            1 => text.to_uppercase(),
            2 => text.to_lowercase(),
            _ => text,
        };
        if !spaces {
            return text;
        }
        let mut s = String::with_capacity(text.len() + 8);
        for ch in text.chars() {
            s.push(ch);
            if ch == ' ' && rng.chance(0.3) {
                s.push(' ');
            }
        }
        s.push(' ');
        s
    }

    fn device(&self, serial: u64) -> String {
        let a = mix(serial.wrapping_add(self.k_dev));
        let b = hash(self.k_dev, 1, serial);
        let mut s = String::with_capacity(32);
        for x in [a, b] {
            for i in (0..16).rev() {
                s.push(char::from(HEX_LOWER[((x >> (i * 4)) & 0xF) as usize]));
            }
        }
        s
    }

    /// A VPN login: the exit's IP and a time inside one of its 24 busy quarter-hours.
    fn vpn(&self, rng: &mut Rng) -> (String, i64) {
        let exit = rng.hub(self.vpn);
        let burst = rng.below(24);
        let start = PERIOD_START
            + (hash(self.seed, T_VPN, exit * 64 + burst) % (PERIOD_SECONDS - HOUR) as u64) as i64;
        (self.ipv4(serial(exit, S_HUB_C), rng), start + rng.secs(15 * 60))
    }
}

/// Appends `v` in decimal, zero-padded to at least `width` digits.
fn push_dec(s: &mut String, v: u64, width: usize) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839404142434445464748495051525354555657585960616263\
        646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut x = v;
    while x >= 100 {
        let r = (x % 100) as usize * 2;
        x /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    }
    if x >= 10 {
        let r = x as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + x as u8;
    }
    let start = i.min(buf.len() - width.min(buf.len()));
    s.reserve(buf.len() - start);
    for &b in &buf[start..] {
        s.push(char::from(b));
    }
}

/// An identity document and the identity printed on it.
struct Doc {
    text: String,
    passport: bool,
    dob: (i64, u32, u32),
    given: &'static str,
    surname: &'static str,
}

impl Doc {
    fn dob_name(&self) -> String {
        let (y, m, d) = self.dob;
        format!("{y:04}-{m:02}-{d:02}|{} {}", self.given, self.surname)
    }
}

fn fmt_mac(m: u64, form: u64) -> String {
    let bytes: [u8; 6] = std::array::from_fn(|i| (m >> (40 - 8 * i)) as u8);
    let (sep, upper) = match form {
        0 => (Some(':'), false),
        1 => (Some('-'), true),
        2 => (None, false),
        3 => (Some(':'), true),
        _ => (None, false),
    };
    let hex = if upper { HEX_UPPER } else { HEX_LOWER };
    let mut s = String::with_capacity(17);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            if let Some(c) = sep {
                s.push(c);
            } else if form == 4 && i % 2 == 0 {
                s.push('.');
            }
        }
        s.push(char::from(hex[usize::from(b >> 4)]));
        s.push(char::from(hex[usize::from(b & 0xF)]));
    }
    s
}

/// Luhn check digit for `digits` (ASCII).
fn luhn_digit(digits: &[u8]) -> char {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// ISO 13616 check digits of an IBAN with this country and BBAN.
fn iban_check(country: &str, bban: &str) -> u32 {
    let mut rem = 0u32;
    let mut feed = |c: u8| {
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else {
            let v = u32::from(c.to_ascii_uppercase() - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    };
    for c in bban.bytes().chain(country.bytes()).chain(*b"00") {
        feed(c);
    }
    98 - rem
}

/// ISO 7064 MOD 11-2 check character of a Chinese resident ID body (17 digits).
fn cn_id_check(body: &[u8]) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.iter().zip(W).map(|(&c, w)| u32::from(c - b'0') * w).sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    sellerlink::time::days_from_civil(y, i64::from(m), i64::from(d))
}

use sellerlink::time::civil_from_days;

// ---------------------------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------------------------

/// Collects the records of one account.
struct Out<'a> {
    buf: &'a mut VecDeque<Record>,
    account: String,
    operator: u64,
    role: Role,
}

impl Out<'_> {
    #[inline]
    fn push(&mut self, kind: &'static str, value: String, timestamp: Option<i64>) {
        self.buf.push_back(Record {
            account: self.account.clone(),
            kind,
            value,
            timestamp,
            operator: self.operator,
            role: self.role,
        });
    }
}

/// Half of profile attributes carry the time they were set (soon after the store opened).
#[inline]
fn profile_time(rng: &mut Rng, created: i64) -> Option<i64> {
    rng.chance(0.5).then(|| (created + rng.secs(3 * DAY)).min(PERIOD_START + PERIOD_SECONDS - 1))
}

impl Records {
    fn new(m: &Marketplace) -> Self {
        let world = World::new(m);
        let rng = Rng::new(hash(world.seed, 0, 0));
        Self {
            world,
            rng,
            pool: Vec::with_capacity(IN_FLIGHT),
            buf: VecDeque::with_capacity(32),
            allocated: 0,
            operators: 0,
            civilians: 0,
            rings: 0,
        }
    }

    /// Emits the next account's records into the buffer; `false` at the end.
    fn next_account(&mut self) -> bool {
        while self.pool.len() < IN_FLIGHT && self.allocated < self.world.target {
            let op = self.new_operator();
            self.pool.push(op);
        }
        if self.pool.is_empty() {
            return false;
        }
        let k = self.rng.below(self.pool.len() as u64) as usize;
        let op = self.pool[k];
        self.pool[k].next += 1;
        if self.pool[k].next == op.size {
            self.pool.swap_remove(k);
        }
        let w = &self.world;
        let a = op.base + op.next;
        let mut rng = Rng::new(hash(w.seed, T_ACCOUNT, a));
        let mut out = Out { buf: &mut self.buf, account: w.account_name(a), operator: op.id, role: op.role };
        match op.role {
            Role::Ring => w.ring_store(&op, op.next, a, &mut rng, &mut out),
            Role::EvasiveRing => w.evasive_store(&op, op.next, a, &mut rng, &mut out),
            _ => w.civilian_store(&op, a, &mut rng, &mut out),
        }
        if let Some(h) = &w.hostile {
            w.hostile_visits(h, &op, a, &mut out);
        }
        true
    }

    fn new_operator(&mut self) -> Operator {
        let w = &self.world;
        let remaining = w.target - self.allocated;
        let u = self.rng.unit();
        let (mut role, mut size) = if u < w.p_ring {
            let x = self.rng.unit();
            let i = w.ring_cdf.partition_point(|&c| c < x);
            (Role::Ring, RING_MIN + i as u64)
        } else if u < w.p_merchant {
            (Role::Merchant, self.rng.range(2, 6))
        } else {
            (Role::Honest, 1)
        };
        size = size.min(remaining);
        if role == Role::Ring && size < RING_MIN || role == Role::Merchant && size < 2 {
            (role, size) = (Role::Honest, 1);
        }
        let id = self.operators;
        self.operators += 1;
        let key = hash(w.seed, T_OPERATOR, id);
        let mut orng = Rng::new(key);
        let mut op = Operator {
            id,
            role,
            base: self.allocated,
            size,
            next: 0,
            key,
            pair_index: 0,
            pair: Pair::None,
            ring: 0,
            sold: false,
            devices: 1,
            routers: 1,
            mules: 1,
            warehouses: 1,
            docs: 1,
            phones: 1,
            sessions: 1,
            shared_phone: true,
            ipv6: false,
            default_fp: None,
            house: None,
            release: None,
            broker: [None; 2],
        };
        self.allocated += size;
        if role == Role::Ring {
            if w.traps && orng.chance(0.3) {
                op.role = Role::EvasiveRing;
            }
            op.ring = self.rings;
            self.rings += 1;
            op.sold = w.traps && unit_of(hash(w.seed, T_SOLD, op.ring / 2)) < 0.3;
            op.devices = (1 + size / 12).min(size);
            op.routers = 1 + u64::from(size > 40);
            op.mules =
                if op.role == Role::EvasiveRing { 1 + u64::from(size > 30) } else { (1 + size / 40).min(4) };
            op.warehouses = 1 + u64::from(size > 60);
            op.docs = (size / 6).max(1);
            op.phones = (size / 5).max(1);
            op.sessions = (8 + size / 2).min(80);
            if let Some(h) = &w.hostile {
                op.broker = [h.brokers.batch(op.ring, 0), h.brokers.batch(op.ring, 1)];
            }
        } else {
            let c = self.civilians;
            self.civilians += 1;
            op.pair_index = c / 2;
            let p = unit_of(hash(w.seed, T_PAIR, c / 2));
            op.pair = if p < 0.08 {
                Pair::Recycled { first: c % 2 == 0 }
            } else if w.traps && p < 0.12 {
                Pair::Household
            } else {
                Pair::None
            };
            op.devices = if role == Role::Merchant { orng.range(1, 2) } else { 1 };
            op.shared_phone = orng.chance(0.7);
            op.ipv6 = orng.chance(0.3);
            if w.traps && orng.chance(0.02) {
                op.default_fp = Some(orng.hub(w.defaults));
            }
            if let Some(h) = &w.hostile {
                w.hostile_home(h, c, &mut op);
            }
        }
        op
    }
}

impl World {
    /// Hostile market: the household and re-leased IP of civilian `c`. Civilians come in blocks
    /// of four; a block may hold a household (its first 2–4 civilians), which overrides the
    /// older pairings of its members. A pair of consecutive civilians living in two different
    /// homes may have its IP re-leased from the first home to the second.
    fn hostile_home(&self, h: &HostileWorld, c: u64, op: &mut Operator) {
        let block = c / 4;
        let hb = hash(self.seed, T_HOUSE, block);
        let size = if unit_of(hb) < h.rates.households { 2 + mix(hb) % 3 } else { 0 };
        let member = |x: u64| x % 4 < size;
        let released = |pair: u64| unit_of(hash(self.seed, T_RELEASE, pair)) < h.rates.recycled_ips;
        let pair = c / 2;
        if member(c) {
            op.house = Some(block);
            op.pair = Pair::None;
            // A household of three shares a pair with the block's fourth civilian.
            let straddle = block * 2 + 1;
            if size == 3 && released(straddle) {
                op.release = Some((straddle, true));
            }
        } else if member(c ^ 1) {
            op.pair = Pair::None;
            if released(pair) {
                op.release = Some((pair, false));
            }
        } else if op.pair == Pair::None && released(pair) {
            op.release = Some((pair, c % 2 == 0));
        }
    }

    /// Hostile market: the home network of a household member or of a home whose IP is
    /// re-leased. Household members go online on the same few evenings, through the same router
    /// and IP; the first home of a re-leased IP holds it until a switch day, the second gets it
    /// 0–48 hours later, and each shows it near the handover now and then.
    fn hostile_network(
        &self,
        op: &Operator,
        rng: &mut Rng,
        session: &dyn Fn(&mut Rng) -> i64,
        out: &mut Out<'_>,
    ) {
        let home = match op.house {
            Some(b) => hostile_serial(b, F_HOME),
            None => serial(op.base, S_OPERATOR),
        };
        let when = |rng: &mut Rng| match op.house {
            Some(b) => self.evening(b, rng),
            None => session(rng),
        };
        let lease = op.release.map(|(pair, first)| {
            let h = hash(self.seed, T_RELEASE, !pair);
            let switch = PERIOD_START + 20 * DAY + (h % (50 * DAY) as u64) as i64;
            let gap = ((h >> 32) % (2 * DAY) as u64) as i64;
            (hostile_serial(pair, F_SHARED), first, switch, gap)
        });
        let ip_at = |t: i64| match lease {
            Some((shared, true, switch, _)) if t < switch => shared,
            Some((shared, false, switch, gap)) if t >= switch + gap => shared,
            _ => home,
        };
        let n = if op.house.is_some() { 1 + rng.below(2) } else { u64::from(rng.chance(0.85)) };
        for _ in 0..n {
            let t = when(rng);
            let v = self.ipv4(ip_at(t), rng);
            out.push("ip", v, Some(t));
        }
        if let Some((shared, first, switch, gap)) = lease {
            if rng.chance(0.6) {
                let t =
                    if first { switch - 1 - rng.secs(12 * HOUR) } else { switch + gap + rng.secs(12 * HOUR) };
                let v = self.ipv4(shared, rng);
                out.push("ip", v, Some(t));
            }
        }
        if rng.chance(if op.house.is_some() { 0.5 } else { 0.3 }) {
            let t = when(rng);
            let v = self.mac(home, rng);
            out.push("wifi", v, Some(t));
        }
    }

    /// One of a household's five evenings online (18:00–23:00).
    fn evening(&self, block: u64, rng: &mut Rng) -> i64 {
        let h = hash(self.seed, T_EVENING, block * 8 + rng.below(5));
        PERIOD_START
            + (h % 89) as i64 * DAY
            + 18 * HOUR
            + ((h >> 32) % (4 * HOUR) as u64) as i64
            + rng.secs(HOUR)
    }

    /// Hostile market: what one store shows of the shared places it uses (café PCs, co-working
    /// spaces, mail drops, SMS numbers) and, for ring stores, of its broker's documents. Drawn
    /// from a random stream of its own, after the store's other records.
    fn hostile_visits(&self, h: &HostileWorld, op: &Operator, a: u64, out: &mut Out<'_>) {
        let mut rng = Rng::new(hash(self.seed, T_HOSTILE, a));
        let rng = &mut rng;
        let end = PERIOD_START + PERIOD_SECONDS;
        let any = |rng: &mut Rng| PERIOD_START + rng.secs(PERIOD_SECONDS - 3 * DAY);
        if let Some(pc) = h.cafes.of(a) {
            for _ in 0..1 + u64::from(rng.chance(0.3)) {
                let t = any(rng);
                out.push("device", self.device(hostile_serial(pc, F_CAFE)), Some(t));
                if rng.chance(0.6) {
                    let v = self.mac(hostile_serial(pc / 2, F_CAFE), rng);
                    out.push("wifi", v, Some(t));
                }
                if rng.chance(0.5) {
                    let v = self.ipv4(hostile_serial(pc / 2, F_CAFE), rng);
                    out.push("ip", v, Some((t + rng.secs(1800)).min(end - 1)));
                }
            }
        }
        if let Some(space) = h.spaces.of(a) {
            if rng.chance(0.6) {
                let v = self.address(hostile_serial(space, F_SPACE), true, rng);
                let created = any(rng);
                out.push("address", v, profile_time(rng, created));
            }
            let t = PERIOD_START + rng.secs(89) * DAY + 9 * HOUR + rng.secs(9 * HOUR);
            let v = self.mac(hostile_serial(space, F_SPACE), rng);
            out.push("wifi", v, Some(t));
            if rng.chance(0.7) {
                let v = self.ipv4(hostile_serial(space, F_SPACE), rng);
                out.push("ip", v, Some(t + rng.secs(2 * HOUR)));
            }
        }
        if let Some(drop) = h.drops.of(a) {
            let v = self.address(hostile_serial(drop, F_SHARED), true, rng);
            let created = any(rng);
            out.push("address", v, profile_time(rng, created));
        }
        if let Some(number) = h.sms.of(a) {
            let v = self.phone(hostile_serial(number, F_SPACE), rng);
            let created = any(rng);
            out.push("phone", v, profile_time(rng, created));
        }
        // A ring's first stores register with the broker's documents, later ones now and then
        // (10 %, and about four stores at most, so a document of four rings stays under 25).
        let reuse = (4.0 / op.size as f64).min(0.1);
        for (j, batch) in op.broker.iter().enumerate() {
            let Some(b) = *batch else { continue };
            if op.next == j as u64 || rng.chance(reuse) {
                let created = any(rng);
                let doc = self.doc(hostile_serial(b, F_SHARED));
                let v = self.doc_text(&doc, rng);
                out.push("id_document", v, profile_time(rng, created));
                if rng.chance(0.5) {
                    let v = self.phone(hostile_serial(b, F_SHARED), rng);
                    out.push("phone", v, profile_time(rng, created));
                }
            }
        }
    }

    /// A store of an honest seller or of a multi-store merchant.
    fn civilian_store(&self, op: &Operator, a: u64, rng: &mut Rng, out: &mut Out<'_>) {
        let merchant = op.role == Role::Merchant;
        let end = PERIOD_START + PERIOD_SECONDS;
        let created = PERIOD_START + rng.secs(80 * DAY);
        let session = |rng: &mut Rng| created + rng.secs(end - created);
        let own = serial(op.base, S_OPERATOR);

        // Profile.
        let email = self.email(serial(a, S_ACCOUNT), rng);
        out.push("email", email, profile_time(rng, created));
        if !merchant && rng.chance(0.55) || merchant && op.shared_phone && rng.chance(0.6) {
            let v = self.phone(own, rng);
            out.push("phone", v, profile_time(rng, created));
        } else if merchant && rng.chance(0.3) {
            let v = self.phone(serial(a, S_ACCOUNT), rng);
            out.push("phone", v, profile_time(rng, created));
        }
        if rng.chance(if merchant { 0.75 } else { 0.5 }) {
            let v = self.payment(own, rng);
            out.push("payment", v, profile_time(rng, created));
        }
        // Hostile market: a household registers its home address more often.
        let (home, p_home) = match op.house {
            Some(b) => (hostile_serial(b, F_HOME), 0.5),
            None => (own, if merchant { 0.5 } else { 0.35 }),
        };
        if rng.chance(p_home) {
            let v = self.address(home, false, rng);
            out.push("address", v, profile_time(rng, created));
        }
        if rng.chance(if merchant { 0.25 } else { 0.12 }) {
            let fc = rng.hub(self.fulfilment);
            let v = self.address(serial(fc, S_HUB_A), true, rng);
            out.push("address", v, profile_time(rng, created));
        }
        if rng.chance(if merchant { 0.45 } else { 0.35 }) {
            let doc = self.doc(own);
            let v = self.doc_text(&doc, rng);
            out.push("id_document", v, profile_time(rng, created));
            if rng.chance(0.04) {
                out.push(CUSTOM_KIND, doc.dob_name(), None);
            }
        }

        // Devices.
        if rng.chance(0.9) {
            let v = match op.default_fp {
                Some(i) => DEFAULT_FINGERPRINTS[i as usize].to_owned(),
                None => self.device(serial(op.base + rng.below(op.devices), S_OPERATOR)),
            };
            out.push("device", v, Some(session(rng)));
        }
        // The second device; in a hostile household, often the family PC.
        let (second, p_second) = match op.house {
            Some(b) => (hostile_serial(b, F_HOME), 0.25),
            None => (serial(op.base, S_OPERATOR2), 0.1),
        };
        if rng.chance(p_second) {
            let v = self.device(second);
            out.push("device", v, Some(session(rng)));
        }

        // Home network.
        if op.house.is_some() || op.release.is_some() {
            self.hostile_network(op, rng, &session, out);
        } else {
            self.home_network(op, rng, &session, out);
        }

        // Hubs.
        self.civilian_hubs(rng, &session, out);
    }

    /// The home network of a civilian store: router and residential IP, shared with a second
    /// household when the IP is recycled weeks later or, with traps on, by a two-seller household.
    fn home_network(
        &self,
        op: &Operator,
        rng: &mut Rng,
        session: &dyn Fn(&mut Rng) -> i64,
        out: &mut Out<'_>,
    ) {
        let end = PERIOD_START + PERIOD_SECONDS;
        let own = serial(op.base, S_OPERATOR);
        let (router, home_ip) = match op.pair {
            Pair::Household => (serial(op.pair_index, S_PAIR), serial(op.pair_index, S_PAIR)),
            _ => (own, own),
        };
        if let Pair::Recycled { first } = op.pair {
            // The ISP re-leases the pair's IP: the first household holds it until `switch`,
            // the second one gets it 14–28 days later.
            let h = hash(self.seed, T_SWITCH, op.pair_index);
            let switch = PERIOD_START + 30 * DAY + (h % (30 * DAY) as u64) as i64;
            let gap = 14 * DAY + ((h >> 32) % (14 * DAY) as u64) as i64;
            let shared = serial(op.pair_index, S_PAIR);
            let other = serial(op.base, S_OPERATOR2);
            let (before, after) = if first { (shared, other) } else { (other, shared) };
            let cut = if first { switch } else { switch + gap };
            if first || rng.chance(0.7) {
                let v = self.ipv4(before, rng);
                out.push("ip", v, Some(PERIOD_START + rng.secs(cut - PERIOD_START)));
            }
            if !first || rng.chance(0.7) {
                let v = self.ipv4(after, rng);
                out.push("ip", v, Some(cut + rng.secs(end - cut)));
            }
        } else {
            let n = if rng.chance(0.85) { 1 + u64::from(rng.chance(0.1)) } else { 0 };
            for _ in 0..n {
                let v = if op.ipv6 && op.pair == Pair::None && rng.chance(0.4) {
                    self.ipv6(home_ip, rng)
                } else {
                    self.ipv4(home_ip, rng)
                };
                out.push("ip", v, Some(session(rng)));
            }
        }
        if rng.chance(0.3) {
            let v = self.mac(router, rng);
            out.push("wifi", v, Some(session(rng)));
        }
    }

    /// Hubs a civilian store touches.
    fn civilian_hubs(&self, rng: &mut Rng, session: &dyn Fn(&mut Rng) -> i64, out: &mut Out<'_>) {
        if rng.chance(0.06) {
            let hotspot = rng.hub(self.hotspots);
            self.hotspot_visit(hotspot, session(rng), rng, out);
        }
        if self.traps && rng.chance(0.006) {
            let cafe = rng.below(self.cafes);
            let t = session(rng);
            let v = self.device(serial(cafe * 4 + rng.below(3), S_HUB_A));
            out.push("device", v, Some(t));
            self.hotspot_visit(cafe, t, rng, out);
        }
        if rng.chance(0.12) {
            let c = rng.hub(self.cgnat);
            let v = self.ipv4(serial(c, S_HUB_B), rng);
            out.push("ip", v, Some(session(rng)));
        }
        if self.traps && rng.chance(0.03) {
            let (v, t) = self.vpn(rng);
            out.push("ip", v, Some(t));
        }
    }

    /// A visit to a public hotspot: its router, and usually its public IP minutes later.
    fn hotspot_visit(&self, hotspot: u64, t: i64, rng: &mut Rng, out: &mut Out<'_>) {
        let v = self.mac(serial(hotspot, S_HUB_A), rng);
        out.push("wifi", v, Some(t));
        if rng.chance(0.7) {
            let v = self.ipv4(serial(hotspot, S_HUB_A), rng);
            let t = (t + rng.secs(1800)).min(PERIOD_START + PERIOD_SECONDS - 1);
            out.push("ip", v, Some(t));
        }
    }

    /// The start of one of a ring's shared work sessions (office hours on some day).
    fn ring_session(&self, op: &Operator, rng: &mut Rng) -> i64 {
        let k = rng.below(op.sessions);
        let h = hash(op.key, T_SESSION, k);
        PERIOD_START + (h % 89) as i64 * DAY + 9 * HOUR + ((h >> 32) % (8 * HOUR) as u64) as i64
    }

    /// The sold document of a ring pair, or one of the ring's own documents.
    fn ring_doc(&self, op: &Operator, i: u64, own: u64, rng: &mut Rng) -> Doc {
        if op.sold && (i == 0 || rng.chance(0.1)) {
            self.doc(serial(op.ring / 2, S_PAIR))
        } else {
            self.doc(own)
        }
    }

    /// A store of a counterfeit ring.
    fn ring_store(&self, op: &Operator, i: u64, a: u64, rng: &mut Rng, out: &mut Out<'_>) {
        let pool = |j: u64| serial(op.base + j, S_OPERATOR);
        let s = self.ring_session(op, rng);
        let created = s - rng.secs(2 * DAY).min(s - PERIOD_START);

        let email = self.email(serial(a, S_ACCOUNT), rng);
        out.push("email", email, profile_time(rng, created));
        if rng.chance(0.5) {
            let v = self.phone(pool(rng.below(op.phones)), rng);
            out.push("phone", v, profile_time(rng, created));
        } else if rng.chance(0.2) {
            let v = self.phone(serial(a, S_ACCOUNT), rng);
            out.push("phone", v, profile_time(rng, created));
        }
        if i == 0 && op.sold || rng.chance(0.4) {
            let doc = self.ring_doc(op, i, pool(rng.below(op.docs)), rng);
            let v = self.doc_text(&doc, rng);
            out.push("id_document", v, profile_time(rng, created));
            if rng.chance(0.08) {
                out.push(CUSTOM_KIND, doc.dob_name(), None);
            }
        }
        if rng.chance(0.75) {
            let v = self.payment(pool(rng.below(op.mules)), rng);
            out.push("payment", v, profile_time(rng, created));
        }
        if rng.chance(0.55) {
            let v = self.address(pool(rng.below(op.warehouses)), true, rng);
            out.push("address", v, profile_time(rng, created));
        } else if rng.chance(0.1) {
            let fc = rng.hub(self.fulfilment);
            let v = self.address(serial(fc, S_HUB_A), true, rng);
            out.push("address", v, profile_time(rng, created));
        }

        // Office work sessions: a few laptops, the office router and IP, same hours.
        let laptop = rng.skewed(op.devices);
        out.push("device", self.device(pool(laptop)), Some(s + rng.secs(HOUR)));
        if op.devices > 1 && rng.chance(0.15) {
            let v = self.device(pool(rng.below(op.devices)));
            out.push("device", v, Some(self.ring_session(op, rng)));
        }
        let office = rng.below(op.routers);
        if rng.chance(0.85) {
            let v = if rng.chance(0.2) { self.ipv6(pool(office), rng) } else { self.ipv4(pool(office), rng) };
            out.push("ip", v, Some(s + rng.secs(2 * HOUR)));
            if rng.chance(0.2) {
                let v = self.ipv4(pool(office), rng);
                out.push("ip", v, Some(self.ring_session(op, rng) + rng.secs(2 * HOUR)));
            }
        }
        if rng.chance(0.4) {
            let v = self.mac(pool(office), rng);
            out.push("wifi", v, Some(s + rng.secs(2 * HOUR)));
        }

        // Hubs touched by ring staff.
        if rng.chance(0.03) {
            let hotspot = rng.hub(self.hotspots);
            let t = PERIOD_START + rng.secs(PERIOD_SECONDS - HOUR);
            self.hotspot_visit(hotspot, t, rng, out);
        }
        if rng.chance(0.05) {
            let c = rng.hub(self.cgnat);
            let v = self.ipv4(serial(c, S_HUB_B), rng);
            out.push("ip", v, Some(PERIOD_START + rng.secs(PERIOD_SECONDS)));
        }
        if self.traps && rng.chance(0.1) {
            let (v, t) = self.vpn(rng);
            out.push("ip", v, Some(t));
        }
    }

    /// A store of an evasive ring: fresh everything, tied only by mule, warehouse, router.
    fn evasive_store(&self, op: &Operator, i: u64, a: u64, rng: &mut Rng, out: &mut Out<'_>) {
        let pool = |j: u64| serial(op.base + j, S_OPERATOR);
        let fresh = serial(a, S_ACCOUNT);
        let s = self.ring_session(op, rng);
        let created = s - rng.secs(2 * DAY).min(s - PERIOD_START);

        let email = self.email(fresh, rng);
        out.push("email", email, profile_time(rng, created));
        if rng.chance(0.4) {
            let v = self.phone(fresh, rng);
            out.push("phone", v, profile_time(rng, created));
        }
        if i == 0 && op.sold || rng.chance(0.6) {
            let doc = self.ring_doc(op, i, fresh, rng);
            let v = self.doc_text(&doc, rng);
            out.push("id_document", v, profile_time(rng, created));
        }
        out.push("device", self.device(fresh), Some(s + rng.secs(HOUR)));
        for _ in 0..1 + u64::from(rng.chance(0.2)) {
            if rng.chance(0.5) {
                let (v, t) = self.vpn(rng);
                out.push("ip", v, Some(t));
            } else {
                let v = self.ipv4(fresh, rng);
                out.push("ip", v, Some(s + rng.secs(2 * HOUR)));
            }
        }

        // The only links: mule payments, warehouses, office routers. Consecutive stores share
        // a "bridge" (one of those artifacts, chosen by hash), so the ring is connected even
        // though each store shows only one to three links; a few more appear at random.
        let mut links = [None; 4];
        if i > 0 {
            links[0] = Some(self.bridge(op, i));
        }
        if i + 1 < op.size {
            links[1] = Some(self.bridge(op, i + 1));
        }
        if rng.chance(0.25) {
            let kind = rng.below(3);
            links[2] = Some((kind, rng.below(self.link_count(op, kind))));
        }
        for (n, link) in links.iter().enumerate() {
            let Some((kind, j)) = *link else { continue };
            if links[..n].contains(link) {
                continue;
            }
            match kind {
                0 => {
                    let v = self.payment(pool(j), rng);
                    out.push("payment", v, profile_time(rng, created));
                }
                1 => {
                    let v = self.address(pool(j), true, rng);
                    out.push("address", v, profile_time(rng, created));
                }
                _ => {
                    let v = self.mac(pool(j), rng);
                    out.push("wifi", v, Some(self.ring_session(op, rng) + rng.secs(2 * HOUR)));
                }
            }
        }
    }

    /// How many mules (kind 0), warehouses (1) or office routers (2) a ring has.
    fn link_count(&self, op: &Operator, kind: u64) -> u64 {
        match kind {
            0 => op.mules,
            1 => op.warehouses,
            _ => op.routers,
        }
    }

    /// The link artifact shared by stores `i - 1` and `i` of an evasive ring.
    fn bridge(&self, op: &Operator, i: u64) -> (u64, u64) {
        let h = hash(op.key, T_BRIDGE, i);
        let kind = h % 3;
        (kind, (h >> 8) % self.link_count(op, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 97, 1000, 4096, 5000] {
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = permute(12345, x, n);
                assert!(y < n);
                assert!(!seen[y as usize], "collision for n={n}");
                seen[y as usize] = true;
            }
        }
    }

    #[test]
    fn check_digits() {
        // Known valid card and IBAN, and a published resident-ID example.
        assert_eq!(luhn_digit(b"453201511283036"), '6');
        assert_eq!(iban_check("DE", "370400440532013000"), 89);
        assert_eq!(cn_id_check(b"11010519491231002"), 'X');
    }

    #[test]
    fn calendar_round_trips() {
        for z in [-3653, 0, 1, 11_016, 19_723, 40_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn macs_render_in_every_form() {
        let m = 0xA42B_B012_3456;
        assert_eq!(fmt_mac(m, 0), "a4:2b:b0:12:34:56");
        assert_eq!(fmt_mac(m, 1), "A4-2B-B0-12-34-56");
        assert_eq!(fmt_mac(m, 2), "a42bb0123456");
        assert_eq!(fmt_mac(m, 3), "A4:2B:B0:12:34:56");
        assert_eq!(fmt_mac(m, 4), "a42b.b012.3456");
    }
}
