//! `export`: one operator and its evidence, for a case file or another tool.
//!
//! ```text
//! cargo run --release --example export -- --input OBS.csv --cluster-of ACCOUNT \
//!     --format json|dot|csv --output PATH
//! ```
//!
//! - `json`: one JSON object with the operator's members, shared artifacts, activity, density
//!   and weakest joint.
//! - `dot`: the evidence subgraph for Graphviz (`dot -Tpng PATH -o ring.png`).
//! - `csv`: PATH is a directory; writes `neo4j_nodes.csv` + `neo4j_relationships.csv` (for
//!   `neo4j-admin database import full`) and `gephi_nodes.csv` + `gephi_edges.csv` (for
//!   Gephi's spreadsheet import).

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

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
    /// Observations CSV: account,kind,value[,timestamp].
    #[arg(long)]
    input: PathBuf,
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

fn create(path: &Path) -> BufWriter<File> {
    BufWriter::new(File::create(path).unwrap_or_else(|e| common::fail(format!("{}: {e}", path.display()))))
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);
    let account = common::account_or_fail(&index, &args.cluster_of);
    let cluster = index.cluster_of(account);
    let written = match args.format {
        Format::Json => {
            write_json(&index, &[cluster], create(&args.output)).map(|()| vec![args.output.clone()])
        }
        Format::Dot => write_dot(&index, cluster, create(&args.output)).map(|()| vec![args.output.clone()]),
        Format::Csv => {
            std::fs::create_dir_all(&args.output)
                .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display())));
            let p = |n: &str| args.output.join(n);
            write_neo4j_csv(
                &index,
                &[cluster],
                create(&p("neo4j_nodes.csv")),
                create(&p("neo4j_relationships.csv")),
            )
            .and_then(|()| {
                write_gephi_csv(
                    &index,
                    &[cluster],
                    create(&p("gephi_nodes.csv")),
                    create(&p("gephi_edges.csv")),
                )
            })
            .map(|()| {
                ["neo4j_nodes.csv", "neo4j_relationships.csv", "gephi_nodes.csv", "gephi_edges.csv"]
                    .iter()
                    .map(|n| p(n))
                    .collect()
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
        Err(e) => common::fail(format!("{}: {e}", args.output.display())),
    }
}
