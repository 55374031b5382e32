//! `evaluate`: score sellerlink's clusterings against the truth, beside a hand-written baseline.
//!
//! ```text
//! cargo run --release --example evaluate -- --input OBS.csv|OBS.parquet --truth TRUTH.csv \
//!     [--strict] [--kind NAME]... [--policy POLICY.json]
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! TRUTH is `account,operator[,role]` (as written by the `generate` example). Three methods run
//! on the same index and are scored by pairwise precision, recall and F1, adjusted Rand index,
//! and ring recall and purity:
//!
//! - `baseline`: what a careful analyst writes by hand: values normalised, every shared
//!   artifact links, except one used by more accounts than a fixed cap per kind (the caps
//!   sellerlink itself used before it judged evidence on the data: device 30, wifi 40, ip 40,
//!   id_document 25, phone 25, email 10, payment 250, address 30, any other kind 50); no
//!   strength, no corroboration, no time windows;
//! - `components`: sellerlink's linking (union-find under the default policy);
//! - `operators`: components split by community detection (the default clustering).
//!
//! Prints an aligned table and then one JSON line per method.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Parser;
use sellerlink::Level;
use sellerlink::score::{Scores, score_with_rings};
use sellerlink::{ArtifactId, Index};

#[derive(Parser, Debug)]
#[command(about = "Score clusterings against ground truth, beside a degree-capped baseline")]
struct Args {
    #[command(flatten)]
    input: common::InputArgs,
    /// Truth CSV: account,operator[,role].
    #[arg(long)]
    truth: PathBuf,
    /// Community detection resolution (default: the library's).
    #[arg(long, value_parser = common::check::resolution)]
    resolution: Option<f64>,
    /// Community detection quality function.
    #[arg(long, value_parser = ["cpm", "modularity"])]
    quality: Option<String>,
}

/// The hand-written baseline's cap for a kind: more accounts than this and it links nobody.
fn baseline_cap(kind: &str) -> usize {
    match kind {
        "email" => 10,
        "id_document" | "phone" => 25,
        "device" | "address" => 30,
        "wifi" | "ip" => 40,
        "payment" => 250,
        _ => 50,
    }
}

fn baseline(index: &Index) -> Vec<u32> {
    let g = index.graph();
    let mut uf = petgraph::unionfind::UnionFind::<u32>::new(index.account_count());
    for f in 0..index.artifact_count() {
        let f = ArtifactId::must(f);
        let cap = baseline_cap(index.kind_name(g.kind(f)));
        let accounts = g.accounts_of(f);
        if accounts.len() >= 2 && accounts.len() <= cap {
            for &a in &accounts[1..] {
                uf.union(accounts[0].as_u32(), a.as_u32());
            }
        }
    }
    uf.into_labeling()
}

/// The cluster of every account, by id (a fresh build's ids are dense).
fn labels(index: &Index, level: Level) -> Vec<u32> {
    let c = index.clustering_at(level);
    index.accounts().map(|a| c.cluster_of(a).map_or(u32::MAX, |c| c.as_u32())).collect()
}

fn main() {
    let args = Args::parse();
    let mut leiden = sellerlink::leiden::Leiden::new();
    if let Some(r) = args.resolution {
        leiden = leiden.resolution(r);
    }
    if let Some(q) = &args.quality {
        leiden = leiden.quality(if q == "cpm" {
            sellerlink::leiden::Quality::Cpm
        } else {
            sellerlink::leiden::Quality::Modularity
        });
    }
    let operators = sellerlink::operators::OperatorSettings::new().leiden(leiden);
    let builder = sellerlink::IndexBuilder::new().operators(Some(operators));
    let (builder, _, _) =
        common::read_input(&args.input.input, &args.input.read, builder).unwrap_or_else(|e| common::fail(e));
    let index = builder.build().unwrap_or_else(|e| common::fail(e));

    // Truth, aligned with the index's account ids; accounts absent from the truth are an error.
    let file = std::fs::File::open(&args.truth)
        .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.truth.display())));
    let input = common::check::Normalized::new(std::io::BufReader::new(file));
    let lines = input.lines();
    let mut rdr = csv::Reader::from_reader(input);
    let mut truth = vec![u64::MAX; index.account_count()];
    let mut ring = vec![false; index.account_count()];
    let mut operators: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut rec).unwrap_or_else(|e| {
            let line = e.position().map_or(0, |p| p.line());
            common::fail(common::check::place(&args.truth, line, None, e))
        });
        if !more {
            break;
        }
        let line = lines.line_of(rec.as_byte_record(), rdr.position());
        let (Some(acct), Some(op)) = (rec.get(0), rec.get(1)) else {
            common::fail(common::check::place(
                &args.truth,
                line,
                Some("operator"),
                "missing: expected account,operator",
            ))
        };
        if let Some(a) = index.account(acct) {
            let next = operators.len() as u64;
            truth[a.as_usize()] = *operators.entry(op.to_string()).or_insert(next);
            ring[a.as_usize()] = rec.get(2).is_some_and(|r| r.contains("ring"));
        }
    }
    if let Some(i) = truth.iter().position(|&t| t == u64::MAX) {
        common::fail(format!(
            "{}: no truth for account {:?}",
            args.truth.display(),
            index.account_name(sellerlink::AccountId::must(i))
        ));
    }
    let methods: Vec<(&str, Vec<u32>)> = vec![
        ("baseline", baseline(&index)),
        ("components", labels(&index, Level::Components)),
        ("operators", labels(&index, Level::Operators)),
    ];
    let mut rows: Vec<(&str, Scores, usize, usize)> = Vec::new();
    for (name, labels) in &methods {
        let predicted: Vec<u64> = labels.iter().map(|&l| u64::from(l)).collect();
        let s = score_with_rings(&truth, &predicted, &ring).unwrap_or_else(|e| common::fail(e));
        let clustering = sellerlink::cluster::Clustering::from_labels(labels.clone());
        rows.push((name, s, clustering.len(), clustering.largest()));
    }
    println!(
        "{:<11} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>7} {:>9} {:>8}",
        "method", "precision", "recall", "F1", "ARI", "ring_rec", "ring_pur", "whole", "clusters", "largest"
    );
    for (name, s, k, largest) in &rows {
        println!(
            "{:<11} {:>9.4} {:>9.4} {:>7.4} {:>7.4} {:>8.4} {:>8.4} {:>7} {:>9} {:>8}",
            name,
            s.pairwise_precision,
            s.pairwise_recall,
            s.pairwise_f1,
            s.adjusted_rand,
            s.ring_recall,
            s.ring_purity,
            format!("{}/{}", s.rings_whole_and_pure, s.rings),
            k,
            largest
        );
    }
    for (name, s, k, largest) in &rows {
        println!(
            "{}",
            serde_json::json!({"method": name, "precision": s.pairwise_precision, "recall": s.pairwise_recall, "f1": s.pairwise_f1,
                "ari": s.adjusted_rand, "ring_recall": s.ring_recall, "ring_purity": s.ring_purity,
                "rings_whole_and_pure": s.rings_whole_and_pure, "rings": s.rings, "clusters": k, "largest": largest})
        );
    }
}
