//! `export`: one operator and its evidence, for a case file or another tool.
//!
//! ```text
//! cargo run --release --example export -- --input OBS.csv|OBS.parquet --cluster-of ACCOUNT \
//!     --format json|dot|csv --output PATH [--strict] [--kind NAME]... [--policy POLICY.json]
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! - `json`: one JSON object with the operator's members, shared artifacts, activity, density
//!   and weakest joint.
//! - `dot`: the evidence subgraph for Graphviz (`dot -Tpng PATH -o ring.png`).
//! - `csv`: PATH is a directory; writes `neo4j_nodes.csv` + `neo4j_relationships.csv` (for
//!   `neo4j-admin database import full`) and `gephi_nodes.csv` + `gephi_edges.csv` (for
//!   Gephi's spreadsheet import).
//!
//! Files are written whole or not at all: a failure leaves the previous files as they were.

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sellerlink::fs::TempPath;

use clap::{Parser, ValueEnum};
use sellerlink::export::{write_dot, write_gephi_csv, write_json, write_neo4j_csv};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Json,
    Dot,
    Csv,
}

#[derive(Parser, Debug)]
#[command(about = "Export the operator of an account with its evidence")]
struct Args {
    #[command(flatten)]
    input: common::InputArgs,
    /// Export the operator of this account.
    #[arg(long)]
    cluster_of: String,
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// Output file (a directory for csv).
    #[arg(long)]
    output: PathBuf,
}

/// Writes files whole or not at all: `write` fills temporary files beside `paths`, renamed
/// over them once it succeeds (a failure leaves the previous files and no temporary file).
fn to_files<const N: usize>(
    paths: [PathBuf; N],
    write: impl FnOnce([BufWriter<File>; N]) -> std::io::Result<()>,
) -> Result<Vec<PathBuf>, String> {
    let named = |p: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let mut temps = Vec::new();
    let mut files = Vec::new();
    for p in &paths {
        let tmp = TempPath::beside(p).map_err(|e| named(p, &e))?;
        files.push(BufWriter::new(File::create(tmp.path()).map_err(|e| named(p, &e))?));
        temps.push(tmp);
    }
    let files: [BufWriter<File>; N] = files.try_into().map_err(|_| "internal error".to_string())?;
    write(files).map_err(|e| named(&paths[0], &e))?;
    for (tmp, p) in temps.into_iter().zip(&paths) {
        tmp.commit().map_err(|e| named(p, &e))?;
    }
    Ok(paths.to_vec())
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);
    let account = common::account_or_fail(&index, &args.cluster_of);
    let cluster = index.cluster_of(account);
    // Each writer flushes before its file is renamed.
    let flush = |mut w: BufWriter<File>| w.flush();
    let written = match args.format {
        Format::Json => to_files([args.output.clone()], |[mut f]| {
            write_json(&index, &[cluster], &mut f)?;
            flush(f)
        }),
        Format::Dot => to_files([args.output.clone()], |[mut f]| {
            write_dot(&index, cluster, &mut f)?;
            flush(f)
        }),
        Format::Csv => {
            std::fs::create_dir_all(&args.output)
                .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display())));
            let p = |n: &str| args.output.join(n);
            let names = ["neo4j_nodes.csv", "neo4j_relationships.csv", "gephi_nodes.csv", "gephi_edges.csv"];
            to_files(names.map(p), |[mut a, mut b, mut c, mut d]| {
                write_neo4j_csv(&index, &[cluster], &mut a, &mut b)?;
                write_gephi_csv(&index, &[cluster], &mut c, &mut d)?;
                [a, b, c, d].into_iter().try_for_each(flush)
            })
        }
    };
    match written {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {}", f.display());
            }
            println!(
                "operator {} of {} ({} accounts)",
                cluster,
                args.cluster_of,
                index.members(cluster).len()
            );
        }
        Err(e) => common::fail(e),
    }
}
