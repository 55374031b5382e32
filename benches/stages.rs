//! Criterion benchmarks for each pipeline stage, on seeded synthetic marketplaces.
//!
//! `cargo bench --bench stages` runs 100k- and 1M-observation inputs; set
//! `SELLERLINK_BENCH_OBS=100000,1000000,10000000` to choose sizes. Nothing is downloaded: the
//! inputs come from `sellerlink::synth` with fixed seeds.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sellerlink::Via;
use sellerlink::expand::Expand;
use sellerlink::explain::explain;
use sellerlink::ingest::{CsvOptions, read_csv};
use sellerlink::normalize::Normalizer;
use sellerlink::{AccountId, ClusterId, Index, IndexBuilder, snapshot};
use sellerlink_synth::Marketplace;

fn sizes() -> Vec<u64> {
    std::env::var("SELLERLINK_BENCH_OBS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000])
}

/// A marketplace of about `obs` observations (≈ 5.6 per account), as CSV bytes.
fn csv_of(obs: u64) -> Vec<u8> {
    let records = Marketplace::new().accounts(obs * 10 / 56).seed(obs).records();
    let mut out = Vec::new();
    sellerlink_synth::write_csv(records, &mut out, std::io::sink()).expect("in-memory write");
    out
}

/// Lenient, as the examples read: from 1M observations on, the synthetic market has devices that
/// report the all-zero fingerprint, a placeholder that strict mode would stop at.
fn builder_of(csv: &[u8]) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    read_csv(csv, "bench.csv", &CsvOptions::lenient().size_hint(csv.len() as u64), &mut b)
        .expect("valid synthetic header");
    b
}

fn bench_normalize(c: &mut Criterion) {
    let mut g = c.benchmark_group("normalize");
    let cases: &[(&str, Normalizer, &str)] = &[
        ("mac", Normalizer::Mac, "A4-2B-B0-12-34-56"),
        ("ip_v4", Normalizer::Ip, "203.0.113.77"),
        ("ip_v6_mapped", Normalizer::Ip, "::ffff:203.0.113.77"),
        ("phone", Normalizer::Phone, "+86 138 0013 8000"),
        ("email", Normalizer::Email, "  Ann.Lee@Example.COM "),
        ("document", Normalizer::Document, "de89 3704-0044 0532 0130 00"),
        ("address", Normalizer::Address, "Flat E, 2/F, 223 Lockhart St, Wan Chai"),
        ("text", Normalizer::Text, "  Pixel 7 Pro  SN-A1B2C3D4 "),
        // Non-ASCII values take the Unicode folding path (NFKC, case folding, IDNA).
        ("text_unicode", Normalizer::Text, "Ｐｉｘｅｌ\u{200B} 7 Straße"),
        ("email_unicode", Normalizer::Email, "Ａｎｎ.Ｌｅｅ@Bücher.Example"),
        ("document_unicode", Normalizer::Document, "DE89\u{2011}3704\u{2011}0044"),
        ("address_unicode", Normalizer::Address, "Flat E, 2/F, 223 Lockhart Straße, Ｗａｎ Chai"),
        ("address_cjk", Normalizer::Address, "湖北省武汉市江岸区胜利街223号"),
    ];
    let mut out = String::new();
    for (name, n, raw) in cases {
        g.bench_function(*name, |b| b.iter(|| n.normalize(black_box(raw), &mut out)));
    }
    g.finish();
}

fn bench_pipeline(c: &mut Criterion) {
    for obs in sizes() {
        let csv = csv_of(obs);
        let mut g = c.benchmark_group(format!("pipeline/{obs}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(obs));
        g.bench_function("ingest_csv", |b| b.iter(|| builder_of(black_box(&csv))));
        g.bench_function("build_components", |b| {
            b.iter_batched(
                || builder_of(&csv).operators(None),
                |bld| bld.build().expect("builds"),
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_function("build_with_operators", |b| {
            b.iter_batched(
                || builder_of(&csv),
                |bld| bld.build().expect("builds"),
                criterion::BatchSize::LargeInput,
            )
        });
        let index = builder_of(&csv).build().expect("builds");
        g.bench_function("link", |b| b.iter(|| sellerlink::bench::link_stage(&index)));
        let bytes = snapshot::save(&index).expect("saves");
        g.bench_function("snapshot_save", |b| b.iter(|| snapshot::save(black_box(&index)).expect("saves")));
        g.bench_function("snapshot_load", |b| b.iter(|| snapshot::load(black_box(&bytes)).expect("loads")));
        g.finish();

        // The policy-filtered edges that linking unions, through petgraph's bare UnionFind:
        // the floor that sellerlink's link stage (which also decides those edges) compares to.
        let edges = sellerlink::bench::link_unions(&index);
        let n = index.account_count();
        let mut g = c.benchmark_group(format!("union_find/{obs}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(edges.len() as u64));
        g.bench_with_input(BenchmarkId::new("sellerlink_link_stage", edges.len()), &edges, |b, _| {
            b.iter(|| sellerlink::bench::link_stage(&index))
        });
        g.bench_with_input(BenchmarkId::new("petgraph", edges.len()), &edges, |b, edges| {
            b.iter(|| {
                let mut uf = petgraph::unionfind::UnionFind::<u32>::new(n);
                for &(x, y) in edges {
                    uf.union(x, y);
                }
                uf.into_labeling()
            })
        });
        g.finish();

        bench_lookups(c, obs, &index);
    }
}

fn bench_lookups(c: &mut Criterion, obs: u64, index: &Index) {
    let mut g = c.benchmark_group(format!("lookups/{obs}"));
    let n = index.account_count();
    let biggest = index.clustering().by_size()[0];
    let ring_member = index.clustering().members(biggest)[0];
    let device = index.kinds().get("device").expect("built in");
    let payment = index.kinds().get("payment").expect("built in");
    let mut i = 0usize;
    g.bench_function("cluster_of", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            index.cluster_of(AccountId::must(i))
        })
    });
    g.bench_function("members_of_largest", |b| b.iter(|| index.members(black_box(biggest))));
    let hub = index.hubs().max_by_key(|h| h.accounts).expect("synthetic data has hubs").artifact;
    g.bench_function("accounts_of_largest_hub", |b| b.iter(|| index.accounts_of(black_box(hub))));
    g.bench_function("account_by_name", |b| {
        b.iter(|| index.account(black_box(index.account_name(ring_member))))
    });
    g.bench_function("shares_device_and_payment_not_hubs", |b| {
        b.iter(|| {
            index.shares(ring_member, device, Via::NonHubs) & index.shares(ring_member, payment, Via::NonHubs)
        })
    });
    let other = *index.clustering().members(biggest).last().expect("non-empty");
    g.bench_function("explain_within_largest_ring", |b| b.iter(|| explain(index, ring_member, other)));
    let seeds: Vec<AccountId> =
        index.clustering().members(ClusterId::must(biggest.as_usize())).iter().take(3).copied().collect();
    g.bench_function("expand_top100_from_3_seeds", |b| b.iter(|| Expand::new().top(100).run(index, &seeds)));
    g.finish();
}

/// Hostile shapes that a few MB of CSV can make: each must cost near-linear time (four times the
/// input at most about four to six times the time).
fn bench_hostile(c: &mut Criterion) {
    let mac = |i: u64| {
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:01",
            (i >> 32) & 255,
            (i >> 24) & 255,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        )
    };
    // Router i shared by accounts i, i+1, i+2, in ascending order, plus one device pair: group
    // corroboration walks the chain one account at a time.
    let chain = |n: u64| {
        let mut b = IndexBuilder::new();
        for i in 0..n {
            for a in i..i + 3 {
                b.add(&format!("a{a:08}"), "wifi", &mac(i), None).expect("valid");
            }
        }
        b.add("a00000000", "device", "dev-x", None).expect("valid");
        b.add("a00000001", "device", "dev-x", None).expect("valid");
        b
    };
    // One account sharing a distinct address and a distinct router with each of N others (the
    // issue's shape), and the same with a distinct device and payment account, which link.
    let star = |n: u64, kinds: (&str, &str)| {
        let mut b = IndexBuilder::new();
        for i in 0..n {
            let (x, y) = (format!("{i} main street"), mac(i));
            let (x, y) = if kinds.0 == "address" { (x, y) } else { (format!("dev-{i}"), format!("pay-{i}")) };
            for a in ["center".to_string(), format!("o{i:08}")] {
                b.add(&a, kinds.0, &x, None).expect("valid");
                b.add(&a, kinds.1, &y, None).expect("valid");
            }
        }
        b
    };
    let mut g = c.benchmark_group("hostile");
    g.sample_size(10);
    for n in [8_000u64, 32_000] {
        g.bench_function(BenchmarkId::new("router_chain", n), |b| {
            b.iter_batched(|| chain(n), |bld| bld.build().expect("builds"), criterion::BatchSize::LargeInput)
        });
    }
    for n in [10_000u64, 40_000] {
        g.bench_function(BenchmarkId::new("star_address_router", n), |b| {
            b.iter_batched(
                || star(n, ("address", "wifi")),
                |bld| bld.build().expect("builds"),
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_function(BenchmarkId::new("star_device_payment", n), |b| {
            b.iter_batched(
                || star(n, ("device", "payment")),
                |bld| bld.build().expect("builds"),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    // 100k lines, each with a stray quote in an ignored column (every line rejected, and the
    // parser moved on to the next line), against the same lines well formed.
    let lines = |stray: bool| {
        let mut s = String::from("account,kind,value,timestamp,note\n");
        for i in 0..100_000u64 {
            s.push_str(&format!("s{i},device,fp-{},,{}oops\n", i % 5_000, if stray { "\"" } else { "" }));
        }
        s.into_bytes()
    };
    for (name, stray) in [("ingest_clean_lines", false), ("ingest_stray_quotes", true)] {
        let data = lines(stray);
        g.bench_function(BenchmarkId::new(name, 100_000), |b| {
            b.iter(|| {
                let mut bld = IndexBuilder::new();
                let r = read_csv(&data[..], "h.csv", &CsvOptions::lenient(), &mut bld).expect("lenient");
                black_box((r.lines_read, bld.observation_count()))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_normalize, bench_pipeline, bench_hostile);
criterion_main!(benches);
