//! Updates: any sequence of updates partitions accounts as one build would.

use proptest::prelude::*;
use sellerlink::IndexBuilder;
use sellerlink::index::Level;

use crate::linking::{Obs, build, obs_strategy, partition, test_policy};

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
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(obs.len())).collect();
        cuts.sort_unstable();
        cuts.push(obs.len());
        // Batch 0 is a fresh build; later batches are updates.
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
            index = u.finish().unwrap().0;
        }
        // Then removals and expiry in one last update.
        let removed: Vec<String> = remove.iter().map(|r| format!("acct{r}")).collect();
        let mut u = index.updater();
        for r in &removed {
            u.remove_account(r);
        }
        if let Some(c) = expire {
            u.expire_before(c);
        }
        let (index, _) = u.finish().unwrap();

        let survivors: Vec<Obs> = obs
            .iter()
            .filter(|o| !removed.contains(&o.0))
            .filter(|o| !matches!((expire, o.3), (Some(c), Some(t)) if t < c))
            .cloned()
            .collect();
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
    for s in ["a1", "a2", "a3"] {
        b.add(s, "payment", "mule-a", None).unwrap();
    }
    for s in ["b1", "b2", "b3"] {
        b.add(s, "payment", "mule-b", None).unwrap();
    }
    let index = b.build().unwrap();
    // One thin bridge: linked, but community detection keeps the rings apart; the bridge
    // store joins one of them.
    let mut u = index.updater();
    u.add("bridge", "payment", "mule-a", None).unwrap();
    u.add("bridge", "payment", "mule-b", None).unwrap();
    let (bridged, changes) = u.finish().unwrap();
    assert_eq!(bridged.components().len(), 1);
    assert!(changes.merged.is_empty(), "{changes:?}");
    assert_eq!(changes.joined.len(), 1);
    assert_eq!(changes.joined[0].account, "bridge");
    // Every b-store paying into mule-a too (timed, so expiry can take it back): one operator.
    let mut u = index.updater();
    for s in ["b1", "b2", "b3"] {
        u.add(s, "payment", "mule-a", Some(100)).unwrap();
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
