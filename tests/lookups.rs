//! Every lookup equals a brute-force scan of the observations.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sellerlink::Via;
use sellerlink::{AccountId, AccountSet, ArtifactId};

use crate::linking::{build, obs_strategy, test_policy};

fn names(index: &sellerlink::Index, set: &AccountSet) -> BTreeSet<String> {
    set.iter().map(|a| index.account_name(a).to_string()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lookups_equal_scans(obs in obs_strategy(60)) {
        let index = build(&obs, &test_policy(), true);
        // Artifact -> accounts, by scan (values here are already canonical modulo case).
        let users = |kind: &str, value: &str| -> BTreeSet<String> {
            obs.iter().filter(|o| o.1 == kind && o.2 == value).map(|o| o.0.clone()).collect()
        };
        for f in 0..index.artifact_count() {
            let f = ArtifactId::must(f);
            let kind = index.kind_name(index.artifact_kind(f)).to_string();
            let value = index.artifact_value(f).to_string();
            prop_assert_eq!(names(&index, &index.accounts_of(f)), users(&kind, &value));
            prop_assert_eq!(index.artifact(&kind, &value), Some(f));
        }
        for a in 0..index.account_count() {
            let a = AccountId::must(a);
            let name = index.account_name(a).to_string();
            prop_assert_eq!(index.account(&name), Some(a));
            let mine: BTreeSet<(String, String)> = obs.iter().filter(|o| o.0 == name).map(|o| (o.1.to_string(), o.2.clone())).collect();
            let arts: BTreeSet<(String, String)> = index.artifacts_of(a).map(|f| (index.kind_name(index.artifact_kind(f)).to_string(), index.artifact_value(f).to_string())).collect();
            prop_assert_eq!(&arts, &mine);
            // Neighbours by scan, per via and per kind.
            for via in [Via::Any, Via::NonHubs, Via::Hubs] {
                let mut expect = BTreeSet::new();
                let mut expect_device = BTreeSet::new();
                for f in index.artifacts_of(a) {
                    let hub = index.is_hub(f);
                    let pass = match via { Via::Hubs => hub, Via::NonHubs => !hub, _ => true };
                    if !pass { continue; }
                    let (k, v) = (index.kind_name(index.artifact_kind(f)).to_string(), index.artifact_value(f).to_string());
                    let u = users(&k, &v);
                    if k == "device" { expect_device.extend(u.iter().cloned()); }
                    expect.extend(u);
                }
                expect.remove(&name);
                expect_device.remove(&name);
                prop_assert_eq!(names(&index, &index.neighbors(a, via)), expect);
                let device = index.kinds().get("device").expect("built in");
                prop_assert_eq!(names(&index, &index.shares(a, device, via)), expect_device);
            }
            // Cluster membership by scan of labels.
            let c = index.cluster_of(a);
            let by_scan: BTreeSet<u32> = index.accounts().filter(|&x| index.clustering().cluster_of(x) == Some(c)).map(AccountId::as_u32).collect();
            let got: BTreeSet<u32> = index.members(c).iter().map(AccountId::as_u32).collect();
            prop_assert_eq!(got, by_scan);
        }
        // Accounts per kind.
        for (k, kname) in index.kinds().iter() {
            let expect: BTreeSet<String> = obs.iter().filter(|o| o.1 == kname).map(|o| o.0.clone()).collect();
            prop_assert_eq!(names(&index, &index.accounts_with_kind(k)), expect);
        }
    }

    #[test]
    fn account_set_algebra_matches_btreeset(a in prop::collection::btree_set(0u32..500, 0..60), b in prop::collection::btree_set(0u32..500, 0..60)) {
        let sa: AccountSet = a.iter().map(|&x| AccountId::from_u32(x)).collect();
        let sb: AccountSet = b.iter().map(|&x| AccountId::from_u32(x)).collect();
        let back = |s: AccountSet| s.iter().map(AccountId::as_u32).collect::<BTreeSet<u32>>();
        prop_assert_eq!(back(&sa & &sb), a.intersection(&b).copied().collect());
        prop_assert_eq!(back(&sa | &sb), a.union(&b).copied().collect());
        prop_assert_eq!(back(&sa - &sb), a.difference(&b).copied().collect());
        prop_assert_eq!(back(&sa ^ &sb), a.symmetric_difference(&b).copied().collect());
        prop_assert_eq!(sa.intersection_len(&sb), a.intersection(&b).count() as u64);
        let sorted: Vec<AccountId> = a.iter().map(|&x| AccountId::from_u32(x)).collect();
        prop_assert_eq!(AccountSet::from_sorted(&sorted), sa);
    }
}

#[test]
fn index_serves_threads() {
    let obs: Vec<_> = (0..200).map(|i| (format!("s{i}"), "device", format!("d{}", i / 4), None)).collect();
    let index = std::sync::Arc::new(build(&obs, &test_policy(), true));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let index = index.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        index.cluster_mates(index.account(&format!("s{}", t * 50 + i)).expect("known")).len()
                    })
                    .sum::<u64>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("no panic"), 150);
    }
}
