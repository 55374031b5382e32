//! `cluster`: observations in, one cluster per account out.
//!
//! ```text
//! cargo run --release --example cluster -- --input OBS.csv --output CLUSTERS.csv \
//!     [--level operators|components] [--strict] [--kind NAME]... [--save SNAPSHOT] \
//!     [--load SNAPSHOT [--remove ACCOUNTS.csv] [--expire-before T]] [--policy POLICY.json] \
//!     [--save-policy POLICY.json]
//! ```
//!
//! `--save` writes the built index as a snapshot; `--load` starts from a snapshot instead of
//! an empty index, and `--input` (then optional) adds its observations to it as an update,
//! recomputing communities only where the new observations touch. In the same update,
//! `--remove` removes the accounts a CSV file names in its `account` column, with the
//! snapshot's observations of them, and `--expire-before` drops every timestamped observation
//! older than T (unix seconds). A truncated or corrupted snapshot makes the command exit 2 with
//! a one-line error.
//!
//! Input and output are CSV or Parquet, chosen by the file extension (`.parquet`), with the same
//! columns; a Parquet timestamp may be int64 unix seconds or a timestamp type.
//!
//! Reads `account,kind,value[,timestamp]`, builds the index, and writes `account,cluster` with
//! one row for every account in the input. By default (`--level operators`) a cluster is an
//! operator found by community detection; `--level components` gives the union-find
//! components. Prints one JSON line on stdout with the counts and the stage timings in
//! milliseconds. Lines that cannot be read are skipped, counted (`lines_rejected`) and
//! summarised on stderr; `--strict` makes the first one an error instead. Every data line is
//! accounted for: `observations + lines_rejected == lines_read`.
//!
//! A kind name that is not built in becomes a weak custom kind; one that looks like a misspelt
//! built-in kind (`devcie`) is reported on stderr, and so are many new kind names at the start
//! of the file (a likely column mix-up). `--strict` refuses custom kinds that are not declared
//! with `--kind NAME` (repeatable) or named in the `--policy` file; `--kind` in lenient mode
//! rejects (and counts) lines of undeclared kinds.
//!
//! Output files (`--output`, `--save`, `--save-policy`) are written whole or not at all: a
//! failed write leaves the previous file as it was and no temporary file behind.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, ValueEnum};
use sellerlink::{Index, IndexBuilder, Level};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LevelArg {
    Operators,
    Components,
}

#[derive(Parser, Debug)]
#[command(about = "Cluster storefront accounts by shared artifacts")]
// A snapshot carries its own policy: --policy goes with a fresh build only.
#[command(mut_arg("policy", |a| a.conflicts_with("load").help(
    "Build with the linking policy in this JSON file (as written by --save-policy): with what it \
     learned pinned, the run reproduces the one that saved it; the custom kinds it names count as \
     declared. Not with --load (a snapshot carries its own policy)"
)))]
struct Args {
    /// Observations, CSV or Parquet: account,kind,value[,timestamp] (optional with --load).
    #[arg(long, required_unless_present = "load")]
    input: Option<PathBuf>,
    /// Where to write account,cluster (CSV, or Parquet for a .parquet path).
    #[arg(long)]
    output: PathBuf,
    /// Which clustering to write.
    #[arg(long, value_enum, default_value = "operators")]
    level: LevelArg,
    /// Write the built index to this snapshot file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Start from this snapshot (the input, if any, is added to it).
    #[arg(long)]
    load: Option<PathBuf>,
    /// With --load: remove the accounts this CSV file names in its account column.
    #[arg(long, requires = "load")]
    remove: Option<PathBuf>,
    /// With --load: drop timestamped observations older than this (unix seconds).
    #[arg(long, requires = "load")]
    expire_before: Option<i64>,
    /// Write the index's linking policy, with what the build learned, as JSON.
    #[arg(long)]
    save_policy: Option<PathBuf>,
    // --strict, --kind NAME, --policy FILE: as for every example that reads observations.
    #[command(flatten)]
    read: common::ReadArgs,
}

fn main() {
    let args = Args::parse();
    let total = Instant::now();

    // 1. Start: from a snapshot, or empty.
    let mut timings: Vec<(String, std::time::Duration)> = Vec::new();
    let loaded = args.load.as_ref().map(|path| {
        let t = Instant::now();
        let index = sellerlink::snapshot::load_path(path)
            .unwrap_or_else(|e| common::fail(common::check::snapshot_error(path, &e)));
        timings.push(("snapshot_load".into(), t.elapsed()));
        index
    });

    // 2. Load observations and build: a fresh index, or an update of the loaded one.
    let mut report = sellerlink::ingest::IngestReport::default();
    let mut changes = None;
    let index = match (loaded, &args.input) {
        (None, Some(input)) => {
            let mut builder = IndexBuilder::new();
            if matches!(args.level, LevelArg::Components) {
                builder = builder.operators(None);
            }
            let (builder, r, load_time) =
                common::read_input(input, &args.read, builder).unwrap_or_else(|e| common::fail(e));
            report = r;
            timings.push(("load".into(), load_time));
            // The spinner names the stage while freezing, linking and detecting operators.
            let mut spinner = common::StageSpinner::new(report.lines_read > 1_000_000);
            let index = builder.build_with(&mut spinner).unwrap_or_else(|e| common::fail(e));
            spinner.0.finish_and_clear();
            index
        }
        (Some(base), input) if input.is_some() || args.remove.is_some() || args.expire_before.is_some() => {
            let t = Instant::now();
            let mut updater = base.updater();
            // Removals apply to the snapshot's observations, before the input's are added.
            if let Some(path) = &args.remove {
                for name in sellerlink::ingest::read_account_names(path).unwrap_or_else(|e| common::fail(e)) {
                    updater.remove_account(&name);
                }
            }
            if let Some(cutoff) = args.expire_before {
                updater.expire_before(cutoff);
            }
            if let Some(input) = input {
                // The snapshot's kinds are known; others must be declared as for a build.
                let declared = common::declared(&args.read, &[]);
                report = if sellerlink::parquet::is_parquet_path(input) {
                    let options = common::arrow_options(args.read.strict, declared.as_deref());
                    updater.read_parquet_path(input, &options).unwrap_or_else(|e| common::fail(e))
                } else {
                    let options = common::options(args.read.strict, declared.as_deref());
                    updater.read_csv_path(input, &options).unwrap_or_else(|e| common::fail(e))
                };
                common::print_report(input, &report);
            }
            timings.push(("load".into(), t.elapsed()));
            let t = Instant::now();
            let (next, c) = updater.finish().unwrap_or_else(|e| common::fail(e));
            timings.push(("update".into(), t.elapsed()));
            changes = Some(c);
            next
        }
        (Some(base), _) => base,
        (None, None) => common::fail("--input or --load is required"),
    };
    if let Some(path) = &args.save {
        let t = Instant::now();
        save_snapshot(&index, path).unwrap_or_else(|e| common::fail(e));
        timings.push(("snapshot_save".into(), t.elapsed()));
    }

    // 3. Write one row per account.
    let level = match args.level {
        LevelArg::Operators => Level::Operators,
        LevelArg::Components => Level::Components,
    };
    let write_start = Instant::now();
    if sellerlink::parquet::is_parquet_path(&args.output) {
        sellerlink::parquet::write_clusters_path(&index, level, &args.output)
            .unwrap_or_else(|e| common::fail(e));
    } else {
        sellerlink::fs::write_atomic(&args.output, |out| write_clusters(&index, level, out))
            .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display())));
    }
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
        "lines_read": report.lines_read,
        "lines_rejected": report.rejected,
        "level": format!("{:?}", args.level).to_lowercase(),
    });
    for (stage, t) in &timings {
        json[format!("{stage}_ms")] = serde_json::json!(common::ms(*t));
    }
    if changes.is_none() {
        for (stage, t) in &index.stats().timings {
            json[format!("{stage}_ms")] = serde_json::json!(common::ms(*t));
        }
    }
    if let Some(c) = &changes {
        let mut update = serde_json::json!({
            "appeared": c.appeared.len(), "merged": c.merged.len(), "split": c.split.len(),
            "joined": c.joined.len(), "removed_accounts": c.removed_accounts,
            "relinked_accounts": c.relinked_accounts,
            "recomputed_components": c.recomputed_components, "kept_components": c.kept_components,
        });
        // The stages inside the update, as for a build.
        for (stage, t) in &index.stats().timings {
            update[format!("{stage}_ms")] = serde_json::json!(common::ms(*t));
        }
        json["update"] = update;
    }
    json["policy"] = sellerlink::report::judged_policy(&index);
    if let Some(path) = &args.save_policy {
        let text = serde_json::to_string_pretty(index.policy()).unwrap_or_else(|e| common::fail(e));
        sellerlink::fs::write_atomic(path, |out| std::io::Write::write_all(out, (text + "\n").as_bytes()))
            .unwrap_or_else(|e| common::fail(format!("{}: {e}", path.display())));
    }
    json["write_ms"] = serde_json::json!(common::ms(write_time));
    json["total_ms"] = serde_json::json!(common::ms(total.elapsed()));
    json["index_bytes"] = serde_json::json!(index.heap_bytes());
    json["peak_rss_bytes"] = serde_json::json!(common::peak_rss_bytes());
    println!("{json}");
}

fn write_clusters(index: &Index, level: Level, out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(out);
    out.write_record(["account", "cluster"])?;
    let clustering = index.clustering_at(level);
    // Rows in account-name order, so that an updated index writes what one build writes.
    let mut number = String::new();
    for a in index.accounts_by_name() {
        let c = clustering.cluster_of(a).map_or(u32::MAX, |c| c.as_u32());
        number.clear();
        std::fmt::Write::write_fmt(&mut number, format_args!("{c}")).map_err(std::io::Error::other)?;
        out.write_record([index.account_name(a), number.as_str()])?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the snapshot whole or not at all (`snapshot::save_path` writes a temporary file
/// beside it and renames it over the target once synced; a failure leaves the previous
/// snapshot and no temporary file).
fn save_snapshot(index: &Index, path: &Path) -> Result<(), String> {
    sellerlink::snapshot::save_path(index, path).map_err(|e| match e {
        sellerlink::snapshot::SnapshotError::Io { cause, .. } => format!("{}: {cause}", path.display()),
        e => format!("{}: {e}", path.display()),
    })
}
