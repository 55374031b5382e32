//! Criterion benchmarks of `sellerlink::leiden`: graph construction and Leiden on seeded
//! planted-partition graphs (modularity and CPM), plus many small components as the sellerlink
//! pipeline produces them.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sellerlink::leiden::{Leiden, Quality, WeightedGraph};

/// SplitMix64, so the graphs are the same on every run without a `rand` dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// `nodes` nodes in communities of 50, `degree` edges drawn per node, a fraction `mu` of them
/// leaving the community; weights in [1, 2).
fn planted(nodes: u64, degree: u64, mu: f64, seed: u64) -> Vec<(u32, u32, f64)> {
    let mut rng = SplitMix(seed);
    let size = 50;
    let mut edges = Vec::with_capacity((nodes * degree) as usize);
    for v in 0..nodes {
        for _ in 0..degree {
            let outside = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 <= mu;
            let u =
                if outside { rng.below(nodes) } else { ((v / size) * size + rng.below(size)).min(nodes - 1) };
            let w = 1.0 + (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            edges.push((v as u32, u as u32, w));
        }
    }
    edges
}

fn construction(c: &mut Criterion) {
    let edges = planted(100_000, 10, 0.3, 1);
    let mut group = c.benchmark_group("leiden/from_edges");
    group.throughput(Throughput::Elements(edges.len() as u64));
    group.bench_function("1M edges", |b| {
        b.iter(|| WeightedGraph::from_edges(100_000, black_box(edges.iter().copied())))
    });
    group.finish();
}

fn leiden(c: &mut Criterion) {
    let mut group = c.benchmark_group("leiden/run");
    group.sample_size(10);
    for (nodes, degree) in [(10_000u64, 10u64), (100_000, 10)] {
        let Ok(graph) = WeightedGraph::from_edges(nodes as usize, planted(nodes, degree, 0.3, 2)) else {
            continue;
        };
        group.throughput(Throughput::Elements(graph.edge_count() as u64));
        let label = format!("{}k nodes, {}k edges", nodes / 1000, graph.edge_count() / 1000);
        group.bench_with_input(BenchmarkId::new("modularity", &label), &graph, |b, g| {
            b.iter(|| Leiden::new().seed(1).run(g))
        });
        group.bench_with_input(BenchmarkId::new("modularity, 2 iterations", &label), &graph, |b, g| {
            b.iter(|| Leiden::new().seed(1).max_iterations(2).run(g))
        });
        group.bench_with_input(BenchmarkId::new("cpm γ=0.05", &label), &graph, |b, g| {
            b.iter(|| Leiden::new().quality(Quality::Cpm).resolution(0.05).seed(1).run(g))
        });
    }
    // 20 000 small components of 5–50 nodes, as in sellerlink's evidence graphs.
    let mut rng = SplitMix(3);
    let mut edges = Vec::new();
    let mut base = 0u64;
    for _ in 0..20_000 {
        let size = 5 + rng.below(46);
        for v in 1..size {
            edges.push(((base + v) as u32, (base + rng.below(v)) as u32, 1.0));
            edges.push(((base + v) as u32, (base + rng.below(size)) as u32, 1.0));
        }
        base += size;
    }
    if let Ok(graph) = WeightedGraph::from_edges(base as usize, edges) {
        group.throughput(Throughput::Elements(graph.edge_count() as u64));
        group.bench_function("20k small components", |b| b.iter(|| Leiden::new().run(&graph)));
    }
    group.finish();
}

criterion_group!(benches, construction, leiden);
criterion_main!(benches);
