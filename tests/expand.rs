//! Seed expansion puts the rest of a planted ring at the top (precision at k).

use std::collections::{BTreeMap, BTreeSet};

use sellerlink::expand::Expand;
use sellerlink::{AccountId, IndexBuilder};
use sellerlink_synth::{Marketplace, Role};

#[test]
fn expansion_from_three_stores_finds_the_ring() {
    let mut b = IndexBuilder::new();
    let mut rings: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for r in Marketplace::new().accounts(20_000).seed(17).records() {
        if r.role == Role::Ring {
            rings.entry(r.operator).or_default().insert(r.account.clone());
        }
        b.add(&r.account, r.kind, &r.value, r.timestamp).expect("synthetic data is valid");
    }
    let index = b.build().expect("builds");
    let mut precisions = Vec::new();
    for members in rings.values().filter(|m| m.len() >= 10) {
        let seeds: Vec<AccountId> =
            members.iter().take(3).map(|n| index.account(n).expect("known")).collect();
        let k = members.len() - 3;
        let ranked = Expand::new().top(k).run(&index, &seeds);
        assert_eq!(ranked.len(), k);
        let hits = ranked.iter().filter(|r| members.contains(index.account_name(r.account))).count();
        precisions.push(hits as f64 / k as f64);
        // Every result carries a real chain back to a seed.
        for r in &ranked {
            if let Some(seed) = r.nearest_seed {
                assert!(seeds.contains(&seed));
                assert_eq!(r.path.last().map(|s| s.to), Some(r.account));
            }
        }
    }
    assert!(precisions.len() >= 5, "the market has rings of 10+ stores");
    let mean = precisions.iter().sum::<f64>() / precisions.len() as f64;
    assert!(mean >= 0.9, "mean precision at k {mean:.3} over {} rings: {precisions:?}", precisions.len());
}
