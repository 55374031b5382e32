//! Updates: any sequence of updates partitions accounts as one build would.

use proptest::prelude::*;
use sellerlink::IndexBuilder;
use sellerlink::Level;

use crate::linking::{Obs, build, obs_strategy, partition, test_policy};

/// Builds from the first batch, adds each later batch as an update, then removes accounts and
/// expires in one last update. Returns the index and the observations that survive, and
/// checks every change set's re-link count on the way.
fn run_updates(
    obs: &[Obs],
    cuts: Vec<usize>,
    remove: &[u32],
    expire: Option<i64>,
    policy: &sellerlink::policy::LinkPolicy,
) -> (sellerlink::Index, Vec<Obs>) {
    let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(obs.len())).collect();
    cuts.sort_unstable();
    cuts.push(obs.len());
    let mut b = IndexBuilder::new().policy(policy.clone());
    for (a, k, v, t) in &obs[..cuts[0]] {
        b.add(a, k, v, *t).unwrap();
    }
    let mut index = b.build().unwrap();
    for w in cuts.windows(2) {
        let mut u = index.updater();
        for (a, k, v, t) in &obs[w[0]..w[1]] {
            u.add(a, k, v, *t).unwrap();
        }
        let (next, changes) = u.finish().unwrap();
        assert!(changes.relinked_accounts <= next.account_count(), "{changes:?}");
        index = next;
    }
    let removed: Vec<String> = remove.iter().map(|r| format!("acct{r}")).collect();
    let mut u = index.updater();
    for r in &removed {
        u.remove_account(r);
    }
    if let Some(c) = expire {
        u.expire_before(c);
    }
    let (index, _) = u.finish().unwrap();
    let survivors = obs
        .iter()
        .filter(|o| !removed.contains(&o.0))
        .filter(|o| !matches!((expire, o.3), (Some(c), Some(t)) if t < c))
        .cloned()
        .collect();
    (index, survivors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn updates_equal_one_build(
        obs in obs_strategy(70),
        cuts in prop::collection::vec(0usize..70, 0..4),
        remove in prop::collection::vec(0u32..14, 0..3),
        expire in prop::option::of(0i64..60),
    ) {
        let policy = test_policy();
        // Batch 0 is a fresh build; later batches are updates; then removals and expiry.
        let (index, survivors) = run_updates(&obs, cuts, &remove, expire, &policy);
        let fresh = build(&survivors, &policy, true);
        prop_assert_eq!(index.account_count(), fresh.account_count());
        for level in [Level::Components, Level::Operators] {
            prop_assert_eq!(partition(&index, level), partition(&fresh, level));
        }
    }
}

#[test]
fn change_set_reports_merge_split_and_join() {
    let mut b = IndexBuilder::new();
    for i in 1..=7 {
        b.add(&format!("a{i}"), "payment", "mule-a", None).unwrap();
        b.add(&format!("b{i}"), "payment", "mule-b", None).unwrap();
    }
    let index = b.build().unwrap();
    // One thin bridge: a store paying into mule-a that shares a laptop with one b-store. Linked,
    // but community detection keeps the rings apart (one tie against 8 × 7 pairs); the bridge
    // store joins ring a.
    let mut u = index.updater();
    u.add("bridge", "payment", "mule-a", None).unwrap();
    u.add("bridge", "device", "laptop-x", None).unwrap();
    u.add("b1", "device", "laptop-x", None).unwrap();
    let (bridged, changes) = u.finish().unwrap();
    assert_eq!(bridged.components().len(), 1);
    assert!(changes.merged.is_empty(), "{changes:?}");
    assert_eq!(changes.joined.len(), 1);
    assert_eq!(changes.joined[0].account, "bridge");
    // Every b-store paying into mule-a too (timed, so expiry can take it back): one operator.
    let mut u = index.updater();
    for i in 1..=7 {
        u.add(&format!("b{i}"), "payment", "mule-a", Some(100)).unwrap();
    }
    let (merged, changes) = u.finish().unwrap();
    assert_eq!(merged.clustering().len(), 1);
    assert_eq!(changes.merged, vec![("a1".to_string(), vec!["a1".to_string(), "b1".to_string()])]);
    // Expiring those observations splits them again.
    let mut u = merged.updater();
    u.expire_before(200);
    let (split, changes) = u.finish().unwrap();
    assert_eq!(split.clustering().len(), 2);
    assert_eq!(changes.split, vec![("a1".to_string(), vec!["a1".to_string(), "b1".to_string()])]);
    assert_eq!(changes.removed_accounts, 0);
    // Removing an account is counted.
    let mut u = split.updater();
    assert!(u.remove_account("b3"));
    assert!(!u.remove_account("nobody"));
    assert_eq!(u.finish().unwrap().1.removed_accounts, 1);
}

#[test]
fn untouched_clusters_keep_their_representative() {
    let mut b = IndexBuilder::new();
    for s in ["m1", "m2", "m3"] {
        b.add(s, "device", "laptop-m", None).unwrap();
    }
    for s in ["z1", "z2"] {
        b.add(s, "device", "laptop-z", None).unwrap();
    }
    let index = b.build().unwrap();
    let rep_before = index.representative(index.cluster_of(index.account("z1").unwrap())).map(str::to_string);
    let mut u = index.updater();
    // "a0" sorts first: dense ids shift, representatives do not.
    u.add("a0", "device", "laptop-a", None).unwrap();
    u.add("a1", "device", "laptop-a", None).unwrap();
    let (next, changes) = u.finish().unwrap();
    let rep_after = next.representative(next.cluster_of(next.account("z1").unwrap())).map(str::to_string);
    assert_eq!(rep_before, rep_after);
    assert_eq!(changes.appeared, vec!["a0".to_string()]);
    assert!(changes.joined.is_empty());
    // The three-account component was untouched: its operators were kept, not recomputed.
    assert_eq!((changes.kept_components, changes.recomputed_components), (1, 0));
}

#[test]
fn readers_never_see_a_half_made_index() {
    use std::sync::{Arc, RwLock};
    // Readers query whatever index is current; a writer prepares the next and swaps the Arc.
    let mut b = IndexBuilder::new();
    for i in 0..40 {
        b.add(&format!("s{i:02}"), "device", &format!("d{}", i / 4), None).unwrap();
    }
    let current = Arc::new(RwLock::new(Arc::new(b.build().unwrap())));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let current = current.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || checks == 0 {
                    let index = current.read().unwrap().clone();
                    // Invariants of a whole index: every account is in exactly one cluster
                    // whose members include it, and the counts agree.
                    let c = index.clustering();
                    assert_eq!(c.account_count(), index.account_count());
                    let total: usize = (0..c.len()).map(|k| c.size(sellerlink::ClusterId::must(k))).sum();
                    assert_eq!(total, index.account_count());
                    for a in 0..index.account_count() {
                        let a = sellerlink::AccountId::must(a);
                        assert!(index.members(index.cluster_of(a)).contains(a));
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for round in 0..20 {
        let snapshot = current.read().unwrap().clone();
        let mut u = snapshot.updater();
        for j in 0..5 {
            u.add(&format!("n{round:02}-{j}"), "device", &format!("d{}", (round + j) % 12), None).unwrap();
        }
        let (next, _) = u.finish().unwrap();
        *current.write().unwrap() = Arc::new(next);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader panicked") > 0);
    }
    assert_eq!(current.read().unwrap().account_count(), 140);
}

/// An explanation as text, without artifact ids (which depend on the order values were first
/// seen; the step names kind and value anyway).
/// An explanation's debug text without artifact and account ids (an update and a build number
/// them differently; the steps also carry names, which are compared).
fn without_artifact_ids(e: &sellerlink::explain::Explanation) -> String {
    let mut text = format!("{e:?}");
    for id in ["ArtifactId(", "AccountId("] {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find(id) {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            rest = &rest[rest.find(')').map_or(rest.len(), |j| j + 1)..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// Observations over many accounts and values, so that an update reaches few components.
fn sparse_obs(max: usize) -> impl Strategy<Value = Vec<Obs>> {
    let kinds = crate::linking::KINDS;
    prop::collection::vec((0..60u32, 0..kinds.len(), 0..9u32, prop::option::weighted(0.7, 0..60i64)), 0..max)
        .prop_map(move |v| {
            v.into_iter()
                .map(|(a, k, val, t)| {
                    (format!("acct{a}"), kinds[k], crate::linking::value_for(kinds[k], val), t)
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Incremental linking (only what an update reaches) against a fresh build: components,
    /// operators, hubs and every explanation agree, with overrides in play.
    #[test]
    fn sparse_updates_equal_one_build(
        obs in sparse_obs(120),
        cuts in prop::collection::vec(0usize..120, 1..4),
        remove in prop::collection::vec(0u32..60, 0..3),
        expire in prop::option::of(0i64..60),
    ) {
        let policy = test_policy()
            .must_link("acct1", "acct50")
            .must_link("acct7", "acct33")
            .legitimate("wifi", &crate::linking::value_for("wifi", 3));
        let (index, survivors) = run_updates(&obs, cuts, &remove, expire, &policy);
        let fresh = build(&survivors, &policy, true);
        prop_assert_eq!(index.account_count(), fresh.account_count());
        for level in [Level::Components, Level::Operators] {
            prop_assert_eq!(partition(&index, level), partition(&fresh, level));
        }
        let hubs = |i: &sellerlink::Index| {
            let mut v: Vec<(String, String, u32)> = i
                .hubs()
                .map(|h| (i.kind_name(h.kind).to_string(), i.artifact_value(h.artifact).to_string(), h.accounts))
                .collect();
            v.sort();
            v
        };
        prop_assert_eq!(hubs(&index), hubs(&fresh));
        // Ids differ (an update appends, a build numbers by name): compare by name.
        let names: Vec<String> = index.accounts_by_name().take(12).map(|a| index.account_name(a).to_string()).collect();
        let id = |i: &sellerlink::Index, n: &str| i.account(n).unwrap();
        for (x, a) in names.iter().enumerate() {
            for b in &names[x + 1..] {
                prop_assert_eq!(
                    without_artifact_ids(&sellerlink::explain::explain(&index, id(&index, a), id(&index, b))),
                    without_artifact_ids(&sellerlink::explain::explain(&fresh, id(&fresh, a), id(&fresh, b)))
                );
            }
        }
    }
}

/// Two artifacts of equal weight between the same accounts: an update and a fresh build number
/// them differently, and the explanation must still pick the same one (found by the property
/// test above, which failed intermittently before explanations broke ties canonically).
#[test]
fn explanations_break_ties_the_same_after_an_update() {
    let obs: Vec<Obs> = vec![
        ("acct0".into(), "custom_x", "v0".into(), Some(0)),
        ("acct12".into(), "custom_x", "v5".into(), None),
        ("acct16".into(), "custom_x", "v0".into(), None),
        ("acct12".into(), "custom_x", "v0".into(), None),
        ("acct16".into(), "custom_x", "v5".into(), None),
    ];
    let policy = test_policy();
    let (index, survivors) = run_updates(&obs, vec![0], &[], Some(1), &policy);
    let fresh = build(&survivors, &policy, true);
    let id = |i: &sellerlink::Index, n: &str| i.account(n).unwrap();
    let (a, b) = ("acct12", "acct16");
    assert_eq!(
        without_artifact_ids(&sellerlink::explain::explain(&index, id(&index, a), id(&index, b))),
        without_artifact_ids(&sellerlink::explain::explain(&fresh, id(&fresh, a), id(&fresh, b)))
    );
}

#[test]
fn an_update_relinks_only_the_components_it_reaches() {
    let mut b = IndexBuilder::new();
    for ring in 0..10 {
        for s in 0..4 {
            b.add(&format!("r{ring}-{s}"), "device", &format!("laptop-{ring}"), Some(1_000)).unwrap();
        }
    }
    // r0-0 and r0-1 also share a phone, seen early: expiring it must not leave them linked
    // through it, though neither account goes away.
    b.add("r0-0", "phone", "+1 555 0100", Some(10)).unwrap();
    b.add("r0-1", "phone", "+1 555 0100", Some(10)).unwrap();
    let index = b.build().unwrap();
    let mut u = index.updater();
    u.add("newcomer", "device", "laptop-3", Some(2_000)).unwrap();
    let (next, changes) = u.finish().unwrap();
    // Ring 3 and the newcomer: five accounts re-linked, the other nine rings kept.
    assert_eq!(changes.relinked_accounts, 5);
    assert_eq!(next.components().len(), 10);
    assert_eq!(next.members(next.cluster_of(next.account("newcomer").unwrap())).len(), 5);

    // Expiry: the laptop observations of ring 0 stay, the phone goes; ring 0 stays whole.
    let mut u = next.updater();
    u.expire_before(500);
    let (after, changes) = u.finish().unwrap();
    assert_eq!(changes.relinked_accounts, 4);
    assert_eq!(after.members(after.cluster_of(after.account("r0-0").unwrap())).len(), 4);
}

#[test]
fn expiring_the_only_link_splits_accounts_that_stay() {
    let mut b = IndexBuilder::new();
    b.add("a", "device", "shared", Some(10)).unwrap();
    b.add("b", "device", "shared", Some(10)).unwrap();
    b.add("a", "email", "a@example.com", Some(1_000)).unwrap();
    b.add("b", "email", "b@example.com", Some(1_000)).unwrap();
    for s in ["x", "y"] {
        b.add(s, "device", "other", Some(1_000)).unwrap();
    }
    let index = b.build().unwrap();
    assert_eq!(index.components().len(), 2);
    let mut u = index.updater();
    u.expire_before(100);
    let (next, changes) = u.finish().unwrap();
    // a and b keep their emails but lose the only thing they shared.
    assert_eq!(next.account_count(), 4);
    assert_eq!(next.components().len(), 3);
    assert_eq!(changes.relinked_accounts, 2);
    assert_eq!(changes.split, vec![("a".to_string(), vec!["a".to_string(), "b".to_string()])]);
}
