//! sellerlink-dist against the library: the same partition as one build (and, across epochs,
//! as the library's updates), at both levels, with one worker and with two.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sellerlink::ingest::CsvOptions;
use sellerlink::policy::{HubCap, KindPolicy, LinkPolicy};
use sellerlink::{IndexBuilder, Level, shard};
use sellerlink_dist::{Batch, Job, run};

/// (account, kind, value, time)
type Obs = (String, String, String, Option<i64>);

/// One epoch of a test: observations added, or accounts removed (by number), or timestamped
/// observations older than a time (relative, as in [`Obs`]) expired.
#[derive(Clone, Debug)]
enum Step {
    Add(Vec<Obs>),
    Remove(Vec<u32>),
    Expire(i64),
}

const BASE: i64 = 1_700_000_000;

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => obs_strategy(18, 4, 12).prop_map(Step::Add),
        1 => prop::collection::vec(0..18u32, 1..4).prop_map(Step::Remove),
        1 => (0..86_400i64 * 3).prop_map(Step::Expire),
    ]
}

const KINDS: &[&str] = &["device", "payment", "wifi", "ip", "address", "phone", "shoe_size", "dob"];

fn value_for(kind: &str, n: u32) -> String {
    match kind {
        "wifi" => format!("A4-2B-B0-12-34-5{n}"),
        "ip" => format!("10.0.0.{}", n + 1),
        "phone" => format!("+49 151 1234 56{n}"),
        "payment" => format!("DE89 3704 0044 0532 0130 0{n}"),
        _ => format!("V{n}"),
    }
}

fn obs_strategy(accounts: u32, values: u32, max: usize) -> impl Strategy<Value = Vec<Obs>> {
    prop::collection::vec(
        (0..accounts, 0..KINDS.len(), 0..values, prop::option::weighted(0.6, 0..86_400i64 * 3)),
        0..max,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(a, k, val, t)| (format!("acct{a}"), KINDS[k].to_string(), value_for(KINDS[k], val), t))
            .collect()
    })
}

fn policies() -> Vec<LinkPolicy> {
    vec![
        LinkPolicy::new(),
        LinkPolicy::new()
            .ceiling(4)
            .kind("wifi", KindPolicy::weak().hub_cap(HubCap::Auto))
            .kind("payment", KindPolicy::strong().max_accounts(3).window_secs(3600))
            .must_link("acct1", "acct2")
            .cannot_link("acct3", "acct4"),
    ]
}

fn write_csv(dir: &Path, name: &str, obs: &[Obs]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "account,kind,value,timestamp").unwrap();
    for (a, k, v, t) in obs {
        let t = t.map(|t| (BASE + t).to_string()).unwrap_or_default();
        writeln!(f, "{a},{k},\"{v}\",{t}").unwrap();
    }
    path
}

/// The library's answer: one build of the first batch, then each later step as an update.
fn library(first: &[Obs], steps: &[Step], policy: &LinkPolicy, level: Level) -> BTreeSet<BTreeSet<String>> {
    let mut b = IndexBuilder::new().policy(policy.clone());
    if level == Level::Components {
        b = b.operators(None);
    }
    for (a, k, v, t) in first {
        b.add(a, k, v, t.map(|t| BASE + t)).unwrap();
    }
    let mut index = b.build().unwrap();
    for step in steps {
        let mut u = index.updater();
        match step {
            Step::Add(batch) => {
                for (a, k, v, t) in batch {
                    u.add(a, k, v, t.map(|t| BASE + t)).unwrap();
                }
            }
            Step::Remove(accounts) => {
                for a in accounts {
                    u.remove_account(&format!("acct{a}"));
                }
            }
            Step::Expire(t) => u.expire_before(BASE + t),
        }
        index = u.finish().unwrap().0;
    }
    partition(shard::labels(&index, level))
}

fn partition(rows: impl IntoIterator<Item = (String, String)>) -> BTreeSet<BTreeSet<String>> {
    let mut by_label: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (account, label) in rows {
        by_label.entry(label).or_default().insert(account);
    }
    by_label.into_values().collect()
}

fn dist(
    first: &[Obs],
    steps: &[Step],
    policy: &LinkPolicy,
    level: Level,
    workers: usize,
    cut: bool,
) -> BTreeSet<BTreeSet<String>> {
    let dir = tempdir();
    let batches = steps
        .iter()
        .enumerate()
        .map(|(i, step)| match step {
            Step::Add(obs) => Batch::Add(write_csv(&dir, &format!("b{i}.csv"), obs)),
            Step::Remove(accounts) => {
                let path = dir.join(format!("r{i}.csv"));
                let names: String = accounts.iter().map(|a| format!("acct{a}\n")).collect();
                std::fs::write(&path, format!("note,account\n{}", names.replace("acct", "x,acct"))).unwrap();
                Batch::RemoveAccounts(path)
            }
            Step::Expire(t) => Batch::ExpireBefore(BASE + t),
        })
        .collect();
    let job = Job {
        inputs: vec![write_csv(&dir, "first.csv", first)],
        batches,
        level,
        policy: policy.clone(),
        options: CsvOptions::lenient(),
        cut_incoherent: cut,
    };
    let config = if workers == 1 { timely::Config::thread() } else { timely::Config::process(workers) };
    let out = run(config, job).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // Every account once.
    let accounts: BTreeSet<&String> = out.rows.iter().map(|(a, _)| a).collect();
    assert_eq!(accounts.len(), out.rows.len(), "an account in two rows");
    partition(out.rows)
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sellerlink-dist-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(first: &[Obs], steps: &[Step], policy: &LinkPolicy) -> Result<(), TestCaseError> {
    for level in [Level::Components, Level::Operators] {
        let expected = library(first, steps, policy, level);
        for (workers, cut) in [(1, false), (2, false), (2, true)] {
            let got = dist(first, steps, policy, level, workers, cut);
            prop_assert_eq!(
                &got,
                &expected,
                "{:?} with {} workers (cut {}) under {:?}",
                level,
                workers,
                cut,
                policy
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn one_epoch_equals_one_build(obs in obs_strategy(12, 2, 60), which in 0usize..2) {
        check(&obs, &[], &policies()[which])?;
    }

    #[test]
    fn epochs_equal_updates(
        first in obs_strategy(14, 3, 40),
        later in prop::collection::vec(obs_strategy(18, 4, 12), 1..3),
        which in 0usize..2,
    ) {
        let steps: Vec<Step> = later.into_iter().map(Step::Add).collect();
        check(&first, &steps, &policies()[which])?;
    }

    /// Epochs that remove accounts or expire observations, between epochs that add: each
    /// equals the library's update that does the same.
    #[test]
    fn removals_equal_updates(
        first in obs_strategy(14, 3, 40),
        steps in prop::collection::vec(step_strategy(), 1..4),
        which in 0usize..2,
    ) {
        check(&first, &steps, &policies()[which])?;
    }
}

/// `obs` as a Parquet file of row groups of `group_rows` rows (timestamps as int64 seconds).
fn write_parquet(dir: &Path, name: &str, obs: &[Obs], group_rows: usize) -> PathBuf {
    use sellerlink::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let path = dir.join(name);
    let col = |f: &dyn Fn(&Obs) -> &str| -> ArrayRef {
        Arc::new(StringArray::from(obs.iter().map(f).collect::<Vec<_>>()))
    };
    let times: ArrayRef =
        Arc::new(Int64Array::from(obs.iter().map(|o| o.3.map(|t| BASE + t)).collect::<Vec<_>>()));
    let batch = RecordBatch::try_from_iter([
        ("account", col(&|o| o.0.as_str())),
        ("kind", col(&|o| o.1.as_str())),
        ("value", col(&|o| o.2.as_str())),
        ("timestamp", times),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// A Parquet input, each worker reading every other row group, and a Parquet batch: the
    /// library's partition, and every row read once.
    #[test]
    fn parquet_shares_equal_one_build(
        first in obs_strategy(12, 2, 60),
        later in obs_strategy(16, 3, 12),
        group_rows in 1usize..16,
    ) {
        let dir = tempdir();
        let job = Job {
            inputs: vec![write_parquet(&dir, "first.parquet", &first, group_rows)],
            batches: vec![Batch::Add(write_parquet(&dir, "later.parquet", &later, group_rows))],
            level: Level::Operators,
            policy: LinkPolicy::new(),
            options: CsvOptions::lenient(),
            cut_incoherent: false,
        };
        let out = run(timely::Config::process(2), job).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        prop_assert_eq!(out.report.records as usize, first.len() + later.len());
        let expected = library(&first, &[Step::Add(later)], &LinkPolicy::new(), Level::Operators);
        prop_assert_eq!(partition(out.rows), expected);
    }
}

/// Rows the lenient reader skips (a bad phone, an empty account) are skipped by every worker
/// alike, and counted.
#[test]
fn skipped_rows_are_counted() {
    let dir = tempdir();
    let path = dir.join("bad.csv");
    std::fs::write(&path, "account,kind,value\na,phone,call me\n,device,d1\nb,device,d1\nc,device,d1\n")
        .unwrap();
    let job = Job {
        inputs: vec![path],
        batches: Vec::new(),
        level: Level::Components,
        policy: LinkPolicy::new(),
        options: CsvOptions::lenient(),
        cut_incoherent: true,
    };
    let out = run(timely::Config::process(2), job).unwrap();
    assert_eq!(out.report.rejected, 2);
    assert_eq!(out.rows, [("b".to_string(), "b".to_string()), ("c".to_string(), "b".to_string())]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A strict read that fails on one worker's share fails the run, on every worker, instead of
/// leaving the others waiting for it.
#[test]
fn a_bad_line_fails_every_worker() {
    let dir = tempdir();
    let path = dir.join("strict.csv");
    let mut text = String::from("account,kind,value\n");
    for i in 0..200 {
        text += &format!("a{i},device,d{}\n", i / 3);
    }
    text += "z,phone,call me\n"; // in the second worker's half
    std::fs::write(&path, text).unwrap();
    let job = Job {
        inputs: vec![path],
        batches: Vec::new(),
        level: Level::Operators,
        policy: LinkPolicy::new(),
        options: CsvOptions::strict(),
        cut_incoherent: false,
    };
    let err = run(timely::Config::process(2), job).unwrap_err();
    assert!(err.to_string().contains("phone"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
