//! `cluster`: observations in, one cluster per account out.
//!
//! ```text
//! cargo run --release --example cluster -- --input OBS.csv --output CLUSTERS.csv \
//!     [--level operators|components] [--strict]
//! ```
//!
//! Reads `account,kind,value[,timestamp]`, builds the index, and writes `account,cluster` with
//! one row for every account in the input. By default (`--level operators`) a cluster is an
//! operator found by community detection; `--level components` gives the union-find
//! components. Prints one JSON line on stdout with the counts and the stage timings in
//! milliseconds. Lines that cannot be read are skipped, counted (`lines_rejected`) and
//! summarised on stderr; `--strict` makes the first one an error instead.

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use sellerlink::{Index, IndexBuilder, index::Level};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LevelArg {
    Operators,
    Components,
}

#[derive(Parser, Debug)]
#[command(about = "Cluster storefront accounts by shared artifacts")]
struct Args {
    /// Observations CSV: account,kind,value[,timestamp].
    #[arg(long)]
    input: PathBuf,
    /// Where to write account,cluster.
    #[arg(long)]
    output: PathBuf,
    /// Which clustering to write.
    #[arg(long, value_enum, default_value = "operators")]
    level: LevelArg,
    /// Fail on the first bad line instead of skipping and counting it.
    #[arg(long)]
    strict: bool,
}

fn main() {
    let args = Args::parse();
    let total = Instant::now();

    // 1. Load: stream the CSV into a builder (normalise and intern as we go).
    let mut builder = IndexBuilder::new();
    if matches!(args.level, LevelArg::Components) {
        builder = builder.operators(None);
    }
    let (report, load_time) =
        common::load(&args.input, args.strict, &mut builder).unwrap_or_else(|e| common::fail(e));

    // 2. Build: freeze the graph, link, detect operators. The spinner names the stage.
    let mut spinner = common::StageSpinner::new(report.records > 1_000_000);
    let index = Index::build_from(builder, &mut spinner).unwrap_or_else(|e| common::fail(e));
    spinner.0.finish_and_clear();

    // 3. Write one row per account.
    let level = match args.level {
        LevelArg::Operators => Level::Operators,
        LevelArg::Components => Level::Components,
    };
    let write_start = Instant::now();
    write_clusters(&index, level, &args.output)
        .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display())));
    let write_time = write_start.elapsed();

    // 4. Report: counts and stage timings as one JSON line.
    let clustering = index.clustering_at(level);
    let mut json = serde_json::json!({
        "accounts": index.account_count(),
        "artifacts": index.artifact_count(),
        "observations": report.accepted,
        "edges": index.graph().edge_count(),
        "clusters": clustering.len(),
        "largest_cluster": clustering.largest(),
        "hubs_suppressed": index.hub_count(),
        "lines_rejected": report.rejected,
        "level": format!("{:?}", args.level).to_lowercase(),
        "load_ms": common::ms(load_time),
    });
    for (stage, t) in &index.stats().timings {
        json[format!("{stage}_ms")] = serde_json::json!(common::ms(*t));
    }
    json["write_ms"] = serde_json::json!(common::ms(write_time));
    json["total_ms"] = serde_json::json!(common::ms(total.elapsed()));
    json["index_bytes"] = serde_json::json!(index.heap_bytes());
    json["peak_rss_bytes"] = serde_json::json!(common::peak_rss_bytes());
    println!("{json}");
}

fn write_clusters(index: &Index, level: Level, path: &PathBuf) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "account,cluster")?;
    let clustering = index.clustering_at(level);
    for (a, &c) in clustering.labels().iter().enumerate() {
        let name = index.account_name(sellerlink::AccountId::must(a));
        if name.contains([',', '"', '\n', '\r']) {
            writeln!(out, "\"{}\",{c}", name.replace('"', "\"\""))?;
        } else {
            writeln!(out, "{name},{c}")?;
        }
    }
    out.flush()
}
