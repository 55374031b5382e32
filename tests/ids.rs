//! Ids that cannot lie: stable across updates and snapshots, refused when foreign or removed.

use sellerlink::{AccountId, Error, IndexBuilder};

fn base() -> sellerlink::Index {
    let mut b = IndexBuilder::new();
    for (s, d) in [("shop-2", "d1"), ("shop-4", "d1"), ("shop-6", "d2"), ("shop-8", "d3")] {
        b.add(s, "device", d, Some(100)).unwrap();
    }
    b.build().unwrap()
}

#[test]
fn ids_survive_updates_and_name_the_same_accounts() {
    let old = base();
    let before: Vec<(AccountId, String)> =
        old.accounts().map(|a| (a, old.account_name(a).to_string())).collect();
    let mut u = old.updater();
    // Names that sort before, between and after the old ones.
    for s in ["shop-1", "shop-5", "shop-9"] {
        u.add(s, "device", "d2", Some(200)).unwrap();
    }
    assert!(u.remove_account("shop-4"));
    let (next, _) = u.finish().unwrap();
    for (id, name) in &before {
        if name == "shop-4" {
            assert!(matches!(next.check(*id), Err(Error::RemovedAccount { .. })), "{name}");
            assert!(next.account(name).is_none());
        } else {
            assert_eq!(next.check(*id).unwrap(), *id);
            assert_eq!(next.account_name(*id), name);
            assert_eq!(next.account(name), Some(*id));
        }
    }
    // New accounts are appended, in name order among themselves.
    let appended: Vec<&str> = ["shop-1", "shop-5", "shop-9"].into_iter().collect();
    for (i, name) in appended.iter().enumerate() {
        assert_eq!(next.account(name).unwrap().as_usize(), 4 + i);
    }
    assert_eq!(next.account_count(), 6);
    // A second update and a snapshot round trip keep them too.
    let mut u = next.updater();
    u.add("shop-0", "email", "zero@example.com", None).unwrap();
    let (third, _) = u.finish().unwrap();
    let loaded = sellerlink::snapshot::load(&sellerlink::snapshot::save(&third).unwrap()).unwrap();
    for (id, name) in before.iter().filter(|(_, n)| n != "shop-4") {
        assert_eq!(loaded.account_name(*id), name);
    }
    assert_eq!(loaded.account("shop-5"), next.account("shop-5"));
    // Re-adding a removed account revives its old id.
    let mut u = loaded.updater();
    u.add("shop-4", "device", "d1", Some(300)).unwrap();
    let (revived, _) = u.finish().unwrap();
    assert_eq!(revived.account("shop-4"), old.account("shop-4"));
}

#[test]
fn clusters_of_an_update_equal_one_build_by_name() {
    let old = base();
    let mut u = old.updater();
    u.add("shop-1", "device", "d2", Some(200)).unwrap();
    let (next, _) = u.finish().unwrap();
    let mut b = IndexBuilder::new();
    for (s, d, t) in [
        ("shop-2", "d1", 100),
        ("shop-4", "d1", 100),
        ("shop-6", "d2", 100),
        ("shop-8", "d3", 100),
        ("shop-1", "d2", 200),
    ] {
        b.add(s, "device", d, Some(t)).unwrap();
    }
    let fresh = b.build().unwrap();
    // Ids differ, cluster ids and name order agree.
    assert_ne!(next.account("shop-1"), fresh.account("shop-1"));
    let by_name = |i: &sellerlink::Index| -> Vec<(String, u32)> {
        i.accounts_by_name().map(|a| (i.account_name(a).to_string(), i.cluster_of(a).as_u32())).collect()
    };
    assert_eq!(by_name(&next), by_name(&fresh));
}

#[test]
fn foreign_ids_are_refused_with_a_typed_error() {
    let index = base();
    let foreign = AccountId::must(1_000);
    match index.check(foreign) {
        Err(Error::UnknownAccountId { id, slots }) => assert_eq!((id, slots), (foreign, 4)),
        other => panic!("{other:?}"),
    }
}

#[test]
#[should_panic(expected = "account id A1000 is not in this index")]
fn a_lookup_with_a_foreign_id_panics_with_the_reason() {
    let index = base();
    let _ = index.cluster_of(AccountId::must(1_000));
}

#[test]
#[should_panic(expected = "was removed by an update")]
fn a_lookup_with_a_removed_id_panics_with_the_reason() {
    let old = base();
    let gone = old.account("shop-8").unwrap();
    let mut u = old.updater();
    u.remove_account("shop-8");
    let (next, _) = u.finish().unwrap();
    let _ = next.neighbors(gone, sellerlink::Via::Any);
}
