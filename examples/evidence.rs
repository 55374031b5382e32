//! `evidence`: export the weighted account graph that community detection runs on.
//!
//! ```text
//! cargo run --release --example evidence -- --input OBS.csv|OBS.parquet --output EDGES.csv \
//!     [--components COMPONENTS.csv] [--strict] [--kind NAME]... [--policy POLICY.json]
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! Writes `source,target,weight` (account names; the format the `communities` example reads),
//! the union of the per-component evidence graphs of [`sellerlink::operators`], so that peer
//! tools (igraph, leidenalg, NetworKit, graspologic) can be run on exactly the same graph.
//! `--components` also writes `account,component` for every account. Prints one JSON line.
//! Both files are written through the csv crate, whole or not at all.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sellerlink::export::evidence_graph;

#[derive(Parser, Debug)]
#[command(about = "Export the evidence graph (weighted account graph) of an index")]
struct Args {
    #[command(flatten)]
    input: common::InputArgs,
    /// Where to write source,target,weight.
    #[arg(long)]
    output: PathBuf,
    /// Where to write account,component.
    #[arg(long)]
    components: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);
    let started = Instant::now();
    let comps = index.components();
    let edges_written = sellerlink::fs::write_atomic(&args.output, |out| -> Result<u64, csv::Error> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["source", "target", "weight"])?;
        let mut n = 0u64;
        for (c, members) in comps.iter() {
            if members.len() < 2 {
                continue;
            }
            // One edge per pair, the evidence of every artifact they share summed, as the
            // Leiden graph has it.
            for (a, b, weight) in evidence_graph(&index, c) {
                w.write_record([index.account_name(a), index.account_name(b), &weight.to_string()])?;
                n += 1;
            }
        }
        w.flush()?;
        Ok(n)
    })
    .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.output.display())));
    if let Some(path) = &args.components {
        sellerlink::fs::write_atomic(path, |out| -> Result<(), csv::Error> {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["account", "component"])?;
            for a in index.accounts_by_name() {
                let c = comps.cluster_of(a).map_or(u32::MAX, |c| c.as_u32());
                w.write_record([index.account_name(a), &c.to_string()])?;
            }
            w.flush()?;
            Ok(())
        })
        .unwrap_or_else(|e| common::fail(format!("{}: {e}", path.display())));
    }
    println!(
        "{}",
        serde_json::json!({"accounts": index.account_count(), "components": comps.len(), "edges": edges_written, "export_ms": common::ms(started.elapsed())})
    );
}
