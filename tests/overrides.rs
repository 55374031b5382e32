//! Analyst overrides change linking and operators, and survive snapshots and updates.

use sellerlink::policy::LinkPolicy;
use sellerlink::{IndexBuilder, snapshot};

fn ring_and_strangers(policy: LinkPolicy) -> sellerlink::Index {
    let mut b = IndexBuilder::new().policy(policy);
    // A ring of six on two laptops and one mule account.
    for (s, laptop) in [("r1", "l1"), ("r2", "l1"), ("r3", "l1"), ("r4", "l2"), ("r5", "l2"), ("r6", "l2")] {
        b.add(s, "device", laptop, None).unwrap();
        b.add(s, "payment", "mule-1", None).unwrap();
    }
    // Strangers sharing only a warehouse address and an email each.
    for s in ["x1", "x2", "x3"] {
        b.add(s, "address", "1 Logistics Way, Dock 4", None).unwrap();
        b.add(s, "phone", "+44 20 7946 0000", None).unwrap();
    }
    b.add("solo", "email", "solo@example.com", None).unwrap();
    b.build().unwrap()
}

fn same_op(index: &sellerlink::Index, a: &str, b: &str) -> bool {
    index.cluster_of(index.account(a).unwrap()) == index.cluster_of(index.account(b).unwrap())
}

#[test]
fn must_link_joins_unrelated_accounts() {
    let index = ring_and_strangers(LinkPolicy::new().must_link("solo", "r1"));
    assert!(same_op(&index, "solo", "r1"));
    assert!(same_op(&index, "solo", "r6"));
}

#[test]
fn cannot_link_splits_an_operator_between_the_two() {
    let before = ring_and_strangers(LinkPolicy::new());
    assert!(same_op(&before, "r1", "r6"));
    let index = ring_and_strangers(LinkPolicy::new().cannot_link("r1", "r6"));
    assert!(!same_op(&index, "r1", "r6"));
    assert!(same_op(&index, "r1", "r2"), "laptop mates stay with r1");
    assert!(same_op(&index, "r6", "r5"), "laptop mates stay with r6");
    // The component (a statement about evidence) is unchanged.
    let c = index.components();
    assert_eq!(c.cluster_of(index.account("r1").unwrap()), c.cluster_of(index.account("r6").unwrap()));
}

#[test]
fn legitimate_infrastructure_links_nobody_and_persists() {
    let before = ring_and_strangers(LinkPolicy::new());
    assert!(same_op(&before, "x1", "x2"), "shared phone links the strangers");
    let policy = LinkPolicy::new()
        .legitimate("phone", "+442079460000")
        .legitimate("address", "1 logistics way dock 4");
    let index = ring_and_strangers(policy);
    assert!(!same_op(&index, "x1", "x2"));
    let phone = index.artifact("phone", "+44 20 7946 0000").unwrap();
    assert!(index.is_hub(phone));
    assert_eq!(index.accounts_of(phone).len(), 3, "still queryable");
    // Survives a snapshot round trip and an update.
    let loaded = snapshot::load(&snapshot::save(&index).unwrap()).unwrap();
    assert!(!same_op(&loaded, "x1", "x2"));
    let mut u = loaded.updater();
    u.add("x4", "phone", "+44 20 7946 0000", None).unwrap();
    let (next, _) = u.finish().unwrap();
    assert!(!same_op(&next, "x1", "x4"));
    assert!(next.policy().overrides().legitimate.len() == 2);
}

#[test]
fn cannot_link_in_a_pair_component() {
    let mut b = IndexBuilder::new().policy(LinkPolicy::new().cannot_link("p", "q"));
    b.add("p", "device", "shared", None).unwrap();
    b.add("q", "device", "shared", None).unwrap();
    let index = b.build().unwrap();
    assert!(!same_op(&index, "p", "q"));
    assert_eq!(index.components().len(), 1);
}
