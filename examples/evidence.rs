//! `evidence`: export the weighted account graph that community detection runs on.
//!
//! ```text
//! cargo run --release --example evidence -- --input OBS.csv --output EDGES.csv [--components COMPONENTS.csv]
//! ```
//!
//! Writes `source,target,weight` (account names; the format the `communities` example reads),
//! the union of the per-component evidence graphs of [`sellerlink::operators`], so that peer
//! tools (igraph, leidenalg, NetworKit, graspologic) can be run on exactly the same graph.
//! `--components` also writes `account,component` for every account. Prints one JSON line.

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sellerlink::export::evidence_graph;

#[derive(Parser, Debug)]
#[command(about = "Export the evidence graph (weighted account graph) of an index")]
struct Args {
    /// Observations CSV.
    #[arg(long)]
    input: PathBuf,
    /// Where to write source,target,weight.
    #[arg(long)]
    output: PathBuf,
    /// Where to write account,component.
    #[arg(long)]
    components: Option<PathBuf>,
}

fn csv_name(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);
    let started = Instant::now();
    let mut out = BufWriter::new(
        File::create(&args.output)
            .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display()))),
    );
    let io = |e: std::io::Error| common::fail(format!("{}: {e}", args.output.display()));
    writeln!(out, "source,target,weight").unwrap_or_else(io);
    let comps = index.components();
    let mut edges_written = 0u64;
    for (c, members) in comps.iter() {
        if members.len() < 2 {
            continue;
        }
        // One edge per pair, the evidence of every artifact they share summed, as the Leiden
        // graph has it.
        for (a, b, w) in evidence_graph(&index, c) {
            let name = |x| csv_name(index.account_name(x));
            writeln!(out, "{},{},{w}", name(a), name(b)).unwrap_or_else(io);
            edges_written += 1;
        }
    }
    out.flush().unwrap_or_else(io);
    if let Some(path) = &args.components {
        let mut w = BufWriter::new(
            File::create(path).unwrap_or_else(|e| common::fail(format!("{}: {e}", path.display()))),
        );
        let io = |e: std::io::Error| common::fail(format!("{}: {e}", path.display()));
        writeln!(w, "account,component").unwrap_or_else(io);
        for a in index.accounts_by_name() {
            let c = comps.cluster_of(a).map_or(u32::MAX, |c| c.as_u32());
            writeln!(w, "{},{c}", csv_name(index.account_name(a))).unwrap_or_else(io);
        }
        w.flush().unwrap_or_else(io);
    }
    println!(
        "{}",
        serde_json::json!({"accounts": index.account_count(), "components": comps.len(), "edges": edges_written, "export_ms": common::ms(started.elapsed())})
    );
}
