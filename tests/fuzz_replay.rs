//! Fuzz corpora replayed under `cargo test`: every file in `fuzz/seeds/<target>/` and every
//! minimized crash in `tests/fuzz/<target>/` goes through the same checks as the fuzz target.
//!
//! The checks are plain functions so that the fuzz targets (`fuzz/fuzz_targets/*.rs`) include
//! this very file with `#[path]` and run the same code: keep it free of dev-dependencies and of
//! `crate::` paths, or the fuzz crate stops building.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sellerlink::error::IngestError;
use sellerlink::ingest::{CsvOptions, IngestReport, read_csv};
use sellerlink::normalize::Normalizer;
use sellerlink::policy::{KindPolicy, LinkPolicy};
use sellerlink::snapshot;
use sellerlink::{Index, IndexBuilder};

/// Target `csv_ingest`: arbitrary bytes as a CSV file, strict and lenient, then `build()`.
///
/// Never panics; lenient mode accounts for every line (`lines_read == accepted + rejected`),
/// fails only on the header, and agrees with strict mode whenever strict mode accepts the file;
/// and results do not depend on the chunk size (a lenient read in chunks of 1 to 16 bytes, so
/// that record boundaries fall everywhere, gives the same report and clustering).
pub fn check_csv(data: &[u8]) {
    let (strict, _, strict_index) = ingest(data, &CsvOptions::strict());
    let (lenient, observations, index) = ingest(data, &CsvOptions::lenient());
    let chunk = 1 + data.len() % 16;
    let (chunked, chunked_observations, chunked_index) =
        ingest(data, &CsvOptions::lenient().chunk_size(chunk));
    assert_eq!(
        chunked.as_ref().map_err(ToString::to_string),
        lenient.as_ref().map_err(ToString::to_string),
        "lenient read in {chunk}-byte chunks vs one chunk"
    );
    assert_eq!(chunked_observations, observations, "observations added, {chunk}-byte chunks vs one");
    assert_eq!(chunked_index.clustering(), index.clustering(), "clustering, {chunk}-byte chunks vs one");
    let report = match lenient {
        Ok(report) => report,
        Err(IngestError::Header { .. }) => return,
        Err(e) => panic!("lenient mode failed on a record, not the header: {e}"),
    };
    assert_eq!(report.lines_read, report.accepted + report.rejected, "lenient report: {report:?}");
    assert_eq!(report.records, report.lines_read, "lenient report: {report:?}");
    assert_eq!(report.accepted, observations, "accepted records vs observations added");
    assert_eq!(index.stats().observations, observations, "observations in the built index");
    if let Ok(strict) = strict {
        assert_eq!(strict, report, "strict accepted the file, so lenient must reject nothing");
        assert_eq!(strict_index.clustering(), index.clustering(), "strict and lenient clusterings");
    }
}

/// Reads `data` into a fresh builder and builds: the read's outcome, the observations added and
/// the index (built whatever the outcome: a failed read leaves a usable builder).
fn ingest(data: &[u8], options: &CsvOptions) -> (Result<IngestReport, IngestError>, u64, Index) {
    let mut builder = IndexBuilder::new();
    let result = read_csv(data, "fuzz.csv", options, &mut builder);
    let observations = builder.observation_count() as u64;
    let index = builder.build().expect("build never fails on small input");
    (result, observations, index)
}

/// The built-in normalisers, each checked by [`check_normalize`].
pub fn builtin_normalizers() -> [Normalizer; 7] {
    Normalizer::builtins()
}

/// Target `normalize`: arbitrary bytes, if UTF-8, through every built-in normaliser.
///
/// An accepted value's canonical form is non-empty and is a fixed point: normalising it again
/// succeeds and gives it back.
pub fn check_normalize(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let (mut out, mut again) = (String::new(), String::new());
    for norm in builtin_normalizers() {
        if norm.normalize(raw, &mut out).is_err() {
            continue;
        }
        let name = norm.name();
        assert!(!out.is_empty(), "{name}: {raw:?} normalised to an empty value");
        if let Err(e) = norm.normalize(&out, &mut again) {
            panic!("{name}: not idempotent: {raw:?} -> {out:?}, which is rejected: {e}");
        }
        assert_eq!(again, out, "{name}: not idempotent: {raw:?} -> {out:?} -> {again:?}");
    }
}

/// The fixed observations of [`base_snapshot`]: linked rings, a timed IP, a hub (email, capped
/// at 2 accounts), a custom kind and accounts that link to nobody.
pub const BASE_ROWS: &[(&str, &str, &str, Option<i64>)] = &[
    ("ring-1", "device", "laptop-a", Some(1_700_000_000)),
    ("ring-2", "device", "LAPTOP-A", Some(1_700_000_100)),
    ("ring-2", "payment", "DE89 3704", None),
    ("ring-3", "payment", "de89-3704", None),
    ("ring-3", "ip", "192.0.2.7", Some(1_700_000_200)),
    ("ring-4", "ip", "192.0.2.7", Some(1_700_003_000)),
    ("ring-4", "wifi", "a4-2b-b0-12-34-56", Some(1_700_000_300)),
    ("cafe-1", "email", "shared@example.com", None),
    ("cafe-2", "email", "Shared@Example.com", Some(1_700_000_400)),
    ("cafe-3", "email", "shared@example.com", None),
    ("honest-1", "dob_name", "Bo 1990-01-02", None),
    ("honest-2", "phone", "+44 (0)20 7946 0958", None),
    ("honest-2", "address", "12, Main St.", None),
];

/// A small valid snapshot made from [`BASE_ROWS`], built once.
pub fn base_snapshot() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let policy = LinkPolicy::new().kind("email", KindPolicy::strong().max_accounts(2));
        let mut b = IndexBuilder::new().policy(policy);
        for &(account, kind, value, time) in BASE_ROWS {
            b.add(account, kind, value, time).expect("a base observation is valid");
        }
        let index = b.build().expect("the base index builds");
        snapshot::save(&index).expect("the base index saves")
    })
}

/// Target `snapshot_decode`: arbitrary bytes through [`snapshot::load`]; and, unless they start
/// with the magic label, also as mutations of [`base_snapshot`] (see [`mutate_base`]).
pub fn check_snapshot(data: &[u8]) {
    check_snapshot_bytes(data);
    if !data.starts_with(snapshot::MAGIC) {
        check_snapshot_bytes(&mutate_base(data));
    }
}

/// [`base_snapshot`] with `data` applied as 3-byte mutations (payload offset as `u16`
/// little-endian, wrapped to the payload length, then a byte to xor in), checksum resealed so
/// that the payload validators are reached.
pub fn mutate_base(data: &[u8]) -> Vec<u8> {
    const HEADER: usize = 32;
    let mut bytes = base_snapshot().to_vec();
    let payload = bytes.len() - HEADER;
    for m in data.chunks_exact(3) {
        let at = HEADER + usize::from(u16::from_le_bytes([m[0], m[1]])) % payload;
        bytes[at] ^= m[2];
    }
    reseal(&mut bytes);
    bytes
}

/// Rewrites the header checksum: FNV-1a 64 over `bytes[32..]`, little-endian at `bytes[24..32]`.
pub fn reseal(bytes: &mut [u8]) {
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
    let sum = snapshot::checksum(version, &bytes[32..]);
    bytes[24..32].copy_from_slice(&sum.to_le_bytes());
}

/// Loads; what loads saves, loads again with the same clustering, and re-saves to the same bytes;
/// it links as a fresh build from its own observations does (the same components and set-aside
/// artifacts, by name), and its operators nest inside those components, so no tampered derived
/// data that a load can check survives it.
fn check_snapshot_bytes(bytes: &[u8]) {
    let Ok(index) = snapshot::load(bytes) else { return };
    let saved = snapshot::save(&index).expect("a loaded index saves");
    let back = snapshot::load(&saved).expect("a saved index loads");
    assert_eq!(back.clustering(), index.clustering(), "clustering changed by save and load");
    assert_eq!(back.account_count(), index.account_count(), "accounts changed by save and load");
    assert_eq!(back.artifact_count(), index.artifact_count(), "artifacts changed by save and load");
    assert_eq!(snapshot::save(&back).expect("a reloaded index saves"), saved, "saving is canonical");

    // A kind with a custom normaliser (its closure is not in the file) holds values only that
    // closure makes: no build here can make them again.
    let kinds = index.kinds();
    if (0..kinds.len()).any(|k| {
        matches!(kinds.normalizer(sellerlink::KindId::must(k)), sellerlink::normalize::Normalizer::Custom(..))
    }) {
        return;
    }
    let mut b =
        IndexBuilder::new().policy(index.policy().clone()).operators(index.operator_settings().cloned());
    for f in (0..index.artifact_count() as u32).map(sellerlink::ArtifactId::from_u32) {
        let (kind, value) = (index.kind_name(index.artifact_kind(f)), index.artifact_value(f));
        for u in index.graph().uses(f) {
            let time = (u.time != sellerlink::graph::NO_TIME).then_some(u.time);
            b.add(index.account_name(u.account), kind, value, time)
                .expect("a loaded value is canonical, so a build takes it again");
        }
    }
    let fresh = b.build().expect("a loaded index's observations build");
    // Components and set-aside artifacts are recomputed on load, so they equal a fresh build's.
    // Operators are loaded (recomputing them would cost a Leiden run per component) and only
    // validated: a partition of the accounts that nests inside the components.
    let (loaded, fresh) = (meaning(&index), meaning(&fresh));
    assert_eq!((&loaded.0, &loaded.2), (&fresh.0, &fresh.2), "a loaded snapshot links as a fresh build does");
    if let Some(operators) = &loaded.1 {
        let accounts: usize = operators.iter().map(Vec::len).sum();
        assert_eq!(accounts, index.account_count(), "operators cover every account once");
        for op in operators {
            assert!(
                loaded.0.iter().any(|c| op.iter().all(|a| c.binary_search(a).is_ok())),
                "operator {op:?} lies inside one component"
            );
        }
    }
}

/// Components, operators (when solved) and set-aside artifacts, by name.
#[allow(clippy::type_complexity)]
fn meaning(
    index: &Index,
) -> (
    std::collections::BTreeSet<Vec<String>>,
    Option<std::collections::BTreeSet<Vec<String>>>,
    std::collections::BTreeSet<(String, String)>,
) {
    let named = |c: &sellerlink::cluster::Clustering| -> std::collections::BTreeSet<Vec<String>> {
        c.iter()
            .map(|(_, members)| {
                let mut names: Vec<String> =
                    members.iter().map(|&a| index.account_name(a).to_string()).collect();
                names.sort();
                names
            })
            .collect()
    };
    let hubs = index
        .hubs()
        .map(|h| (index.kind_name(h.kind).to_string(), index.artifact_value(h.artifact).to_string()))
        .collect();
    (named(index.components()), index.operators().map(|o| named(o.clustering())), hubs)
}

/// The policy of [`check_update`]: small caps (so hubs come and go), windows, an evidence
/// group, automatic caps for payments (so caps move), and overrides.
pub fn update_policy() -> LinkPolicy {
    LinkPolicy::new()
        .kind("device", KindPolicy::strong().max_accounts(4))
        .kind("payment", KindPolicy::strong().hub_cap(sellerlink::policy::HubCap::Auto).window_secs(20))
        .kind("wifi", KindPolicy::weak().max_accounts(5).group("net"))
        .kind("ip", KindPolicy::weak().max_accounts(5).window_secs(10).group("net"))
        .kind("address", KindPolicy::weak().max_accounts(3))
        .custom_kinds(KindPolicy::weak().max_accounts(4))
        .must_link("s1", "s9")
        .cannot_link("s2", "s3")
        .legitimate("wifi", "a4:2b:b0:00:00:01")
}

/// One fuzzed observation: account, kind, value, time.
type UpdateObs = (String, &'static str, String, Option<i64>);

/// Target `update`: bytes as a program of batches, removals, expiry and snapshot round trips,
/// run as a build followed by updates; after every update the index must partition the accounts
/// (components and operators) exactly as one build from the surviving observations, and every change set must
/// count no more re-linked accounts than there are.
///
/// Each 3-byte instruction `[op, x, y]`: `op % 8` below 5 adds an observation (account
/// `x % 16`, kind `op`·`x` among six, value `y % 8`, time `y` unless `op & 8`), 5 ends the batch
/// (an update), 6 removes account `x % 16` in the next update, 7 expires before `y` in the next
/// update; `op & 0x80` with 5 also saves and reloads the index through a snapshot. Removals
/// and expiry given before the first batch ends wait for the first update.
pub fn check_update(data: &[u8]) {
    const KINDS: [&str; 6] = ["device", "payment", "wifi", "ip", "address", "shop_tax_id"];
    let policy = update_policy();
    let mut live: Vec<UpdateObs> = Vec::new();
    let mut batch: Vec<UpdateObs> = Vec::new();
    let (mut removals, mut expiry): (Vec<String>, Option<i64>) = (Vec::new(), None);
    let mut index: Option<Index> = None;
    let finish = |index: &mut Option<Index>,
                  batch: &mut Vec<UpdateObs>,
                  removals: &mut Vec<String>,
                  expiry: &mut Option<i64>,
                  live: &mut Vec<UpdateObs>| {
        let next = match index.take() {
            None => {
                let mut b = IndexBuilder::new().policy(policy.clone());
                for (a, k, v, t) in batch.iter() {
                    b.add(a, k, v, *t).expect("a generated observation is valid");
                }
                live.append(batch);
                b.build().expect("a small index builds")
            }
            Some(old) => {
                let mut u = old.updater();
                for (a, k, v, t) in batch.iter() {
                    u.add(a, k, v, *t).expect("a generated observation is valid");
                }
                // Removal takes accounts the old index has, with all their observations.
                let gone: Vec<String> = removals.drain(..).filter(|r| u.remove_account(r)).collect();
                live.append(batch);
                live.retain(|o| !gone.contains(&o.0));
                if let Some(c) = expiry.take() {
                    u.expire_before(c);
                    live.retain(|o| !matches!(o.3, Some(t) if t < c));
                }
                let (next, changes) = u.finish().expect("a small update finishes");
                assert!(changes.relinked_accounts <= next.account_count(), "{changes:?}");
                next
            }
        };
        *index = Some(next);
    };
    let mut step = 0;
    for ins in data.chunks_exact(3) {
        let (op, x, y) = (ins[0], ins[1], ins[2]);
        match op % 8 {
            0..=4 => {
                let kind = KINDS[(usize::from(op % 8) + usize::from(x / 16)) % KINDS.len()];
                let value = match kind {
                    "wifi" => format!("a4:2b:b0:00:00:{:02x}", y % 8),
                    "ip" => format!("10.0.0.{}", y % 8),
                    _ => format!("v{}", y % 8),
                };
                let time = (op & 8 == 0).then_some(i64::from(y));
                batch.push((format!("s{}", x % 16), kind, value, time));
            }
            5 => {
                finish(&mut index, &mut batch, &mut removals, &mut expiry, &mut live);
                if op & 0x80 != 0 {
                    if let Some(i) = index.take() {
                        let bytes = snapshot::save(&i).expect("an index saves");
                        index = Some(snapshot::load(&bytes).expect("a saved index loads"));
                    }
                }
                if let Some(index) = &index {
                    assert_same_as_one_build(index, &live, &policy, &format!("after update {step}"));
                }
                step += 1;
            }
            6 => removals.push(format!("s{}", x % 16)),
            _ => expiry = Some(expiry.map_or(i64::from(y), |c| c.max(i64::from(y)))),
        }
    }
    finish(&mut index, &mut batch, &mut removals, &mut expiry, &mut live);
    if let Some(index) = &index {
        assert_same_as_one_build(index, &live, &policy, "at the end");
    }
}

/// Checks `index` against one build of `live`: the same accounts, components and operators.
fn assert_same_as_one_build(index: &Index, live: &[UpdateObs], policy: &LinkPolicy, when: &str) {
    // The index's policy carries what the first build learned: one build with it pinned is
    // what a chain of updates must equal.
    let pinned = policy.clone().with_learned(index.policy().learned().cloned());
    let mut b = IndexBuilder::new().policy(pinned);
    for (a, k, v, t) in live {
        b.add(a, k, v, *t).expect("a generated observation is valid");
    }
    let fresh = b.build().expect("a small index builds");
    assert_eq!(index.account_count(), fresh.account_count(), "accounts {when}: updates vs one build");
    for level in [sellerlink::Level::Components, sellerlink::Level::Operators] {
        assert_eq!(
            named_partition(index, level),
            named_partition(&fresh, level),
            "{level:?} {when}: updates vs one build"
        );
    }
}

/// A clustering as sorted lists of account names.
fn named_partition(index: &Index, level: sellerlink::Level) -> Vec<Vec<String>> {
    let c = index.clustering_at(level);
    let mut out: Vec<Vec<String>> = (0..c.len())
        .map(|k| {
            let mut names: Vec<String> = c
                .members(sellerlink::ClusterId::must(k))
                .iter()
                .map(|&a| index.account_name(a).to_string())
                .collect();
            names.sort();
            names
        })
        .collect();
    out.sort();
    out
}

/// Replays every file of `fuzz/seeds/<target>/` and `tests/fuzz/<target>/` through `check`,
/// naming each file that fails; returns how many files were replayed.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.join("fuzz/seeds").join(target), root.join("tests/fuzz").join(target)] {
        // A target without minimized crashes has no `tests/fuzz/<target>/`.
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.map(|e| e.path()).expect("a readable directory entry"))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        files.extend(paths);
    }
    let mut failed = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: {} input(s) fail (panics above): {failed:#?}", failed.len());
    files.len()
}

#[test]
fn csv_ingest_corpus_replays() {
    assert!(replay("csv_ingest", check_csv) > 0, "no csv_ingest inputs: fuzz/seeds/csv_ingest/ is empty");
}

#[test]
fn normalize_corpus_replays() {
    assert!(replay("normalize", check_normalize) > 0, "no normalize inputs: fuzz/seeds/normalize/ is empty");
}

#[test]
fn snapshot_decode_corpus_replays() {
    assert!(
        replay("snapshot_decode", check_snapshot) > 0,
        "no snapshot_decode inputs: fuzz/seeds/snapshot_decode/ is empty"
    );
}

#[test]
fn update_corpus_replays() {
    assert!(replay("update", check_update) > 0, "no update inputs: fuzz/seeds/update/ is empty");
}

#[test]
fn base_snapshot_loads_and_mutations_reach_the_payload() {
    let base = base_snapshot();
    let index = snapshot::load(base).expect("the base snapshot loads");
    assert_eq!(index.account_count(), 9);
    assert_eq!(index.hub_count(), 1);
    // No mutation: the base itself, resealed to the same checksum.
    assert_eq!(mutate_base(&[]), base);
    // A flipped payload byte passes the checksum and is judged by the payload validators.
    let flipped = mutate_base(&[0, 0, 0xff]);
    assert!(!matches!(snapshot::load(&flipped), Err(snapshot::SnapshotError::Checksum)));
}
