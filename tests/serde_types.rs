//! The `serde` feature: the result types a service passes on serialise and come back equal.

use sellerlink::IndexBuilder;
use sellerlink::explain::{Explanation, explain};
use sellerlink::report::RingReport;
use sellerlink::update::ChangeSet;

#[test]
fn results_round_trip_through_json() {
    let mut b = IndexBuilder::new();
    for s in ["r1", "r2", "r3"] {
        b.add(s, "payment", "mule-7", Some(1_700_000_000)).unwrap();
    }
    let index = b.build().unwrap();
    let mut u = index.updater();
    u.add("r4", "payment", "MULE-7", None).unwrap();
    let (next, changes) = u.finish().unwrap();
    let text = serde_json::to_string(&changes).unwrap();
    assert!(text.contains("\"joined\""), "{text}");
    assert_eq!(serde_json::from_str::<ChangeSet>(&text).unwrap(), changes);

    let (a, d) = (next.account("r1").unwrap(), next.account("r4").unwrap());
    let why = explain(&next, a, d);
    let back: Explanation = serde_json::from_str(&serde_json::to_string(&why).unwrap()).unwrap();
    assert_eq!(back, why);

    let report = RingReport::new(&next, next.cluster_of(a));
    let back: RingReport = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(back, report);
    assert!(serde_json::to_string(next.stats()).unwrap().contains("observations"));
}
