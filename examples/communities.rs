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
//! the file, the line and the field, with exit code 2.
//!
//! This is a contract: the peer comparison (`bench/peers/compare_leiden.py`) and other tools
//! call it exactly so.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufReader, BufWriter, Write};
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
    /// Resolution γ of the quality function.
    #[arg(long, default_value_t = 1.0)]
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
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, handle));

    // Locate the columns by name; the weight column is optional.
    let headers = reader
        .headers()
        .map_err(|e| Failure::input(format!("{file}: line 1: cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let missing = |name: &str| Failure::input(format!("{file}: line 1: field {name}: missing column"));
    let source_col = column("source").ok_or_else(|| missing("source"))?;
    let target_col = column("target").ok_or_else(|| missing("target"))?;
    let weight_col = column("weight");

    // Node names get ids in first-seen order.
    let mut ids: HashMap<Box<str>, u32, BuildHasherDefault<NameHasher>> = HashMap::default();
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
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Failure::input(format!("{file}: line {line}: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |col: usize, name: &str| {
            record
                .get(col)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Failure::input(format!("{file}: line {line}: field {name}: missing value")))
        };
        let too_many = || Failure::input(format!("{file}: line {line}: too many distinct nodes"));
        let source = intern(field(source_col, "source")?).ok_or_else(too_many)?;
        let target = intern(field(target_col, "target")?).ok_or_else(too_many)?;
        let weight = match weight_col.and_then(|c| record.get(c)).filter(|s| !s.is_empty()) {
            None => 1.0,
            Some(text) => parse_weight(text)
                .map_err(|why| Failure::input(format!("{file}: line {line}: field weight: {why}")))?,
        };
        edges.push((source, target, weight));
    }
    Ok(EdgeList { names, edges })
}

/// A fast hasher for node names (word-at-a-time multiply-rotate, SplitMix finaliser): the names
/// come from a local file, so the standard library's flood-resistant (and slower) SipHash buys
/// nothing here.
#[derive(Default)]
struct NameHasher(u64);

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 59));
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A weight must be a finite, non-negative number.
fn parse_weight(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        Ok(_) => Err(format!("weight {text:?} must be finite and non-negative")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// Writes the `node,community` CSV (csv quoting keeps odd node names intact).
fn write_membership(path: &Path, names: &[String], membership: &[u32]) -> Result<(), Failure> {
    let file = path.display();
    let fail = |e: &dyn std::fmt::Display| Failure { message: format!("{file}: cannot write: {e}"), code: 1 };
    let handle = File::create(path).map_err(|e| fail(&e))?;
    let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, handle));
    writer.write_record(["node", "community"]).map_err(|e| fail(&e))?;
    for (name, &community) in names.iter().zip(membership) {
        writer.write_record([name.as_str(), &community.to_string()]).map_err(|e| fail(&e))?;
    }
    let mut inner = writer.into_inner().map_err(|e| fail(&e))?;
    inner.flush().map_err(|e| fail(&e))
}
