//! `scale`: generate a synthetic marketplace of N observations and run it end to end, from CSV
//! to operators, printing throughput per stage and peak resident memory.
//!
//! ```text
//! cargo run --release --example scale -- --observations 10000000 [--dir /tmp] [--keep]
//! ```
//!
//! The CSV is written first (not timed as part of the pipeline), then read back exactly as the
//! `cluster` example reads it. Prints one JSON line with the stage timings in milliseconds,
//! observations per second per stage, the peak resident set and bytes per observation.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sellerlink::IndexBuilder;
use sellerlink_synth::{Marketplace, write_csv};

#[derive(Parser, Debug)]
#[command(about = "End-to-end scale run on a synthetic marketplace")]
struct Args {
    /// Observations to generate (about 5.6 per account).
    #[arg(long, default_value_t = 1_000_000)]
    observations: u64,
    /// Where to write the CSV.
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the CSV afterwards.
    #[arg(long)]
    keep: bool,
}

fn main() {
    let args = Args::parse();
    let accounts = (args.observations * 10 / 56).max(1);
    let csv = args.dir.join(format!("sellerlink-scale-{}.csv", args.observations));
    let truth = args.dir.join(format!("sellerlink-scale-{}-truth.csv", args.observations));

    // 1. Generate (streaming: the generator holds no per-account state).
    let t = Instant::now();
    // Written whole or not at all (temporary files beside them, renamed when both are done).
    let written = (|| -> Result<_, String> {
        let named = |p: &PathBuf, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
        let open = |p: &PathBuf| -> Result<_, String> {
            let tmp = sellerlink::fs::TempPath::beside(p).map_err(|e| named(p, &e))?;
            let file = File::create(tmp.path()).map_err(|e| named(p, &e))?;
            Ok((tmp, BufWriter::with_capacity(1 << 20, file)))
        };
        let ((obs_tmp, obs), (tr_tmp, tr)) = (open(&csv)?, open(&truth)?);
        let stats = write_csv(Marketplace::new().accounts(accounts).seed(args.seed).records(), obs, tr)
            .map_err(|e| named(&csv, &e))?;
        obs_tmp.commit().map_err(|e| named(&csv, &e))?;
        tr_tmp.commit().map_err(|e| named(&truth, &e))?;
        Ok(stats)
    })();
    let stats = written.unwrap_or_else(|e| common::fail(e));
    let generate = t.elapsed();
    let rss_before = common::peak_rss_bytes().unwrap_or(0);

    // 2. Load the CSV as `cluster` does (lenient: the generator plants placeholder values,
    // which are skipped and counted in `rejected`), 3. build (canonicalize, freeze, link,
    // operators, bitmaps).
    let total = Instant::now();
    let mut builder = IndexBuilder::new();
    let (report, load) = common::load(&csv, false, &mut builder).unwrap_or_else(|e| common::fail(e));
    let mut spinner = common::StageSpinner::new(args.observations >= 5_000_000);
    let index = builder.build_with(&mut spinner).unwrap_or_else(|e| common::fail(e));
    spinner.0.finish_and_clear();
    let elapsed = total.elapsed();
    let peak = common::peak_rss_bytes().unwrap_or(0);

    let n = report.accepted as f64;
    let mut json = serde_json::json!({
        "observations": report.accepted,
        "rejected": report.rejected,
        "accounts": index.account_count(),
        "artifacts": index.artifact_count(),
        "operators": index.clustering().len(),
        "largest_operator": index.clustering().largest(),
        "hubs": index.hub_count(),
        "generate_ms": common::ms(generate),
        "generated_observations": stats.observations,
        "load_ms": common::ms(load),
        "load_obs_per_s": (n / load.as_secs_f64()).round(),
        "csv_to_operators_ms": common::ms(elapsed),
        "end_to_end_obs_per_s": (n / elapsed.as_secs_f64()).round(),
        "peak_rss_bytes": peak,
        "peak_rss_before_load_bytes": rss_before,
        "peak_bytes_per_observation": ((peak as f64) / n).round(),
        "index_heap_bytes": index.heap_bytes(),
        "index_bytes_per_observation": ((index.heap_bytes() as f64) / n).round(),
        "threads": std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
    });
    for (stage, t) in &index.stats().timings {
        json[format!("{stage}_ms")] = serde_json::json!(common::ms(*t));
    }
    println!("{json}");
    if !args.keep {
        let _ = std::fs::remove_file(&csv);
        let _ = std::fs::remove_file(&truth);
    }
}
