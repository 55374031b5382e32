//! Linking against a naive reference: all account pairs, policy applied pair by pair, BFS.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use proptest::prelude::*;
use sellerlink::policy::{KindPolicy, LinkPolicy, Strength};
use sellerlink::{IndexBuilder, Level};

/// (account, kind, value, time)
pub type Obs = (String, &'static str, String, Option<i64>);

pub const KINDS: &[&str] = &["device", "payment", "wifi", "ip", "address", "custom_x"];

/// The rules under test, with the kinds' strengths as written (nothing learned: the naive
/// reference applies the policy as given).
pub fn test_policy() -> LinkPolicy {
    LinkPolicy::new()
        .learn(false)
        .kind("device", KindPolicy::strong().max_accounts(4))
        .kind("payment", KindPolicy::strong().max_accounts(6).window_secs(20))
        .kind("wifi", KindPolicy::weak().max_accounts(5).group("net"))
        .kind("ip", KindPolicy::weak().max_accounts(5).window_secs(10).group("net"))
        .kind("address", KindPolicy::weak().max_accounts(3))
        .custom_kinds(KindPolicy::weak().max_accounts(4))
}

pub fn obs_strategy(max: usize) -> impl Strategy<Value = Vec<Obs>> {
    prop::collection::vec((0..14u32, 0..KINDS.len(), 0..5u32, prop::option::weighted(0.7, 0..60i64)), 0..max)
        .prop_map(|v| {
            v.into_iter()
                .map(|(a, k, val, t)| (format!("acct{a}"), KINDS[k], value_for(KINDS[k], val), t))
                .collect()
        })
}

/// Denser observations: fewer accounts and values, so artifacts of three or more accounts, the
/// groups that relate them and the bridges between groups are common.
pub fn dense_strategy(max: usize) -> impl Strategy<Value = Vec<Obs>> {
    prop::collection::vec((0..9u32, 0..KINDS.len(), 0..3u32, prop::option::weighted(0.5, 0..60i64)), 0..max)
        .prop_map(|v| {
            v.into_iter()
                .map(|(a, k, val, t)| (format!("acct{a}"), KINDS[k], value_for(KINDS[k], val), t))
                .collect()
        })
}

/// A canonical value of the kind (so scans can compare text directly).
pub fn value_for(kind: &str, n: u32) -> String {
    match kind {
        "wifi" => format!("a4:2b:b0:12:34:5{n}"),
        "ip" => format!("10.0.0.{}", n + 1),
        "device" | "address" | "custom_x" => format!("v{n}"),
        _ => format!("V{n}"),
    }
}

pub fn build(obs: &[Obs], policy: &LinkPolicy, operators: bool) -> sellerlink::Index {
    let mut b = IndexBuilder::new().policy(policy.clone());
    if !operators {
        b = b.operators(None);
    }
    for (a, k, v, t) in obs {
        b.add(a, k, v, *t).expect("valid observation");
    }
    b.build().expect("builds")
}

/// Artifact -> account -> times (None = untimed).
type Users = BTreeMap<String, Vec<Option<i64>>>;

/// An artifact: (kind, value).
type Key = (&'static str, String);

/// The artifacts that link nobody (degree caps and the coherence judgement), and the
/// memberships coherent artifacts detach, computed naively: every artifact judged against every
/// other, rounds until nothing changes, no sampling.
fn naive_judgement(
    arts: &BTreeMap<Key, Users>,
    policy: &LinkPolicy,
) -> (BTreeSet<Key>, BTreeSet<(Key, String)>) {
    let cap_of = |kind: &str| match policy.kind_policy(kind).cap() {
        sellerlink::policy::HubCap::Fixed(n) => (n as usize).min(policy.ceiling_accounts() as usize),
        _ => policy.ceiling_accounts() as usize,
    };
    let by_degree = |k: &(&str, String)| arts[k].len() > cap_of(k.0);
    let mut suppressed: BTreeSet<(&'static str, String)> =
        arts.keys().filter(|k| arts[*k].len() >= 2 && by_degree(k)).cloned().collect();
    let Some(need) = policy.coherence_needed() else { return (suppressed, BTreeSet::new()) };
    // An account's first timed use of an artifact.
    let first = |k: &(&str, String), a: &str| arts[k][a].iter().flatten().min().copied();
    let coincident = |f: &(&str, String), g: &(&str, String), a: &str| match (first(f, a), first(g, a)) {
        (Some(x), Some(y)) => x.abs_diff(y) <= 3600,
        _ => false,
    };
    // Groups of f's accounts related through usable, unrejected other artifacts; informative
    // accounts; and which accounts' groups reach beyond f.
    let groups = |f: &(&'static str, String), rejected: &BTreeSet<(&'static str, String)>| {
        let accounts: Vec<&str> = arts[f].keys().map(String::as_str).collect();
        let d = accounts.len();
        let mut label: Vec<usize> = (0..d).collect();
        let mut informative = vec![false; d];
        let mut out = vec![false; d];
        let mut lone_out = vec![0usize; d];
        for (g, users) in arts {
            if g == f || users.len() < 2 || by_degree(g) || users.len() > 4 * d.max(8) {
                continue;
            }
            let run: Vec<usize> = (0..d)
                .filter(|&i| users.contains_key(accounts[i]) && !coincident(f, g, accounts[i]))
                .collect();
            for &i in &run {
                informative[i] = true;
            }
            if run.len() == 1 && !rejected.contains(g) {
                lone_out[run[0]] += 1;
            }
            if run.len() >= 2 && !rejected.contains(g) {
                let to = run.iter().map(|&i| label[i]).min().unwrap();
                let from: Vec<usize> = run.iter().map(|&i| label[i]).collect();
                for l in label.iter_mut() {
                    if from.contains(l) {
                        *l = to;
                    }
                }
                if users.len() > run.len() {
                    for &i in &run {
                        out[i] = true;
                    }
                }
            }
        }
        (accounts, label, informative, out, lone_out)
    };
    let candidates: Vec<&(&'static str, String)> =
        arts.keys().filter(|k| arts[*k].len() >= 3 && !by_degree(k)).collect();
    let mut rejected: BTreeSet<(&'static str, String)> = BTreeSet::new();
    loop {
        let newly: Vec<(&'static str, String)> = candidates
            .iter()
            .filter(|f| !rejected.contains(**f))
            .filter(|f| {
                let (accounts, label, informative, _, _) = groups(f, &rejected);
                let n_inf = informative.iter().filter(|&&b| b).count();
                if n_inf < 2 {
                    return accounts.len() > 8;
                }
                let largest =
                    (0..label.len()).map(|l| label.iter().filter(|&&x| x == l).count()).max().unwrap();
                (largest as f64) < need * n_inf as f64
            })
            .map(|f| (*f).clone())
            .collect();
        if newly.is_empty() {
            break;
        }
        rejected.extend(newly);
    }
    let mut detached = BTreeSet::new();
    for f in candidates.iter().filter(|f| !rejected.contains(**f)) {
        let (accounts, label, _, out, lone_out) = groups(f, &rejected);
        // The main group: the largest, ties to the one holding the first name.
        let size = |l: usize| label.iter().filter(|&&x| x == l).count();
        let main = (0..label.len())
            .filter(|&l| size(l) > 0)
            .max_by_key(|&l| (size(l), std::cmp::Reverse((0..label.len()).find(|&i| label[i] == l))))
            .unwrap();
        // A lone account related outside f by two or more accepted artifacts is another
        // entity's, unless an account it is related to outside f holds an accepted artifact of
        // the main group (other than f).
        let accepted = |g: &Key| !by_degree(g) && !rejected.contains(g);
        let main_arts: BTreeSet<&Key> = arts
            .iter()
            .filter(|(g, users)| {
                *g != *f
                    && accepted(g)
                    && (0..label.len()).any(|i| label[i] == main && users.contains_key(accounts[i]))
            })
            .map(|(g, _)| g)
            .collect();
        let limit = 4 * accounts.len().max(8);
        for i in (0..label.len()).filter(|&i| label[i] != main && size(label[i]) == 1 && lone_out[i] >= 2) {
            if size(main) < 2 {
                continue;
            }
            let x = accounts[i];
            let leads_back = arts.iter().any(|(g, users)| {
                g != *f
                    && users.contains_key(x)
                    && users.len() >= 2
                    && users.len() <= limit
                    && accepted(g)
                    && (main_arts.contains(g)
                        || users.keys().filter(|y| y.as_str() != x).any(|y| {
                            arts.iter().any(|(h, hu)| h != g && hu.contains_key(y) && main_arts.contains(h))
                        }))
            });
            if !leads_back {
                detached.insert(((*f).clone(), x.to_string()));
            }
        }
        for l in (0..label.len()).filter(|&l| l != main && size(l) >= 2) {
            let members: Vec<usize> = (0..label.len()).filter(|&i| label[i] == l).collect();
            if members.iter().any(|&i| out[i]) {
                for i in members {
                    detached.insert(((*f).clone(), accounts[i].to_string()));
                }
            }
        }
    }
    // Artifacts of two accounts: detached (the later account) when both belong to other
    // entities, each related outside f by two or more accepted artifacts and nothing related to
    // the first leading back to the second.
    let accepted = |g: &Key| !by_degree(g) && !rejected.contains(g);
    for f in arts.keys().filter(|k| arts[*k].len() == 2 && !by_degree(k)) {
        let (accounts, label, _, _, lone_out) = groups(f, &rejected);
        if label[0] == label[1] || lone_out.iter().any(|&c| c < 2) {
            continue;
        }
        let (x, y) = (accounts[0], accounts[1]);
        let y_arts: BTreeSet<&Key> = arts
            .iter()
            .filter(|(g, users)| *g != f && accepted(g) && users.contains_key(y))
            .map(|(g, _)| g)
            .collect();
        let leads_back = arts.iter().any(|(g, users)| {
            g != f
                && users.contains_key(x)
                && users.len() >= 2
                && users.len() <= 32
                && accepted(g)
                && (y_arts.contains(g)
                    || users.keys().filter(|z| z.as_str() != x).any(|z| {
                        arts.iter().any(|(h, hu)| h != g && hu.contains_key(z) && y_arts.contains(h))
                    }))
        });
        if !leads_back {
            detached.insert((f.clone(), y.to_string()));
        }
    }
    suppressed.extend(rejected);
    (suppressed, detached)
}

/// The naive reference partition, as sets of account names.
pub fn naive_components(obs: &[Obs], policy: &LinkPolicy) -> BTreeSet<BTreeSet<String>> {
    let mut arts: BTreeMap<(&'static str, String), Users> = BTreeMap::new();
    for (a, k, v, t) in obs {
        arts.entry((k, v.clone())).or_default().entry(a.clone()).or_default().push(*t);
    }
    let (suppressed, detached) = naive_judgement(&arts, policy);
    let links = |k: &(&'static str, String), a: &str| {
        !suppressed.contains(k) && !detached.contains(&(k.clone(), a.to_string()))
    };
    let accounts: BTreeSet<String> = obs.iter().map(|o| o.0.clone()).collect();
    let accounts: Vec<String> = accounts.into_iter().collect();
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for (i, a) in accounts.iter().enumerate() {
        for b in &accounts[i + 1..] {
            let mut keys: BTreeSet<String> = BTreeSet::new();
            let mut strong = false;
            for (key, users) in &arts {
                let (kind, value) = key;
                let p = policy.kind_policy(kind);
                let (Some(ta), Some(tb)) = (users.get(a), users.get(b)) else { continue };
                if !links(key, a) || !links(key, b) {
                    continue;
                }
                let compatible = match p.window() {
                    None => true,
                    Some(w) => ta.iter().any(|x| {
                        tb.iter().any(|y| match (x, y) {
                            (Some(x), Some(y)) => x.abs_diff(*y) <= w,
                            _ => true,
                        })
                    }),
                };
                if !compatible {
                    continue;
                }
                match p.strength() {
                    Strength::Strong => strong = true,
                    _ => {
                        keys.insert(match p.evidence_group() {
                            Some(g) => format!("group:{g}"),
                            None => format!("{kind}:{value}"),
                        });
                    }
                }
            }
            let weak_links = policy.corroboration_needed() < 2 && !keys.is_empty();
            if strong || weak_links || keys.len() >= policy.corroboration_needed() as usize {
                adj.entry(a).or_default().push(b);
                adj.entry(b).or_default().push(a);
            }
        }
    }
    // Group corroboration, in rounds: a weak, linking time group of three or more accounts
    // whose main component holds the cohesion share attaches its accounts that are alone in
    // their component; an account claimed by several components joins the largest (ties to
    // the one whose first claiming account comes first in name order).
    let mut comps = components_of(&accounts, &adj);
    if let (Some(share), true) = (policy.group_cohesion_needed(), policy.corroboration_needed() >= 2) {
        loop {
            let comp_of = |a: &str| comps.iter().find(|c| c.contains(a)).unwrap();
            let mut claims: BTreeMap<String, (std::cmp::Reverse<usize>, String, String)> = BTreeMap::new();
            for (key, users) in &arts {
                let p = policy.kind_policy(key.0);
                if p.strength() != Strength::Weak || users.len() < 3 || suppressed.contains(key) {
                    continue;
                }
                for group in time_groups(users, p.window()) {
                    let group: Vec<&str> = group.into_iter().filter(|a| links(key, a)).collect();
                    if group.len() < 3 {
                        continue;
                    }
                    let mut tally: Vec<(&BTreeSet<String>, usize, &str)> = Vec::new();
                    for a in &group {
                        let c = comp_of(a);
                        match tally.iter_mut().find(|t| std::ptr::eq(t.0, c)) {
                            Some(t) => {
                                t.1 += 1;
                                t.2 = t.2.min(a);
                            }
                            None => tally.push((c, 1, a)),
                        }
                    }
                    let main = *tally.iter().max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(x.2))).unwrap();
                    if main.1 < 2 || (main.1 as f64) < share * group.len() as f64 {
                        continue;
                    }
                    let anchor = main.0.iter().next().unwrap().clone();
                    for a in &group {
                        let c = comp_of(a);
                        if !std::ptr::eq(c, main.0) && c.len() == 1 {
                            let claim = (std::cmp::Reverse(main.0.len()), main.2.to_string(), anchor.clone());
                            let best = claims.entry(a.to_string()).or_insert(claim.clone());
                            if claim < *best {
                                *best = claim;
                            }
                        }
                    }
                }
            }
            if claims.is_empty() {
                break;
            }
            for (a, (_, _, anchor)) in &claims {
                let a = accounts.iter().find(|x| *x == a).unwrap();
                let anchor = accounts.iter().find(|x| **x == *anchor).unwrap();
                adj.entry(a).or_default().push(anchor);
                adj.entry(anchor).or_default().push(a);
            }
            comps = components_of(&accounts, &adj);
        }
    }
    comps
}

/// Groups of accounts whose uses connect pairwise within the window (all of them if no window
/// or any untimed use).
fn time_groups(users: &BTreeMap<String, Vec<Option<i64>>>, window: Option<u64>) -> Vec<Vec<&str>> {
    let names: Vec<&str> = users.keys().map(String::as_str).collect();
    let Some(w) = window else { return vec![names] };
    let uses: Vec<(&str, Option<i64>)> =
        users.iter().flat_map(|(a, ts)| ts.iter().map(move |t| (a.as_str(), *t))).collect();
    if uses.iter().any(|u| u.1.is_none()) {
        return vec![names];
    }
    // Connected components of uses under "within w", then their accounts.
    let n = uses.len();
    let mut label: Vec<usize> = (0..n).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..n {
            for j in 0..n {
                let (Some(ti), Some(tj)) = (uses[i].1, uses[j].1) else { continue };
                if ti.abs_diff(tj) <= w && label[j] < label[i] {
                    label[i] = label[j];
                    changed = true;
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for (i, u) in uses.iter().enumerate() {
        groups.entry(label[i]).or_default().insert(u.0);
    }
    groups.into_values().map(|g| g.into_iter().collect()).collect()
}

fn components_of<'a>(
    accounts: &'a [String],
    adj: &HashMap<&'a str, Vec<&'a str>>,
) -> BTreeSet<BTreeSet<String>> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = BTreeSet::new();
    for a in accounts {
        if !seen.insert(a) {
            continue;
        }
        let mut comp = BTreeSet::new();
        let mut queue = VecDeque::from([a.as_str()]);
        while let Some(x) = queue.pop_front() {
            comp.insert(x.to_string());
            for &y in adj.get(x).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(y) {
                    queue.push_back(y);
                }
            }
        }
        out.insert(comp);
    }
    out
}

pub fn partition(index: &sellerlink::Index, level: Level) -> BTreeSet<BTreeSet<String>> {
    let c = index.clustering_at(level);
    (0..c.len())
        .map(|k| {
            c.members(sellerlink::ClusterId::must(k))
                .iter()
                .map(|&a| index.account_name(a).to_string())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn linking_equals_naive_bfs(obs in obs_strategy(60)) {
        let policy = test_policy();
        let index = build(&obs, &policy, false);
        prop_assert_eq!(partition(&index, Level::Components), naive_components(&obs, &policy));
    }

    #[test]
    fn linking_equals_naive_bfs_with_corroboration_three(obs in obs_strategy(60)) {
        let policy = test_policy().corroboration(3);
        let index = build(&obs, &policy, false);
        prop_assert_eq!(partition(&index, Level::Components), naive_components(&obs, &policy));
    }

    #[test]
    fn linking_equals_naive_bfs_on_dense_graphs(obs in dense_strategy(90)) {
        let policy = test_policy();
        let index = build(&obs, &policy, false);
        prop_assert_eq!(partition(&index, Level::Components), naive_components(&obs, &policy));
    }

    #[test]
    fn input_order_never_changes_clusters(obs in obs_strategy(50), seed in any::<u64>()) {
        let policy = test_policy();
        let a = build(&obs, &policy, true);
        let mut shuffled = obs.clone();
        // Deterministic Fisher-Yates from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let b = build(&shuffled, &policy, true);
        for level in [Level::Components, Level::Operators] {
            let labels = |x: &sellerlink::Index| -> Vec<(String, Option<sellerlink::ClusterId>)> {
                x.accounts().map(|id| (x.account_name(id).to_string(), x.clustering_at(level).cluster_of(id))).collect()
            };
            let (la, lb) = (labels(&a), labels(&b));
            prop_assert_eq!(la, lb);
        }
    }

    #[test]
    fn operators_refine_components(obs in obs_strategy(60)) {
        let index = build(&obs, &test_policy(), true);
        let comps = index.components();
        let ops = index.clustering();
        // Every operator lies inside one component.
        for k in 0..ops.len() {
            let members = ops.members(sellerlink::ClusterId::must(k));
            let c0 = comps.cluster_of(members[0]);
            prop_assert!(members.iter().all(|&a| comps.cluster_of(a) == c0));
        }
        prop_assert_eq!(ops.account_count(), index.account_count());
    }
}

#[test]
fn a_small_ring_on_two_shared_artifacts_is_one() {
    // Three stores share only a payment account and a laptop: the two vouch for each other,
    // and nothing else splits the stores.
    let mut b = IndexBuilder::new().operators(None).policy(LinkPolicy::new().learn(false));
    for s in ["a", "b", "c"] {
        b.add(s, "payment", "mule", None).unwrap();
        b.add(s, "device", "laptop", None).unwrap();
    }
    assert_eq!(b.build().unwrap().components().len(), 1);
}

/// The operator of each named account, as the set of its members' names.
fn operator_of(index: &sellerlink::Index, name: &str) -> BTreeSet<String> {
    let ops = index.clustering();
    let op = ops.cluster_of(index.account(name).unwrap()).unwrap();
    ops.members(op).iter().map(|&a| index.account_name(a).to_owned()).collect()
}

#[test]
fn two_rings_that_bought_one_kit_are_two_operators() {
    // Ring a (four stores on one laptop and one payment account) and ring b (three stores on
    // theirs) each used a document and the SIM sold with it on two of their stores. The
    // document's holders are related through the SIM and the SIM's through the document, but
    // the two are one bundle: neither may vouch for the other across the rings.
    let mut b = IndexBuilder::new().policy(LinkPolicy::new().learn(false));
    for s in ["a1", "a2", "a3", "a4"] {
        b.add(s, "device", "laptop-a", None).unwrap();
        b.add(s, "payment", "DE00A", None).unwrap();
    }
    for s in ["b1", "b2", "b3"] {
        b.add(s, "device", "laptop-b", None).unwrap();
        b.add(s, "payment", "DE00B", None).unwrap();
    }
    for s in ["a1", "a2", "b1", "b2"] {
        b.add(s, "id_document", "P1234567", None).unwrap();
        b.add(s, "phone", "+15550001111", None).unwrap();
    }
    let index = b.build().unwrap();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(operator_of(&index, "a1"), names(&["a1", "a2", "a3", "a4"]));
    assert_eq!(operator_of(&index, "b1"), names(&["b1", "b2", "b3"]));
}

#[test]
fn a_ring_on_one_bundle_alone_is_one_operator() {
    // Ten stores that share only a laptop and a payment account: the two are one bundle, so
    // neither relates the stores for the other, yet nothing splits them either.
    let mut b = IndexBuilder::new().policy(LinkPolicy::new().learn(false));
    let stores: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    for s in &stores {
        b.add(s, "device", "laptop", None).unwrap();
        b.add(s, "payment", "DE00MULE", None).unwrap();
    }
    let index = b.build().unwrap();
    assert_eq!(operator_of(&index, "s0"), stores.into_iter().collect::<BTreeSet<String>>());
}

#[test]
fn hub_is_suppressed_and_reported() {
    let mut b = IndexBuilder::new();
    for i in 0..100 {
        b.add(&format!("s{i}"), "ip", "100.64.0.1", Some(1_700_000_000 + i)).unwrap();
    }
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 100);
    let hubs: Vec<_> = index.hubs().collect();
    assert_eq!(hubs.len(), 1);
    assert_eq!(hubs[0].accounts, 100);
    assert_eq!(index.accounts_of(hubs[0].artifact).len(), 100, "a hub stays queryable");
}

#[test]
fn recycled_ip_outside_window_does_not_link() {
    let day = 86_400;
    let mut b = IndexBuilder::new().operators(None).policy(LinkPolicy::new().learn(false));
    // Two sellers share an IP a week apart, and a weak custom attribute: no shared window.
    b.add("home-1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("home-2", "ip", "203.0.113.9", Some(7 * day)).unwrap();
    b.add("home-1", "courier_account", "C-7", None).unwrap();
    b.add("home-2", "courier_account", "c-7", None).unwrap();
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 2);
    // The same at the same time corroborates (ip + the custom kind, two evidence groups).
    let mut b = IndexBuilder::new().operators(None).policy(LinkPolicy::new().learn(false));
    b.add("ring-1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("ring-2", "ip", "203.0.113.9", Some(3600)).unwrap();
    b.add("ring-1", "courier_account", "C-7", None).unwrap();
    b.add("ring-2", "courier_account", "c-7", None).unwrap();
    assert_eq!(b.build().unwrap().components().len(), 1);
}

#[test]
fn a_place_seen_as_router_ip_and_address_is_one_piece_of_evidence() {
    // A co-working space: its router, its public IP and its street address are one place.
    let mut b = IndexBuilder::new().operators(None);
    for s in ["member-1", "member-2"] {
        b.add(s, "wifi", "a4:2b:b0:12:34:56", None).unwrap();
        b.add(s, "ip", "198.51.100.7", Some(1_000)).unwrap();
        b.add(s, "address", "Unit 5, 12 Hub St", None).unwrap();
    }
    assert_eq!(b.build().unwrap().components().len(), 2);
}

#[test]
fn household_router_and_ip_do_not_corroborate() {
    let mut b = IndexBuilder::new().operators(None);
    for s in ["alice-shop", "bob-shop"] {
        b.add(s, "wifi", "a4:2b:b0:12:34:56", None).unwrap();
        b.add(s, "ip", "198.51.100.7", Some(1_000)).unwrap();
    }
    assert_eq!(b.build().unwrap().components().len(), 2);
}

#[test]
fn weak_alone_never_links_strong_alone_does() {
    let mut b = IndexBuilder::new().operators(None);
    b.add("a", "wifi", "a4:2b:b0:12:34:56", None).unwrap();
    b.add("b", "wifi", "A4-2B-B0-12-34-56", None).unwrap();
    b.add("c", "device", "fp1", None).unwrap();
    b.add("d", "device", "FP1", None).unwrap();
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 3);
}

#[test]
fn many_uses_of_one_ip_stay_linear() {
    // Two accounts, 100 000 uses each of one IP, all within its window; plus a shared courier account,
    // so the weak pair is corroborated. Pairing use against use would be 10^10 steps.
    let mut b = IndexBuilder::new();
    for i in 0..100_000i64 {
        b.add("busy-a", "ip", "198.51.100.7", Some(1_700_000_000 + i)).unwrap();
        b.add("busy-b", "ip", "198.51.100.7", Some(1_700_000_000 + i)).unwrap();
    }
    b.add("busy-a", "courier_account", "C-9", None).unwrap();
    b.add("busy-b", "courier_account", "c-9", None).unwrap();
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 1);
    let (a, c) = (index.account("busy-a").unwrap(), index.account("busy-b").unwrap());
    assert!(matches!(
        sellerlink::explain::explain(&index, a, c),
        sellerlink::explain::Explanation::Linked { .. }
    ));
}
