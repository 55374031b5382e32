//! The synthetic marketplace: determinism, ground truth, and that every trap is really there.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use sellerlink_synth::{
    CUSTOM_KIND, Hostile, KINDS, Marketplace, PERIOD_SECONDS, PERIOD_START, Record, Role, write_csv,
};

/// The 20 000-account market (seed 7, traps on) shared by the trap tests.
fn market() -> &'static [Record] {
    static MARKET: OnceLock<Vec<Record>> = OnceLock::new();
    MARKET.get_or_init(|| Marketplace::new().accounts(20_000).seed(7).records().collect())
}

/// The same market, hostile.
fn hostile_market() -> &'static [Record] {
    static MARKET: OnceLock<Vec<Record>> = OnceLock::new();
    MARKET.get_or_init(|| Marketplace::new().accounts(20_000).seed(7).hostile(true).records().collect())
}

/// The same market without traps.
fn plain_market() -> &'static [Record] {
    static MARKET: OnceLock<Vec<Record>> = OnceLock::new();
    MARKET.get_or_init(|| Marketplace::new().accounts(20_000).seed(7).traps(false).records().collect())
}

// --- normalisation, as a linker would do it ---------------------------------------------------

fn hex_only(v: &str) -> String {
    v.chars().filter(char::is_ascii_hexdigit).map(|c| c.to_ascii_lowercase()).collect()
}

fn norm_ip(v: &str) -> IpAddr {
    let ip: IpAddr = v.trim().parse().expect("every ip value parses");
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn normalize(kind: &str, value: &str) -> String {
    match kind {
        "wifi" => hex_only(value),
        "ip" => norm_ip(value).to_string(),
        "phone" => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            match digits.strip_prefix("00") {
                Some(rest) => format!("+{rest}"),
                None => format!("+{digits}"),
            }
        }
        "email" => value.trim().to_lowercase(),
        "id_document" | "payment" => value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        "address" => {
            value.replace([',', '.'], " ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
        }
        _ => value.to_owned(),
    }
}

/// Normalised `(kind, value)` → the operators that used it.
fn operators_by_value(records: &[Record]) -> HashMap<(&'static str, String), BTreeSet<u64>> {
    let mut out: HashMap<_, BTreeSet<u64>> = HashMap::new();
    for r in records {
        out.entry((r.kind, normalize(r.kind, &r.value))).or_default().insert(r.operator);
    }
    out
}

/// Normalised `(kind, value)` → the accounts that used it.
fn accounts_by_value(records: &[Record]) -> HashMap<(&'static str, String), BTreeSet<&str>> {
    let mut out: HashMap<_, BTreeSet<&str>> = HashMap::new();
    for r in records {
        out.entry((r.kind, normalize(r.kind, &r.value))).or_default().insert(&r.account);
    }
    out
}

fn roles(records: &[Record]) -> HashMap<u64, Role> {
    records.iter().map(|r| (r.operator, r.role)).collect()
}

fn accounts_of(records: &[Record]) -> HashMap<u64, BTreeSet<&str>> {
    let mut out: HashMap<u64, BTreeSet<&str>> = HashMap::new();
    for r in records {
        out.entry(r.operator).or_default().insert(&r.account);
    }
    out
}

fn civilian(role: Role) -> bool {
    matches!(role, Role::Honest | Role::Merchant)
}

// --- determinism and shape ---------------------------------------------------------------------

#[test]
fn same_seed_gives_identical_records() {
    let m = Marketplace::new().accounts(3_000).seed(11);
    let a: Vec<Record> = m.records().collect();
    let b: Vec<Record> = m.clone().records().collect();
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn different_seeds_differ() {
    let a: Vec<Record> = Marketplace::new().accounts(500).seed(1).records().collect();
    let b: Vec<Record> = Marketplace::new().accounts(500).seed(2).records().collect();
    assert_ne!(a, b);
    let names = |rs: &[Record]| rs.iter().map(|r| r.account.clone()).collect::<HashSet<_>>();
    assert!(names(&a).intersection(&names(&b)).count() < 50);
}

#[test]
fn every_kind_appears() {
    let kinds: HashSet<&str> = market().iter().map(|r| r.kind).collect();
    for kind in KINDS {
        assert!(kinds.contains(kind), "kind {kind} never observed");
    }
    assert!(kinds.contains(CUSTOM_KIND));
    assert_eq!(kinds.len(), KINDS.len() + 1);
}

#[test]
fn about_five_observations_per_account() {
    let accounts: HashSet<&str> = market().iter().map(|r| r.account.as_str()).collect();
    assert_eq!(accounts.len(), 20_000);
    let per_account = market().len() as f64 / accounts.len() as f64;
    assert!((4.5..6.5).contains(&per_account), "{per_account}");
}

#[test]
fn truth_has_one_row_per_account() -> Result<(), Box<dyn std::error::Error>> {
    let (mut obs, mut truth) = (Vec::new(), Vec::new());
    let records = Marketplace::new().accounts(2_500).seed(3).records();
    let stats = write_csv(records, &mut obs, &mut truth)?;
    assert_eq!(stats.accounts, 2_500);

    let mut reader = csv::Reader::from_reader(truth.as_slice());
    assert_eq!(reader.headers()?, vec!["account", "operator", "role"]);
    let mut truth_accounts = HashMap::new();
    let mut operators = HashSet::new();
    for row in reader.records() {
        let row = row?;
        let operator: u64 = row[1].parse()?;
        assert!(["honest", "merchant", "ring", "evasive_ring"].contains(&&row[2]));
        assert!(truth_accounts.insert(row[0].to_owned(), operator).is_none());
        operators.insert(operator);
    }
    assert_eq!(truth_accounts.len(), 2_500);
    assert_eq!(operators.len() as u64, stats.operators);

    // Every observation belongs to a truth account, and the values survive the CSV round trip.
    let expected: Vec<Record> = Marketplace::new().accounts(2_500).seed(3).records().collect();
    let mut reader = csv::Reader::from_reader(obs.as_slice());
    assert_eq!(reader.headers()?, vec!["account", "kind", "value", "timestamp"]);
    let mut rows = 0;
    for (row, want) in reader.records().zip(&expected) {
        let row = row?;
        assert_eq!(truth_accounts.get(&row[0]), Some(&want.operator));
        assert_eq!((&row[1], &row[2]), (want.kind, want.value.as_str()));
        let ts = (!row[3].is_empty()).then(|| row[3].parse::<i64>()).transpose()?;
        assert_eq!(ts, want.timestamp);
        rows += 1;
    }
    assert_eq!(rows, expected.len());
    assert_eq!(stats.observations, expected.len() as u64);
    Ok(())
}

#[test]
fn records_of_an_account_are_consecutive_with_one_operator() {
    let mut finished = HashSet::new();
    let mut current: Option<(&str, u64, Role)> = None;
    let mut operator_role = HashMap::new();
    for r in market() {
        match current {
            Some((a, op, role)) if a == r.account => assert_eq!((op, role), (r.operator, r.role)),
            _ => {
                if let Some((a, ..)) = current {
                    finished.insert(a);
                }
                assert!(!finished.contains(r.account.as_str()), "{} split", r.account);
                current = Some((&r.account, r.operator, r.role));
            }
        }
        assert_eq!(*operator_role.entry(r.operator).or_insert(r.role), r.role);
    }
}

#[test]
fn timestamps_lie_in_the_period_and_sessions_have_them() {
    for r in market() {
        if let Some(t) = r.timestamp {
            assert!((PERIOD_START..PERIOD_START + PERIOD_SECONDS).contains(&t), "{r:?}");
        }
        if matches!(r.kind, "device" | "wifi" | "ip") {
            assert!(r.timestamp.is_some(), "{r:?}");
        }
    }
}

#[test]
fn ring_share_is_respected() {
    let rings = market().iter().filter(|r| r.role.is_ring());
    let ring_accounts: HashSet<&str> = rings.map(|r| r.account.as_str()).collect();
    let share = ring_accounts.len() as f64 / 20_000.0;
    assert!((0.08..0.25).contains(&share), "{share}");

    let none = Marketplace::new().accounts(2_000).ring_share(0.0);
    assert!(none.records().all(|r| !r.role.is_ring()));
    let all: Vec<Record> = Marketplace::new().accounts(2_000).ring_share(1.0).records().collect();
    assert!(all.iter().filter(|r| r.role.is_ring()).count() * 10 > all.len() * 9);
}

#[test]
fn heavy_tailed_rings_include_one_of_fifty_or_more() {
    let roles = roles(market());
    let sizes: Vec<usize> = accounts_of(market())
        .into_iter()
        .filter(|(op, _)| roles[op].is_ring())
        .map(|(_, accounts)| accounts.len())
        .collect();
    assert!(sizes.iter().all(|&s| (3..=150).contains(&s)));
    assert!(sizes.iter().any(|&s| s >= 50), "largest ring {:?}", sizes.iter().max());
    let small = sizes.iter().filter(|&&s| s <= 5).count();
    assert!(small * 2 > sizes.len(), "most rings are small");
}

#[test]
fn every_ring_is_connected_by_its_own_artifacts() {
    // Union the stores of each ring through normalised values they share.
    let records = market();
    let by_value = operators_by_value(records);
    let mut stores: HashMap<(&str, String), Vec<&str>> = HashMap::new();
    for r in records.iter().filter(|r| r.role.is_ring()) {
        let key = (r.kind, normalize(r.kind, &r.value));
        if by_value[&key].len() == 1 {
            stores.entry(key).or_default().push(&r.account);
        }
    }
    let mut parent: HashMap<&str, &str> = HashMap::new();
    fn find<'a>(parent: &mut HashMap<&'a str, &'a str>, x: &'a str) -> &'a str {
        let p = *parent.entry(x).or_insert(x);
        if p == x {
            return x;
        }
        let root = find(parent, p);
        parent.insert(x, root);
        root
    }
    for group in stores.values() {
        for pair in group.windows(2) {
            let (a, b) = (find(&mut parent, pair[0]), find(&mut parent, pair[1]));
            parent.insert(a, b);
        }
    }
    let roles = roles(records);
    for (op, accounts) in accounts_of(records) {
        if !roles[&op].is_ring() {
            continue;
        }
        let roots: HashSet<&str> = accounts.iter().map(|a| find(&mut parent, a)).collect();
        assert_eq!(roots.len(), 1, "ring {op} ({} stores) is split", accounts.len());
    }
}

// --- hubs --------------------------------------------------------------------------------------

#[test]
fn public_wifi_links_twenty_or_more_operators() {
    let by_value = operators_by_value(market());
    let biggest = by_value.iter().filter(|((kind, _), _)| *kind == "wifi").map(|(_, ops)| ops.len()).max();
    assert!(biggest.is_some_and(|n| (20..=300).contains(&n)), "{biggest:?}");
}

#[test]
fn carrier_nat_ip_links_hundreds() {
    let by_value = operators_by_value(market());
    let hubs = by_value.iter().filter(|((kind, _), ops)| *kind == "ip" && ops.len() >= 100).count();
    assert!(hubs >= 3, "{hubs}");
}

#[test]
fn fulfilment_centre_address_links_hundreds_of_honest_sellers() {
    let by_value = operators_by_value(market());
    let roles = roles(market());
    let fc = by_value
        .iter()
        .filter(|((kind, _), _)| *kind == "address")
        .map(|(_, ops)| ops.iter().filter(|op| civilian(roles[op])).count())
        .max();
    assert!(fc.is_some_and(|n| n >= 300), "{fc:?}");
}

#[test]
fn recycled_ip_joins_two_households_weeks_apart() {
    let roles = roles(market());
    let mut uses: HashMap<IpAddr, HashMap<u64, Vec<i64>>> = HashMap::new();
    for r in market().iter().filter(|r| r.kind == "ip") {
        let t = r.timestamp.expect("ip observations are timed");
        uses.entry(norm_ip(&r.value)).or_default().entry(r.operator).or_default().push(t);
    }
    let recycled = uses
        .values()
        .filter(|ops| ops.len() == 2 && ops.keys().all(|op| civilian(roles[op])))
        .filter(|ops| {
            let mut spans: Vec<(i64, i64)> = ops
                .values()
                .map(|ts| (ts.iter().copied().min().unwrap_or(0), ts.iter().copied().max().unwrap_or(0)))
                .collect();
            spans.sort_unstable();
            spans[1].0 - spans[0].1 >= 14 * 86_400
        })
        .count();
    assert!(recycled >= 100, "{recycled}");
}

// --- traps -------------------------------------------------------------------------------------

#[test]
fn a_document_is_sold_to_exactly_two_rings() {
    let roles = roles(market());
    let sold = operators_by_value(market())
        .into_iter()
        .filter(|((kind, _), ops)| {
            *kind == "id_document" && ops.len() == 2 && ops.iter().all(|op| roles[op].is_ring())
        })
        .count();
    assert!(sold >= 10, "{sold}");
}

#[test]
fn router_macs_are_written_in_several_forms() {
    let mut forms: HashMap<String, HashSet<&str>> = HashMap::new();
    for r in market().iter().filter(|r| r.kind == "wifi") {
        forms.entry(hex_only(&r.value)).or_default().insert(&r.value);
    }
    let most = forms.values().map(HashSet::len).max().unwrap_or(0);
    assert!(most >= 2, "{most}");
    assert!(forms.keys().all(|mac| mac.len() == 12));
    let all: HashSet<&str> = market().iter().filter(|r| r.kind == "wifi").map(|r| r.value.as_str()).collect();
    let has = |f: fn(&str) -> bool| all.iter().any(|v| f(v));
    assert!(has(|v| v.len() == 17 && v.contains('-')));
    assert!(has(|v| v.len() == 17 && v.contains(':') && v == v.to_lowercase()));
    assert!(has(|v| v.len() == 12));
}

#[test]
fn identifiers_appear_in_common_textual_forms() {
    let values = |kind: &str| -> Vec<&str> {
        market().iter().filter(|r| r.kind == kind).map(|r| r.value.as_str()).collect()
    };
    let phones = values("phone");
    assert!(phones.iter().any(|p| p.starts_with("+86 ")));
    assert!(phones.iter().any(|p| p.starts_with("0086")));
    assert!(phones.iter().any(|p| p.starts_with("+86-")));
    let emails = values("email");
    assert!(emails.iter().any(|e| e.starts_with(' ') || e.ends_with(' ')));
    assert!(emails.iter().any(|e| e.chars().any(|c| c.is_ascii_uppercase())));
    let ips = values("ip");
    assert!(ips.iter().any(|ip| ip.starts_with("::ffff:")));
    assert!(ips.iter().any(|ip| ip.contains(':') && !ip.starts_with("::ffff:")));
    let docs = values("id_document");
    assert!(docs.iter().any(|d| d.contains(' ')) && docs.iter().any(|d| d.contains('-')));
    let addresses = values("address");
    assert!(addresses.iter().any(|a| a.chars().all(|c| !c.is_ascii_lowercase())));
    assert!(addresses.iter().any(|a| a.contains("  ")));
}

#[test]
fn noise_never_changes_what_a_value_denotes() {
    for r in market() {
        let v = normalize(r.kind, &r.value);
        match r.kind {
            "wifi" => assert_eq!(v.len(), 12, "{r:?}"),
            "phone" => assert!((12..=14).contains(&v.len()), "{r:?}"),
            "email" => assert_eq!(v.matches('@').count(), 1, "{r:?}"),
            "payment" => assert!(valid_payment(&v), "{r:?}"),
            "id_document" => assert!(valid_document(&v), "{r:?}"),
            "device" => assert_eq!(r.value.len(), 32, "{r:?}"),
            _ => {}
        }
    }
    // Traps off: the same normalisation is the identity on every value.
    for r in plain_market() {
        if r.kind != "address" {
            let canonical = match r.kind {
                "wifi" => {
                    let h = hex_only(&r.value);
                    (0..6).map(|i| &h[2 * i..2 * i + 2]).collect::<Vec<_>>().join(":")
                }
                kind => normalize(kind, &r.value),
            };
            assert_eq!(canonical, r.value, "{r:?}");
        }
    }
}

fn valid_payment(v: &str) -> bool {
    if let Some(rest) = v.strip_prefix("DE") {
        // IBAN mod 97: move "DE" + check digits to the end; D = 13, E = 14.
        let moved = format!("{}1314{}", &rest[2..], &rest[..2]);
        moved.bytes().fold(0u32, |m, b| (m * 10 + u32::from(b - b'0')) % 97) == 1
    } else {
        let sum: u32 = v
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
            })
            .sum();
        v.len() == 16 && sum % 10 == 0
    }
}

fn valid_document(v: &str) -> bool {
    if v.starts_with('E') {
        return v.len() == 9;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = v.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
    v.len() == 18 && v.as_bytes()[17] == b"10X98765432"[(sum % 11) as usize]
}

#[test]
fn factory_default_fingerprints_collide_across_hundreds_of_honest_stores() {
    let roles = roles(market());
    let by_value = operators_by_value(market());
    let default = by_value
        .iter()
        .filter(|((kind, _), ops)| *kind == "device" && ops.len() >= 100)
        .map(|(_, ops)| ops)
        .next();
    assert!(default.is_some_and(|ops| ops.iter().all(|op| civilian(roles[op]))));
    // Without traps no device is shared by strangers.
    let plain = operators_by_value(plain_market());
    assert!(plain.iter().all(|((kind, _), ops)| *kind != "device" || ops.len() == 1));
}

#[test]
fn internet_cafe_laptops_are_shared_by_several_strangers() {
    let by_value = operators_by_value(market());
    let cafe =
        by_value.iter().filter(|((kind, _), ops)| *kind == "device" && (3..100).contains(&ops.len())).count();
    assert!(cafe >= 3, "{cafe}");
}

#[test]
fn vpn_exits_carry_many_strangers_at_the_same_time() {
    let crowded = |plain: bool| {
        let records = if plain { plain_market() } else { market() };
        let mut uses: HashMap<IpAddr, Vec<(i64, u64)>> = HashMap::new();
        for r in records.iter().filter(|r| r.kind == "ip") {
            uses.entry(norm_ip(&r.value)).or_default().push((r.timestamp.unwrap_or(0), r.operator));
        }
        uses.values_mut()
            .map(|v| {
                v.sort_unstable();
                // Most distinct operators within any 15-minute window.
                (0..v.len())
                    .map(|i| {
                        v[i..]
                            .iter()
                            .take_while(|(t, _)| t - v[i].0 <= 900)
                            .map(|&(_, op)| op)
                            .collect::<HashSet<_>>()
                            .len()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    };
    assert!(crowded(false) >= 5, "{}", crowded(false));
    assert!(crowded(false) > crowded(true));
}

#[test]
fn two_seller_households_share_a_router() {
    let roles = roles(market());
    let households = operators_by_value(market())
        .into_iter()
        .filter(|((kind, _), ops)| {
            *kind == "wifi" && ops.len() == 2 && ops.iter().all(|op| civilian(roles[op]))
        })
        .count();
    assert!(households >= 10, "{households}");
    let plain_roles = self::roles(plain_market());
    let plain = operators_by_value(plain_market())
        .into_iter()
        .filter(|((kind, _), ops)| {
            *kind == "wifi" && ops.len() == 2 && ops.iter().all(|op| civilian(plain_roles[op]))
        })
        .count();
    assert!(plain < households);
}

#[test]
fn evasive_rings_share_no_device_document_or_phone() {
    let records = market();
    let roles = roles(records);
    let evasive: HashSet<u64> =
        roles.iter().filter(|(_, role)| **role == Role::EvasiveRing).map(|(&op, _)| op).collect();
    assert!(!evasive.is_empty());
    let mut stores: HashMap<(&str, String), HashSet<&str>> = HashMap::new();
    for r in records.iter().filter(|r| evasive.contains(&r.operator)) {
        if matches!(r.kind, "device" | "phone" | "id_document") {
            stores.entry((r.kind, normalize(r.kind, &r.value))).or_default().insert(&r.account);
        }
    }
    let by_value = operators_by_value(records);
    for ((kind, value), accounts) in &stores {
        // The one exception is a document sold to a second ring: one store in each.
        let ops = &by_value[&(*kind, value.clone())];
        assert!(accounts.len() == 1 || ops.len() == 2, "{kind} {value}: {accounts:?}");
    }
    let plain = Marketplace::new().accounts(3_000).traps(false);
    assert!(plain.records().all(|r| r.role != Role::EvasiveRing));
}

#[test]
fn two_hundred_thousand_accounts_stream() {
    let mut accounts = 0u64;
    let mut observations = 0u64;
    let mut last = String::new();
    for r in Marketplace::new().accounts(200_000).seed(5).records() {
        observations += 1;
        if r.account != last {
            accounts += 1;
            last = r.account;
        }
    }
    assert_eq!(accounts, 200_000);
    assert!(observations > 4 * accounts && observations < 7 * accounts);
}

#[test]
fn tiny_and_empty_markets() {
    assert_eq!(Marketplace::new().accounts(0).records().count(), 0);
    let one: Vec<Record> = Marketplace::new().accounts(1).records().collect();
    assert!(!one.is_empty() && one.iter().all(|r| r.account == one[0].account));
    let stats = write_csv(Marketplace::new().accounts(0).records(), Vec::new(), Vec::new())
        .expect("in-memory writes succeed");
    assert_eq!((stats.accounts, stats.observations, stats.operators), (0, 0, 0));
}

#[test]
fn shipped_sample_is_what_the_generator_writes() -> Result<(), Box<dyn std::error::Error>> {
    // Regenerate with:
    // cargo run --release --example generate -- --accounts 3000 --seed 3 \
    //     --output data/sample.csv --truth data/sample_truth.csv
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let (mut obs, mut truth) = (Vec::new(), Vec::new());
    let records = Marketplace::new().accounts(3_000).seed(3).records();
    let stats = write_csv(records, &mut obs, &mut truth)?;
    assert!(std::fs::read(dir.join("sample.csv"))? == obs, "data/sample.csv is stale");
    assert!(std::fs::read(dir.join("sample_truth.csv"))? == truth, "data/sample_truth.csv is stale");
    assert!(stats.rings >= 20 && stats.evasive_rings >= 5);
    assert!(obs.len() + truth.len() < 2 << 20);
    Ok(())
}

// --- the hostile market ------------------------------------------------------------------------

/// Default hub caps of the linker, per kind.
fn cap(kind: &str) -> usize {
    match kind {
        "device" | "address" => 30,
        "wifi" | "ip" => 40,
        "id_document" | "phone" => 25,
        "email" => 10,
        "payment" => 250,
        _ => 50,
    }
}

/// Values of `kind` used by at least `min_ops` operators and at most the kind's cap in accounts.
fn sub_cap_shared<'a>(
    records: &'a [Record],
    kind: &str,
    min_ops: usize,
) -> Vec<((&'static str, String), BTreeSet<&'a str>)> {
    let ops = operators_by_value(records);
    accounts_by_value(records)
        .into_iter()
        .filter(|((k, v), accounts)| {
            *k == kind && accounts.len() <= cap(kind) && ops[&(*k, v.clone())].len() >= min_ops
        })
        .collect()
}

#[test]
fn hostile_off_is_the_default_market() {
    let m = Marketplace::new().accounts(3_000).seed(3);
    assert_eq!(m.hostile, None);
    let plain: Vec<Record> = m.clone().records().collect();
    assert_eq!(plain, m.clone().hostile(false).records().collect::<Vec<_>>());
    // Hostile, the market has the same accounts and operators, and is deterministic too.
    let hostile: Vec<Record> = m.clone().hostile(true).records().collect();
    assert_eq!(hostile, m.hostility(Hostile::default()).records().collect::<Vec<_>>());
    let owners = |rs: &[Record]| {
        rs.iter().map(|r| (r.account.clone(), r.operator, r.role.as_str())).collect::<BTreeSet<_>>()
    };
    assert_eq!(owners(&plain), owners(&hostile));
    assert!(hostile.len() > plain.len());
}

#[test]
fn internet_cafe_pcs_are_shared_by_ten_to_thirty_strangers() {
    let records = hostile_market();
    let roles = roles(records);
    let ops = operators_by_value(records);
    let pcs = sub_cap_shared(records, "device", 10);
    // ≈ 20 000 · 1.5 % / 20 = 15 PCs.
    assert!(pcs.len() >= 10, "{}", pcs.len());
    for (key, accounts) in &pcs {
        assert!((10..=30).contains(&accounts.len()), "{key:?}: {}", accounts.len());
        assert!(ops[key].iter().filter(|op| civilian(roles[op])).count() >= 5, "{key:?}");
    }
    // The default market's café laptops rarely reach ten strangers.
    assert!(sub_cap_shared(market(), "device", 10).len() * 5 < pcs.len());
    // No hostile device sits just above the cap: shared devices are clubs or default hubs.
    let near_cap = accounts_by_value(records)
        .into_iter()
        .filter(|((k, _), a)| *k == "device" && (31..100).contains(&a.len()))
        .count();
    assert_eq!(near_cap, 0);
}

#[test]
fn coworking_spaces_share_router_and_address_among_strangers() {
    let records = hostile_market();
    let accounts = accounts_by_value(records);
    let addresses: Vec<&BTreeSet<&str>> =
        accounts.iter().filter(|((k, _), _)| *k == "address").map(|(_, a)| a).collect();
    let spaces = sub_cap_shared(records, "wifi", 10)
        .into_iter()
        .filter(|(_, members)| {
            // Most members' router and some of them register the space's address.
            addresses.iter().any(|a| a.len() <= 30 && a.intersection(members).count() >= 5)
        })
        .count();
    // ≈ 20 000 · 2 % / 20 = 20 spaces.
    assert!(spaces >= 10, "{spaces}");
    assert_eq!(
        sub_cap_shared(market(), "wifi", 10)
            .into_iter()
            .filter(|(_, m)| addresses.iter().any(|a| a.intersection(m).count() >= 5))
            .count(),
        0
    );
}

#[test]
fn mail_drops_are_shared_by_ten_to_thirty_strangers() {
    let records = hostile_market();
    let drops = sub_cap_shared(records, "address", 10);
    // ≈ 40 mail drops, plus co-working addresses.
    assert!(drops.len() >= 30, "{}", drops.len());
    assert!(drops.iter().all(|(_, a)| a.len() <= 30));
    assert!(sub_cap_shared(market(), "address", 10).is_empty());
}

#[test]
fn sms_activation_numbers_are_shared_by_strangers_below_the_phone_cap() {
    let records = hostile_market();
    let numbers = sub_cap_shared(records, "phone", 8);
    assert!(numbers.len() >= 3, "{}", numbers.len());
    assert!(numbers.iter().all(|(_, a)| (8..=25).contains(&a.len())));
    assert!(sub_cap_shared(market(), "phone", 8).is_empty());
}

#[test]
fn brokers_sell_one_document_to_several_rings() {
    let spans = |records: &[Record], kind: &str, min: usize| {
        let roles = roles(records);
        operators_by_value(records)
            .into_iter()
            .filter(|((k, _), ops)| {
                *k == kind && ops.len() >= min && ops.iter().all(|op| roles[op].is_ring())
            })
            .count()
    };
    let records = hostile_market();
    let two = spans(records, "id_document", 2);
    let three = spans(records, "id_document", 3);
    assert!(three >= 10 && two >= three + 20, "{two} {three}");
    // Both kinds of ring buy, and the SIM sold with the document links the rings too.
    let roles = roles(records);
    let evasive_buyers = operators_by_value(records)
        .into_iter()
        .filter(|((k, _), ops)| *k == "id_document" && ops.len() >= 2)
        .flat_map(|(_, ops)| ops)
        .filter(|op| roles[op] == Role::EvasiveRing)
        .count();
    assert!(evasive_buyers >= 5, "{evasive_buyers}");
    assert!(spans(records, "phone", 2) >= 10);
    // Sold documents stay below the id_document cap, so the default linker links their buyers.
    let accounts = accounts_by_value(records);
    let over_cap = operators_by_value(records)
        .into_iter()
        .filter(|(key, ops)| key.0 == "id_document" && ops.len() >= 2 && accounts[key].len() > 25)
        .count();
    assert_eq!(over_cap, 0);
    // The default market sells a document to two rings at most.
    assert_eq!(spans(market(), "id_document", 3), 0);
}

#[test]
fn households_share_router_ip_leases_and_family_pc() {
    let records = hostile_market();
    let roles = roles(records);
    // Routers of a household: two to four honest operators, nobody else.
    let routers: Vec<BTreeSet<u64>> = operators_by_value(records)
        .into_iter()
        .filter(|((k, _), ops)| *k == "wifi" && (2..=4).contains(&ops.len()))
        .filter(|(_, ops)| ops.iter().all(|op| civilian(roles[op])))
        .map(|(_, ops)| ops)
        .collect();
    assert!(routers.iter().filter(|ops| ops.len() >= 3).count() >= 50, "{}", routers.len());
    // The household's IP is used by two of its members within the same day.
    let mut ip_uses: HashMap<IpAddr, Vec<(i64, u64)>> = HashMap::new();
    for r in records.iter().filter(|r| r.kind == "ip") {
        ip_uses.entry(norm_ip(&r.value)).or_default().push((r.timestamp.unwrap_or(0), r.operator));
    }
    let same_day = ip_uses
        .values()
        .filter(|uses| {
            let ops: BTreeSet<u64> = uses.iter().map(|u| u.1).collect();
            routers.contains(&ops)
                && uses.iter().any(|a| uses.iter().any(|b| a.1 != b.1 && (a.0 - b.0).abs() <= 86_400))
        })
        .count();
    assert!(same_day >= 30, "{same_day}");
    // The family PC: one device of two to four honest operators.
    let family_pcs = operators_by_value(records)
        .into_iter()
        .filter(|((k, _), ops)| *k == "device" && (2..=4).contains(&ops.len()))
        .filter(|(_, ops)| ops.iter().all(|op| civilian(roles[op])))
        .count();
    assert!(family_pcs >= 50, "{family_pcs}");
}

#[test]
fn residential_ips_are_re_leased_within_hours() {
    // An IP of two to five honest operators whose uses split in time into two disjoint sets of
    // operators, the second starting at most ~2.5 days after the first ends.
    let gaps = |records: &[Record]| -> Vec<i64> {
        let roles = roles(records);
        let mut uses: HashMap<IpAddr, Vec<(i64, u64)>> = HashMap::new();
        for r in records.iter().filter(|r| r.kind == "ip") {
            let t = r.timestamp.expect("ip observations are timed");
            uses.entry(norm_ip(&r.value)).or_default().push((t, r.operator));
        }
        let mut out = Vec::new();
        for v in uses.values_mut() {
            let ops: BTreeSet<u64> = v.iter().map(|u| u.1).collect();
            if !(2..=5).contains(&ops.len()) || !ops.iter().all(|op| civilian(roles[op])) {
                continue;
            }
            v.sort_unstable();
            for cut in 1..v.len() {
                let before: BTreeSet<u64> = v[..cut].iter().map(|u| u.1).collect();
                if v[cut..].iter().all(|u| !before.contains(&u.1)) {
                    out.push(v[cut].0 - v[cut - 1].0);
                    break;
                }
            }
        }
        out
    };
    let hostile = gaps(hostile_market());
    let within_day = hostile.iter().filter(|&&g| g <= 86_400).count();
    let within_days = hostile.iter().filter(|&&g| g > 86_400 && g <= 3 * 86_400).count();
    assert!(within_day >= 30, "{within_day}");
    assert!(within_days >= 30, "{within_days}");
    // The default market's recycled IPs change hands weeks apart.
    assert!(gaps(market()).iter().filter(|&&g| g <= 86_400).count() * 5 < within_day);
}

#[test]
fn hostile_traps_keep_their_density_as_the_market_grows() {
    let count = |n: u64| {
        let records: Vec<Record> = Marketplace::new().accounts(n).seed(9).hostile(true).records().collect();
        [
            sub_cap_shared(&records, "device", 10).len(),
            sub_cap_shared(&records, "address", 10).len(),
            sub_cap_shared(&records, "wifi", 10).len(),
        ]
    };
    let (small, large) = (count(10_000), count(40_000));
    for (s, l) in small.iter().zip(large) {
        let ratio = l as f64 / *s as f64;
        assert!((3.0..5.5).contains(&ratio), "{small:?} {large:?}");
    }
}

#[test]
fn hostile_values_stay_well_formed() {
    for r in hostile_market() {
        let v = normalize(r.kind, &r.value);
        match r.kind {
            "wifi" => assert_eq!(v.len(), 12, "{r:?}"),
            "phone" => assert!((12..=14).contains(&v.len()), "{r:?}"),
            "payment" => assert!(valid_payment(&v), "{r:?}"),
            "id_document" => assert!(valid_document(&v), "{r:?}"),
            "device" => assert_eq!(r.value.len(), 32, "{r:?}"),
            _ => {}
        }
        if let Some(t) = r.timestamp {
            assert!((PERIOD_START..PERIOD_START + PERIOD_SECONDS).contains(&t), "{r:?}");
        }
        if matches!(r.kind, "device" | "wifi" | "ip") {
            assert!(r.timestamp.is_some(), "{r:?}");
        }
    }
}
