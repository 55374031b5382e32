//! `sellerlink::shard`: a market built as separate pieces (split at its degree hubs) gives the
//! whole build's learned policy, components and operators.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sellerlink::kind::Kinds;
use sellerlink::policy::{HubCap, KindPolicy, LinkPolicy};
use sellerlink::{IndexBuilder, Level, shard};

use crate::linking::{KINDS, Obs, dense_strategy, obs_strategy, test_policy, value_for};

/// The policies the pieces must agree under: the default (coherence, learning), fixed caps,
/// automatic caps, a low ceiling (hubs by ceiling), and analyst overrides.
fn policies() -> Vec<LinkPolicy> {
    vec![
        LinkPolicy::new(),
        test_policy(),
        LinkPolicy::new()
            .kind("wifi", KindPolicy::weak().hub_cap(HubCap::Auto))
            .custom_kinds(KindPolicy::weak().hub_cap(HubCap::Auto)),
        LinkPolicy::new().ceiling(3),
        LinkPolicy::new()
            .must_link("acct1", "acct7")
            .cannot_link("acct2", "acct3")
            .legitimate("device", "v1"),
    ]
}

/// A union-find over names, for splitting a market into pieces the naive way.
struct Sets(BTreeMap<String, String>);

impl Sets {
    fn find(&mut self, x: &str) -> String {
        let parent = self.0.entry(x.to_string()).or_insert_with(|| x.to_string()).clone();
        if parent == x {
            return parent;
        }
        let root = self.find(&parent);
        self.0.insert(x.to_string(), root.clone());
        root
    }
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0.insert(hi, lo);
        }
    }
}

/// The whole market's tables that pieces are cut by: the kinds in the order one build
/// registers them (first sight), each artifact's accounts, and each kind's degree histogram.
struct Market<'o> {
    kinds: Kinds,
    users: BTreeMap<(&'o str, &'o str), BTreeSet<&'o str>>,
    histograms: BTreeMap<&'o str, BTreeMap<u32, u64>>,
}

impl<'o> Market<'o> {
    fn new(obs: &'o [Obs]) -> Market<'o> {
        let mut kinds = Kinds::new();
        let mut users: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for (a, k, v, _) in obs {
            kinds.resolve(k).unwrap();
            users.entry((k, v)).or_default().insert(a);
        }
        let mut histograms: BTreeMap<&str, BTreeMap<u32, u64>> = BTreeMap::new();
        for ((k, _), accounts) in &users {
            *histograms.entry(k).or_default().entry(accounts.len() as u32).or_default() += 1;
        }
        Market { kinds, users, histograms }
    }

    fn degree(&self, k: &str, v: &str) -> u32 {
        self.users[&(k, v)].len() as u32
    }

    /// A hub by degree: past its kind's cap or the ceiling.
    fn hub(&self, policy: &LinkPolicy, k: &str, v: &str) -> bool {
        let d = self.degree(k, v);
        d >= 2 && d > policy.cap_for(k, &self.histograms[k])
    }

    /// The observations in pieces: accounts connected through the artifacts for which `links`
    /// holds, and through must-link pairs.
    fn pieces(
        &self,
        obs: &'o [Obs],
        policy: &LinkPolicy,
        links: impl Fn(&str, &str) -> bool,
    ) -> BTreeMap<String, Vec<&'o Obs>> {
        let mut sets = Sets(BTreeMap::new());
        for (a, _, _, _) in obs {
            sets.find(a);
        }
        for ((k, v), accounts) in &self.users {
            if links(k, v) {
                let first = accounts.iter().next().unwrap();
                for a in accounts {
                    sets.union(first, a);
                }
            }
        }
        for (a, b) in &policy.overrides().must_link {
            if sets.0.contains_key(a) && sets.0.contains_key(b) {
                sets.union(a, b);
            }
        }
        let mut pieces: BTreeMap<String, Vec<&Obs>> = BTreeMap::new();
        for o in obs {
            pieces.entry(sets.find(&o.0)).or_default().push(o);
        }
        pieces
    }
}

/// Runs the market as pieces, as a distributed backend would, and returns its labels at
/// `level`, with the learned policy the pieces agreed on.
fn by_pieces(
    obs: &[Obs],
    policy: &LinkPolicy,
    level: Level,
) -> (BTreeMap<String, String>, Option<sellerlink::policy::Learned>) {
    let market = Market::new(obs);
    let (kinds, hub) = (&market.kinds, |k: &str, v: &str| market.hub(policy, k, v));
    // Pieces: connected through artifacts that are not hubs, and through must-link pairs.
    let pieces = market.pieces(obs, policy, |k, v| !hub(k, v));
    let builder = |rows: &[&Obs], policy: LinkPolicy| {
        let hubs: BTreeSet<(&str, &str)> =
            rows.iter().filter(|(_, k, v, _)| hub(k, v)).map(|(_, k, v, _)| (*k, v.as_str())).collect();
        let mut b = IndexBuilder::with_kinds(kinds.clone()).policy(shard::piece_policy(&policy, kinds, hubs));
        if level == Level::Components {
            b = b.operators(None);
        }
        for (a, k, v, t) in rows {
            b.add(a, k, v, *t).unwrap();
        }
        b
    };
    let learned = learn_from_pieces(kinds, policy, pieces.values(), builder);
    let pinned = match &learned {
        Some(l) => policy.clone().with_learned(Some(l.clone())),
        None => policy.clone(),
    };
    let mut labels = BTreeMap::new();
    for rows in pieces.values() {
        let index = builder(rows, pinned.clone()).build().unwrap();
        labels.extend(shard::labels(&index, level));
    }
    (labels, learned)
}

/// What the pieces learn together: the sums of their censuses, then of their patterns.
fn learn_from_pieces<'p>(
    kinds: &Kinds,
    policy: &LinkPolicy,
    pieces: impl Iterator<Item = &'p Vec<&'p Obs>> + Clone,
    builder: impl Fn(&[&Obs], LinkPolicy) -> IndexBuilder,
) -> Option<sellerlink::policy::Learned> {
    let mut census = shard::Census::default();
    for rows in pieces.clone() {
        census.merge(&shard::census(builder(rows, policy.clone())).unwrap());
    }
    let keep = census.keep_one_in();
    let mut patterns = shard::Patterns::default();
    for rows in pieces {
        patterns.merge(&shard::patterns(builder(rows, policy.clone()), keep).unwrap());
    }
    shard::learn(kinds, policy, &census, &patterns)
}

fn whole(obs: &[Obs], policy: &LinkPolicy, level: Level) -> sellerlink::Index {
    let mut b = IndexBuilder::new().policy(policy.clone());
    if level == Level::Components {
        b = b.operators(None);
    }
    for (a, k, v, t) in obs {
        b.add(a, k, v, *t).unwrap();
    }
    b.build().unwrap()
}

fn check(obs: &[Obs]) -> Result<(), TestCaseError> {
    for policy in policies() {
        for level in [Level::Components, Level::Operators] {
            let index = whole(obs, &policy, level);
            let (labels, learned) = by_pieces(obs, &policy, level);
            prop_assert_eq!(learned.as_ref(), index.policy().learned(), "learned under {:?}", policy);
            let expected: BTreeMap<String, String> = shard::labels(&index, level).into_iter().collect();
            prop_assert_eq!(&labels, &expected, "{:?} under {:?}", level, policy);
        }
    }
    Ok(())
}

/// The artifacts one build rejects as incoherent, found the way a distributed backend finds
/// them: round after round, each artifact judged by `shard::incoherent_given` on its accounts'
/// neighbourhoods alone (every artifact here has at most 64 accounts, so none is sampled), with
/// the rejections of the rounds before, until a round rejects nothing new.
fn rejected_by_rounds(obs: &[Obs], policy: &LinkPolicy) -> (BTreeSet<(String, String)>, usize) {
    let market = Market::new(obs);
    let users = &market.users;
    let mut first: BTreeMap<(&str, (&str, &str)), Option<i64>> = BTreeMap::new();
    let mut arts_of: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for (a, k, v, t) in obs {
        arts_of.entry(a).or_default().insert((k, v));
        let slot = first.entry((a, (k, v))).or_insert(None);
        *slot = match (*slot, *t) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    let legitimate = &policy.overrides().legitimate;
    let hub =
        |k: &str, v: &str| market.hub(policy, k, v) || legitimate.iter().any(|(lk, lv)| lk == k && lv == v);
    let mut rejected: BTreeSet<(String, String)> = BTreeSet::new();
    for round in 0.. {
        let mut newly = Vec::new();
        for (&(k, v), accounts) in users {
            let art = (k.to_string(), v.to_string());
            if accounts.len() < 3 || hub(k, v) || rejected.contains(&art) {
                continue;
            }
            // The accounts in name order, each with its first use and all its artifacts.
            let view: Vec<(Option<i64>, Vec<shard::Use>)> = accounts
                .iter()
                .map(|a| {
                    let uses = arts_of[a]
                        .iter()
                        .map(|&(gk, gv)| shard::Use {
                            artifact: (gk.to_string(), gv.to_string()),
                            first_use: first[&(*a, (gk, gv))],
                            degree: users[&(gk, gv)].len() as u32,
                            hub: hub(gk, gv),
                        })
                        .collect();
                    (first[&(*a, (k, v))], uses)
                })
                .collect();
            if shard::incoherent_given(policy, &art, accounts.len() as u32, &view, |g| rejected.contains(g)) {
                newly.push(art);
            }
        }
        if newly.is_empty() {
            return (rejected, round);
        }
        rejected.extend(newly);
    }
    unreachable!("rounds end when one rejects nothing new")
}

fn check_rounds(obs: &[Obs]) -> Result<(), TestCaseError> {
    for policy in policies() {
        let index = whole(obs, &policy, Level::Components);
        let expected: BTreeSet<sellerlink::ArtifactId> = index
            .hubs()
            .filter(|h| h.reason == sellerlink::policy::Suppressed::Incoherent)
            .map(|h| h.artifact)
            .collect();
        let rounds: BTreeSet<sellerlink::ArtifactId> = rejected_by_rounds(obs, &policy)
            .0
            .iter()
            .map(|(k, v)| index.artifact(k, v).expect("an artifact of the market"))
            .collect();
        prop_assert_eq!(&rounds, &expected, "under {:?}", policy);
    }
    Ok(())
}

/// The market's components built as pieces cut at the hubs and at every artifact the rounds of
/// judgement reject, each piece holding only its own accounts' uses of a cut artifact and
/// reading the market's degree for it (`shard::presume_cut`), as `sellerlink-dist
/// --cut-incoherent` builds them.
fn components_by_cut_pieces(obs: &[Obs], policy: &LinkPolicy) -> BTreeMap<String, String> {
    let market = Market::new(obs);
    let (kinds, hub) = (&market.kinds, |k: &str, v: &str| market.hub(policy, k, v));
    let (rejected, _) = rejected_by_rounds(obs, policy);
    let cut = |k: &str, v: &str| rejected.contains(&(k.to_string(), v.to_string()));
    let pieces = market.pieces(obs, policy, |k, v| !hub(k, v) && !cut(k, v));
    let builder = |rows: &[&Obs], policy: LinkPolicy| {
        let hubs: BTreeSet<(&str, &str)> =
            rows.iter().filter(|(_, k, v, _)| hub(k, v)).map(|(_, k, v, _)| (*k, v.as_str())).collect();
        let cuts: BTreeSet<(&str, &str, u32)> = rows
            .iter()
            .filter(|(_, k, v, _)| cut(k, v))
            .map(|(_, k, v, _)| (*k, v.as_str(), market.degree(k, v)))
            .collect();
        let mut b = IndexBuilder::with_kinds(kinds.clone())
            .policy(shard::piece_policy(&policy, kinds, hubs))
            .operators(None);
        for (a, k, v, t) in rows {
            b.add(a, k, v, *t).unwrap();
        }
        shard::presume_cut(b, cuts)
    };
    let pinned = match learn_from_pieces(kinds, policy, pieces.values(), builder) {
        Some(l) => policy.clone().with_learned(Some(l)),
        None => policy.clone(),
    };
    let mut labels = BTreeMap::new();
    for rows in pieces.values() {
        labels.extend(shard::labels(&builder(rows, pinned.clone()).build().unwrap(), Level::Components));
    }
    labels
}

fn check_cut_pieces(obs: &[Obs]) -> Result<(), TestCaseError> {
    for policy in policies() {
        let index = whole(obs, &policy, Level::Components);
        let expected: BTreeMap<String, String> =
            shard::labels(&index, Level::Components).into_iter().collect();
        prop_assert_eq!(&components_by_cut_pieces(obs, &policy), &expected, "under {:?}", policy);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pieces_cut_at_rejections_equal_one_build(obs in dense_strategy(90)) {
        check_cut_pieces(&obs)?;
    }

    #[test]
    fn rounds_of_judgement_reject_what_one_build_rejects(obs in dense_strategy(90)) {
        check_rounds(&obs)?;
    }

    #[test]
    fn pieces_equal_one_build(obs in obs_strategy(60)) {
        check(&obs)?;
    }

    #[test]
    fn dense_pieces_equal_one_build(obs in dense_strategy(60)) {
        check(&obs)?;
    }
}

/// Two café PCs: `pc-small` (stores a, b, c) and `pc-big` (a, b, c and five strangers). The big
/// one is incoherent at once (its five strangers share nothing with a, b, c); the small one
/// only once the big one is rejected, since until then the big one relates a, b and c.
#[test]
fn a_rejection_that_takes_two_rounds() {
    let mut obs: Vec<Obs> = Vec::new();
    for s in ["a", "b", "c"] {
        obs.push((s.to_string(), "device", "pc-small".to_string(), None));
    }
    for (i, s) in ["a", "b", "c", "d", "e", "f", "g", "h"].into_iter().enumerate() {
        obs.push((s.to_string(), "device", "pc-big".to_string(), None));
        // Each store also shares a phone with a stranger of its own, so it has other evidence.
        obs.push((s.to_string(), "phone", format!("+4915100000{i}"), None));
        obs.push((format!("stranger-{s}"), "phone", format!("+4915100000{i}"), None));
    }
    let policy = LinkPolicy::new();
    let index = whole(&obs, &policy, Level::Components);
    let incoherent: BTreeSet<String> = index
        .hubs()
        .filter(|h| h.reason == sellerlink::policy::Suppressed::Incoherent)
        .map(|h| index.artifact_value(h.artifact).to_string())
        .collect();
    assert_eq!(incoherent, BTreeSet::from(["pc-big".to_string(), "pc-small".to_string()]));
    let (rounds, count) = rejected_by_rounds(&obs, &policy);
    assert_eq!(count, 2, "pc-big in the first round, pc-small in the second");
    let values: BTreeSet<String> = rounds.into_iter().map(|(_, v)| v).collect();
    assert_eq!(values, incoherent);
}

/// A café PC of 40 accounts is too big (more than four times eight) to say anything about the
/// five accounts of a laptop, two of whom share a second laptop and three of whom also used
/// the café: the laptop is coherent and links all five. The café PC is rejected and cut from
/// the laptop's piece, where only three of its accounts remain; read at that degree it would
/// count as evidence the three have, leave them unrelated, and reject the laptop.
#[test]
fn a_cut_artifact_is_read_at_its_market_degree() {
    let mut obs: Vec<Obs> = Vec::new();
    let mut add = |a: &str, v: &str| obs.push((a.to_string(), "device", v.to_string(), None));
    for a in ["a1", "a2", "a3", "b", "c"] {
        add(a, "laptop");
    }
    for a in ["b", "c"] {
        add(a, "laptop-bc");
    }
    for a in ["a1", "a2", "a3"] {
        add(a, "cafe-pc");
    }
    for i in 0..37 {
        // Strangers of the café, each with a partner of their own (so they have other evidence).
        let (s, t) = (format!("s{i}"), format!("t{i}"));
        add(&s, "cafe-pc");
        add(&s, &format!("pair-{i}"));
        add(&t, &format!("pair-{i}"));
    }
    let policy = LinkPolicy::new();
    let index = whole(&obs, &policy, Level::Components);
    let expected: BTreeMap<String, String> = shard::labels(&index, Level::Components).into_iter().collect();
    assert_eq!(expected["a1"], expected["c"], "the laptop links all five");
    assert_eq!(components_by_cut_pieces(&obs, &policy), expected);
}

/// A market with hubs of every kind (a shared IP and a café PC used by many otherwise
/// unrelated rings), so that the pieces are many and the hubs cross them.
#[test]
fn hubs_crossing_pieces() {
    let mut obs: Vec<Obs> = Vec::new();
    for ring in 0..12u32 {
        for s in 0..4u32 {
            let a = format!("r{ring}s{s}");
            obs.push((a.clone(), "device", value_for("device", ring), None));
            obs.push((a.clone(), "payment", value_for("payment", ring), Some(i64::from(s))));
            obs.push((a.clone(), "ip", "10.9.9.9".to_string(), Some(i64::from(ring))));
            obs.push((a.clone(), "custom_x", format!("cafe{}", ring % 2), None));
            obs.push((a, KINDS[2], value_for("wifi", ring % 3), None));
        }
    }
    for policy in policies() {
        for level in [Level::Components, Level::Operators] {
            let index = whole(&obs, &policy, level);
            let (labels, learned) = by_pieces(&obs, &policy, level);
            assert_eq!(learned.as_ref(), index.policy().learned());
            let expected: BTreeMap<String, String> = shard::labels(&index, level).into_iter().collect();
            assert_eq!(labels, expected, "{level:?} under {policy:?}");
        }
    }
}
