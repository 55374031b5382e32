//! Find communities in an edge list with sellerlink's Leiden engine.
//!
//! ```text
//! cargo run --release --example communities -- --edges EDGES.csv --output OUT.csv \
//!     [--resolution R] [--seed S] [--quality modularity|cpm] [--max-iterations N]
//! ```
//!
//! `EDGES.csv` has a header naming a `source` and a `target` column and optionally a `weight`
//! column (default weight 1.0; an empty weight cell also means 1.0). Node ids are arbitrary
//! strings. The program writes `node,community` for every node to `OUT.csv` and prints exactly
//! one JSON line of statistics on stdout. Bad input is reported on stderr as one line naming
//! the file, the line and the field (`EDGES.csv:7: field weight: ...`), with exit code 2: a
//! resolution that is not a finite number of at least 0, a weight that is not a finite
//! non-negative number, and weights that sum past 1e150 (where the quality sums overflow) are
//! refused. Node names are hashed with per-process random keys (a crafted edge list cannot
//! flood the table), and node ids follow first appearance, so the output does not depend on
//! the keys. The output file is written whole or not at all.
//!
//! This is a contract: the peer comparison (`bench/peers/compare_leiden.py`) and other tools
//! call it exactly so.

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use sellerlink::leiden::{Leiden, Quality, WeightedGraph};

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "Leiden communities of an edge-list CSV")]
struct Args {
    /// Input CSV with a header: source,target[,weight].
    #[arg(long)]
    edges: PathBuf,
    /// Output CSV: node,community for every node.
    #[arg(long)]
    output: PathBuf,
    /// Resolution γ of the quality function (a finite number, at least 0).
    #[arg(long, default_value_t = 1.0, value_parser = common::check::resolution)]
    resolution: f64,
    /// Random seed; the same seed gives the same communities.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Cap on Leiden iterations (0: until an iteration changes nothing).
    #[arg(long, default_value_t = 0)]
    max_iterations: u32,
    /// Quality function to maximise.
    #[arg(long, value_enum, default_value_t = QualityArg::Modularity)]
    quality: QualityArg,
}

/// The `--quality` choices.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum QualityArg {
    /// Modularity with resolution γ.
    Modularity,
    /// Constant Potts Model with resolution γ.
    Cpm,
}

/// A failure to report: a one-line message and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Bad input (exit code 2).
    fn input(message: String) -> Self {
        Self { message, code: 2 }
    }
}

/// The edge list as dense ids: node names in first-seen order and `(source, target, weight)`.
struct EdgeList {
    names: Vec<String>,
    edges: Vec<(u32, u32, f64)>,
}

fn main() -> ExitCode {
    // clap prints usage and exits with code 2 on bad arguments.
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let started = Instant::now();

    // 1. Load: read the CSV, give every distinct node name a dense u32 id, build the graph.
    let list = read_edges(&args.edges)?;
    let graph = WeightedGraph::from_edges(list.names.len(), list.edges.iter().copied())
        .map_err(|e| Failure::input(format!("{}: {e}", args.edges.display())))?;
    let loaded = Instant::now();

    // 2. Leiden: the settings map one to one onto the builder.
    let quality = match args.quality {
        QualityArg::Modularity => Quality::Modularity,
        QualityArg::Cpm => Quality::Cpm,
    };
    let partition = Leiden::new()
        .quality(quality)
        .resolution(args.resolution)
        .seed(args.seed)
        .max_iterations(args.max_iterations)
        .run(&graph);
    let solved = Instant::now();
    if !partition.quality().is_finite() {
        // The input checks keep the sums finite; should one still overflow, say so.
        return Err(Failure::input(format!(
            "{}: the quality is not a finite number; scale the weights down",
            args.edges.display()
        )));
    }

    // 3. Write node,community for every node, in first-seen order.
    write_membership(&args.output, &list.names, partition.membership())?;
    let written = Instant::now();

    // 4. One JSON line of statistics, keys in a fixed order (numbers formatted by serde_json,
    //    so a non-finite quality prints as null rather than breaking the JSON).
    let ms = |from: Instant, to: Instant| to.duration_since(from).as_secs_f64() * 1000.0;
    let number = |x: f64| serde_json::Value::from(x).to_string();
    let stats = format!(
        concat!(
            r#"{{"nodes":{},"edges":{},"communities":{},"quality":{},"quality_function":"{}","#,
            r#""resolution":{},"seed":{},"load_ms":{},"leiden_ms":{},"write_ms":{},"total_ms":{}}}"#
        ),
        graph.node_count(),
        graph.edge_count(),
        partition.community_count(),
        number(partition.quality()),
        match args.quality {
            QualityArg::Modularity => "modularity",
            QualityArg::Cpm => "cpm",
        },
        number(args.resolution),
        args.seed,
        number(ms(started, loaded)),
        number(ms(loaded, solved)),
        number(ms(solved, written)),
        number(ms(started, written)),
    );
    println!("{stats}");
    Ok(())
}

/// Reads `source,target[,weight]` rows, naming the file, line and field in every error.
fn read_edges(path: &Path) -> Result<EdgeList, Failure> {
    let file = path.display();
    let handle = File::open(path).map_err(|e| Failure::input(format!("{file}: cannot open: {e}")))?;
    // Line ends of any kind and a byte-order mark are read as the csv parser expects.
    let input = common::check::Normalized::new(BufReader::with_capacity(1 << 20, handle));
    let lines = input.lines();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(true).from_reader(input);
    let at = |line: u64, field: Option<&str>, reason: &dyn std::fmt::Display| {
        Failure::input(common::check::place(path, line, field, reason))
    };

    // Locate the columns by name; the weight column is optional.
    let headers =
        reader.headers().map_err(|e| at(1, None, &format_args!("cannot read the header: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let missing = |name: &str| at(1, Some(name), &"missing column");
    let source_col = column("source").ok_or_else(|| missing("source"))?;
    let target_col = column("target").ok_or_else(|| missing("target"))?;
    let weight_col = column("weight");

    // Node names get ids in first-seen order; the table is keyed at random per process.
    let mut ids: HashMap<Box<str>, u32, ahash::RandomState> = HashMap::with_hasher(ahash::RandomState::new());
    let mut names: Vec<String> = Vec::new();
    // (`None` once the ids would no longer fit a u32.)
    let mut intern = |name: &str| -> Option<u32> {
        if let Some(&id) = ids.get(name) {
            return Some(id);
        }
        let id = u32::try_from(names.len()).ok()?;
        ids.insert(name.into(), id);
        names.push(name.to_owned());
        Some(id)
    };

    let mut edges = Vec::new();
    let mut total = 0.0f64;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at(line, None, &e)
        })?;
        if !more {
            break;
        }
        let line = lines.line_of(record.as_byte_record(), reader.position());
        let field = |col: usize, name: &str| {
            record.get(col).filter(|s| !s.is_empty()).ok_or_else(|| at(line, Some(name), &"missing value"))
        };
        let too_many = || at(line, None, &"too many distinct nodes");
        let source = intern(field(source_col, "source")?).ok_or_else(too_many)?;
        let target = intern(field(target_col, "target")?).ok_or_else(too_many)?;
        let weight = match weight_col.and_then(|c| record.get(c)).filter(|s| !s.is_empty()) {
            None => 1.0,
            Some(text) => parse_weight(text).map_err(|why| at(line, Some("weight"), &why))?,
        };
        common::check::add_weight(&mut total, weight).map_err(|why| at(line, Some("weight"), &why))?;
        edges.push((source, target, weight));
    }
    Ok(EdgeList { names, edges })
}

/// A weight must be a finite, non-negative number.
fn parse_weight(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        Ok(_) => Err(format!("weight {text:?} must be finite and non-negative")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// Writes the `node,community` CSV (csv quoting keeps odd node names intact), whole or not at
/// all.
fn write_membership(path: &Path, names: &[String], membership: &[u32]) -> Result<(), Failure> {
    let file = path.display();
    let fail = |e: &dyn std::fmt::Display| Failure { message: format!("{file}: cannot write: {e}"), code: 1 };
    sellerlink::fs::write_atomic(path, |out| -> Result<(), csv::Error> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(["node", "community"])?;
        for (name, &community) in names.iter().zip(membership) {
            writer.write_record([name.as_str(), &community.to_string()])?;
        }
        writer.flush()?;
        Ok(())
    })
    .map_err(|e| fail(&e))
}
