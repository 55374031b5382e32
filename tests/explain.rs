//! Explanations: linked iff same component, and every step rebuilt from the raw observations.

use proptest::prelude::*;
use sellerlink::Level;
use sellerlink::explain::{Blocked, Explanation, Step, explain, same_cluster};
use sellerlink::{AccountId, Index};

use crate::linking::{Obs, build, obs_strategy, test_policy};

/// Checks a chain against the raw observations: it starts at `a`, ends at `b`, each step's two
/// accounts really used the artifact (same kind and value), at the reported times.
fn check_chain(
    index: &Index,
    obs: &[Obs],
    a: AccountId,
    b: AccountId,
    path: &[Step],
) -> Result<(), TestCaseError> {
    prop_assert!(!path.is_empty());
    prop_assert_eq!(path[0].from, a);
    prop_assert_eq!(path[path.len() - 1].to, b);
    for w in path.windows(2) {
        prop_assert_eq!(w[0].to, w[1].from);
    }
    for s in path {
        let value = index.artifact_value(s.artifact);
        for (acct, times) in [(s.from, &s.from_times), (s.to, &s.to_times)] {
            let name = index.account_name(acct);
            let mut raw: Vec<i64> = obs
                .iter()
                .filter(|o| o.0 == name && o.1 == s.kind && o.2 == value)
                .filter_map(|o| o.3)
                .collect();
            raw.sort_unstable();
            raw.dedup();
            prop_assert!(
                obs.iter().any(|o| o.0 == name && o.1 == s.kind && o.2 == value),
                "{} never used {} {}",
                name,
                s.kind,
                value
            );
            prop_assert_eq!(&raw, times);
        }
        prop_assert_eq!(
            s.accounts as usize,
            obs.iter()
                .filter(|o| o.1 == s.kind && o.2 == value)
                .map(|o| &o.0)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn explain_agrees_with_linking(obs in obs_strategy(50)) {
        let index = build(&obs, &test_policy(), true);
        let n = index.account_count();
        for i in 0..n {
            for j in 0..n {
                let (a, b) = (AccountId::must(i), AccountId::must(j));
                match explain(&index, a, b) {
                    Explanation::Same => prop_assert_eq!(i, j),
                    Explanation::Linked { path, .. } => {
                        prop_assert!(same_cluster(&index, Level::Components, a, b));
                        prop_assert!(path.iter().all(|s| !index.is_hub(s.artifact) && s.blocked.is_none()));
                        check_chain(&index, &obs, a, b, &path)?;
                    }
                    Explanation::NotLinked { path } => {
                        prop_assert!(!same_cluster(&index, Level::Components, a, b));
                        match path {
                            Some(path) => {
                                check_chain(&index, &obs, a, b, &path)?;
                                // At least one step must fail to link, and hub steps say so.
                                prop_assert!(path.iter().any(|s| s.blocked.is_some()));
                                for s in &path {
                                    prop_assert_eq!(index.is_hub(s.artifact), matches!(s.blocked, Some(Blocked::Hub(_))));
                                }
                            }
                            None => prop_assert!(!reachable(&index, a, b)),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Any chain of shared artifacts at all (hubs, windows and corroboration ignored).
fn reachable(index: &Index, a: AccountId, b: AccountId) -> bool {
    let mut seen = vec![false; index.account_count()];
    let mut stack = vec![a];
    seen[a.as_usize()] = true;
    while let Some(x) = stack.pop() {
        if x == b {
            return true;
        }
        for y in &index.neighbors(x, sellerlink::Via::Any) {
            if !seen[y.as_usize()] {
                seen[y.as_usize()] = true;
                stack.push(y);
            }
        }
    }
    false
}

#[test]
fn recycled_ip_is_reported_as_outside_window() {
    let mut b = sellerlink::IndexBuilder::new();
    b.add("h1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("h2", "ip", "203.0.113.9", Some(9 * 86_400)).unwrap();
    let index = b.build().unwrap();
    let (h1, h2) = (index.account("h1").unwrap(), index.account("h2").unwrap());
    assert_eq!(explain(&index, h1, h2).reasons(), vec![Blocked::OutsideWindow]);
    // With a shared address too, either reason is a true account of the nearest chain.
    let mut b = sellerlink::IndexBuilder::new();
    b.add("h1", "ip", "203.0.113.9", Some(0)).unwrap();
    b.add("h2", "ip", "203.0.113.9", Some(9 * 86_400)).unwrap();
    b.add("h1", "address", "1 Elm St", None).unwrap();
    b.add("h2", "address", "1 elm st", None).unwrap();
    let index = b.build().unwrap();
    let (h1, h2) = (index.account("h1").unwrap(), index.account("h2").unwrap());
    let reasons = explain(&index, h1, h2).reasons();
    assert_eq!(reasons.len(), 1);
    assert!(matches!(reasons[0], Blocked::OutsideWindow | Blocked::Uncorroborated));
}

#[test]
fn weak_step_names_its_corroboration() {
    let mut b = sellerlink::IndexBuilder::new().policy(sellerlink::policy::LinkPolicy::new().learn(false));
    for s in ["r1", "r2"] {
        b.add(s, "wifi", "a4:2b:b0:12:34:56", None).unwrap();
        b.add(s, "courier_account", "C-41", None).unwrap();
    }
    let index = b.build().unwrap();
    let (r1, r2) = (index.account("r1").unwrap(), index.account("r2").unwrap());
    let Explanation::Linked { path, .. } = explain(&index, r1, r2) else { panic!("not linked") };
    assert_eq!(path.len(), 1);
    assert_eq!(path[0].corroborated_by.len(), 1);
}
