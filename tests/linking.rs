//! Linking against a naive reference: all account pairs, policy applied pair by pair, BFS.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use proptest::prelude::*;
use sellerlink::policy::{KindPolicy, LinkPolicy, Strength};
use sellerlink::{IndexBuilder, Level};

/// (account, kind, value, time)
pub type Obs = (String, &'static str, String, Option<i64>);

pub const KINDS: &[&str] = &["device", "payment", "wifi", "ip", "address", "custom_x"];

pub fn test_policy() -> LinkPolicy {
    LinkPolicy::new()
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

/// The naive reference partition, as sets of account names.
pub fn naive_components(obs: &[Obs], policy: &LinkPolicy) -> BTreeSet<BTreeSet<String>> {
    // Artifact -> account -> times (None = untimed).
    type Users = BTreeMap<String, Vec<Option<i64>>>;
    let mut arts: BTreeMap<(&str, String), Users> = BTreeMap::new();
    for (a, k, v, t) in obs {
        arts.entry((k, v.clone())).or_default().entry(a.clone()).or_default().push(*t);
    }
    let accounts: BTreeSet<String> = obs.iter().map(|o| o.0.clone()).collect();
    let accounts: Vec<String> = accounts.into_iter().collect();
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for (i, a) in accounts.iter().enumerate() {
        for b in &accounts[i + 1..] {
            let mut keys: BTreeSet<String> = BTreeSet::new();
            let mut strong = false;
            for ((kind, value), users) in &arts {
                let p = policy.kind_policy(kind);
                let cap = match p.cap() {
                    sellerlink::policy::HubCap::Fixed(n) => n as usize,
                    _ => usize::MAX,
                };
                if users.len() > cap {
                    continue;
                }
                let (Some(ta), Some(tb)) = (users.get(a), users.get(b)) else { continue };
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
            if strong || keys.len() >= policy.corroboration_needed() as usize {
                adj.entry(a).or_default().push(b);
                adj.entry(b).or_default().push(a);
            }
        }
    }
    // Group corroboration, to the fixpoint: a weak non-hub artifact's time group of three or
    // more accounts links whole when enough of them already share a component with another.
    let cap_of = |kind: &str| match policy.kind_policy(kind).cap() {
        sellerlink::policy::HubCap::Fixed(n) => n as usize,
        _ => usize::MAX,
    };
    let mut comps = components_of(&accounts, &adj);
    if let Some(share) = policy.group_cohesion_needed() {
        loop {
            let mut merged = false;
            for ((kind, _), users) in &arts {
                let p = policy.kind_policy(kind);
                if p.strength() != Strength::Weak
                    || users.len() > cap_of(kind)
                    || policy.corroboration_needed() < 2
                {
                    continue;
                }
                for group in time_groups(users, p.window()) {
                    if group.len() < 3 {
                        continue;
                    }
                    let comp_of = |a: &str| comps.iter().position(|c| c.contains(a));
                    let ids: Vec<Option<usize>> = group.iter().map(|a| comp_of(a)).collect();
                    let related =
                        ids.iter().filter(|&&c| ids.iter().filter(|&&d| d == c).count() >= 2).count();
                    let distinct: BTreeSet<_> = ids.iter().collect();
                    if distinct.len() > 1 && related as f64 >= share * group.len() as f64 {
                        for w in group.windows(2) {
                            adj.entry(w[0]).or_default().push(w[1]);
                            adj.entry(w[1]).or_default().push(w[0]);
                        }
                        comps = components_of(&accounts, &adj);
                        merged = true;
                    }
                }
            }
            if !merged {
                break;
            }
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
    let mut b = IndexBuilder::new().operators(None);
    // Two households share an IP a week apart, plus a router each: no shared window.
    b.add("home-1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("home-2", "ip", "203.0.113.9", Some(7 * day)).unwrap();
    b.add("home-1", "address", "1 Elm St", None).unwrap();
    b.add("home-2", "address", "1 elm st.", None).unwrap();
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 2);
    // The same at the same time corroborates (ip + address, two evidence groups).
    let mut b = IndexBuilder::new().operators(None);
    b.add("ring-1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("ring-2", "ip", "203.0.113.9", Some(3600)).unwrap();
    b.add("ring-1", "address", "1 Elm St", None).unwrap();
    b.add("ring-2", "address", "1 elm st.", None).unwrap();
    assert_eq!(b.build().unwrap().components().len(), 1);
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
    // Two accounts, 100 000 uses each of one IP, all within its window; plus a shared address,
    // so the weak pair is corroborated. Pairing use against use would be 10^10 steps.
    let mut b = IndexBuilder::new();
    for i in 0..100_000i64 {
        b.add("busy-a", "ip", "198.51.100.7", Some(1_700_000_000 + i)).unwrap();
        b.add("busy-b", "ip", "198.51.100.7", Some(1_700_000_000 + i)).unwrap();
    }
    b.add("busy-a", "address", "9 Dock Rd", None).unwrap();
    b.add("busy-b", "address", "9 dock rd", None).unwrap();
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 1);
    let (a, c) = (index.account("busy-a").unwrap(), index.account("busy-b").unwrap());
    assert!(matches!(
        sellerlink::explain::explain(&index, a, c),
        sellerlink::explain::Explanation::Linked { .. }
    ));
}
