//! Criterion benchmarks for each pipeline stage, on seeded synthetic marketplaces.
//!
//! `cargo bench --bench stages` runs 100k- and 1M-observation inputs; set
//! `SELLERLINK_BENCH_OBS=100000,1000000,10000000` to choose sizes. Nothing is downloaded: the
//! inputs come from `sellerlink::synth` with fixed seeds.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sellerlink::expand::Expand;
use sellerlink::explain::explain;
use sellerlink::index::Via;
use sellerlink::ingest::{CsvOptions, read_csv};
use sellerlink::normalize::Normalizer;
use sellerlink::{AccountId, ClusterId, Index, IndexBuilder, link, snapshot};
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
        g.bench_function("link", |b| b.iter(|| link::link(index.graph(), index.kinds(), index.policy())));
        let bytes = snapshot::save(&index).expect("saves");
        g.bench_function("snapshot_save", |b| b.iter(|| snapshot::save(black_box(&index)).expect("saves")));
        g.bench_function("snapshot_load", |b| b.iter(|| snapshot::load(black_box(&bytes)).expect("loads")));
        g.finish();

        // The policy-filtered edges that linking unions, through petgraph's bare UnionFind:
        // the floor that sellerlink's link stage (which also decides those edges) compares to.
        let (_, edges) = link::link_edges(index.graph(), index.kinds(), index.policy());
        let n = index.account_count();
        let mut g = c.benchmark_group(format!("union_find/{obs}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(edges.len() as u64));
        g.bench_with_input(BenchmarkId::new("sellerlink_link_stage", edges.len()), &edges, |b, _| {
            b.iter(|| link::link(index.graph(), index.kinds(), index.policy()))
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
    let ring_member = AccountId::from_u32(index.clustering().members(biggest)[0]);
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
    let other = AccountId::from_u32(*index.clustering().members(biggest).last().expect("non-empty"));
    g.bench_function("explain_within_largest_ring", |b| b.iter(|| explain(index, ring_member, other)));
    let seeds: Vec<AccountId> = index
        .clustering()
        .members(ClusterId::must(biggest.as_usize()))
        .iter()
        .take(3)
        .map(|&a| AccountId::from_u32(a))
        .collect();
    g.bench_function("expand_top100_from_3_seeds", |b| b.iter(|| Expand::new().top(100).run(index, &seeds)));
    g.finish();
}

criterion_group!(benches, bench_normalize, bench_pipeline);
criterion_main!(benches);
