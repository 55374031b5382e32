//! Find communities in an edge list with sellerlink's Leiden engine.
//!
//! ```text
//! cargo run --release --example communities -- --edges EDGES.csv --output OUT.csv \
//!     [--resolution R] [--seed S] [--quality modularity|cpm] [--max-iterations N] \
//!     [--tolerance T]
//! ```
//!
//! Iterations stop once one raises the quality by less than `T` times the total edge weight
//! (default `sellerlink::leiden::DEFAULT_TOLERANCE`, 1e-4, i.e. 10⁻⁴ in modularity), or changes
//! nothing, or `N` iterations have run; `--tolerance 0` iterates until an iteration changes
//! nothing (the default before the tolerance existed).
//!
//! `EDGES.csv` has a header naming a `source` and a `target` column and optionally a `weight`
//! column (default weight 1.0; an empty weight cell also means 1.0). Node ids are arbitrary
//! strings. The program writes `node,community` for every node to `OUT.csv` and prints exactly
//! one JSON line of statistics on stdout. Bad input is reported on stderr as one line naming
//! the file, the line and the field (`EDGES.csv:7: field weight: ...`), with exit code 2: a
//! resolution that is not a finite number of at least 0, a weight that is not a finite
//! non-negative number, and weights that sum past 1e150 (where the quality sums overflow) are
//! refused, and so is an input that is not a regular file (a device or a FIFO). Node names
//! are hashed with per-process random keys (a crafted edge list cannot flood the table), and
//! node ids follow first appearance, so the output does not depend on the keys. The output
//! file is written whole or not at all.
//!
//! This is a contract: the peer comparison (`bench/peers/compare_leiden.py`) and other tools
//! call it exactly so.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use sellerlink::leiden::{DEFAULT_TOLERANCE, Leiden, Quality, WeightedGraph};

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
    /// Cap on Leiden iterations (0: no cap but the tolerance and a safety cap of 256).
    #[arg(long, default_value_t = 0)]
    max_iterations: u32,
    /// Quality-gain tolerance: iterations stop once one gains less than this fraction of the
    /// total edge weight (0: until an iteration changes nothing).
    #[arg(long, default_value_t = DEFAULT_TOLERANCE, value_parser = parse_tolerance)]
    tolerance: f64,
    /// Quality function to maximise.
    #[arg(long, value_enum, default_value_t = QualityArg::Modularity)]
    quality: QualityArg,
}

/// A finite, non-negative `--tolerance` (anything else is a usage error, exit code 2).
fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        Ok(_) => Err("must be a finite number >= 0".to_string()),
        Err(e) => Err(e.to_string()),
    }
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
struct EdgeList<'a> {
    names: Names<'a>,
    edges: Vec<(u32, u32, f64)>,
}

/// Node names in id order.
enum Names<'a> {
    /// From the fast reader: every name is a run of bytes of the file ([`NameKey`]s).
    Keys(&'a [u8], Vec<u64>),
    /// From the general CSV reader.
    Strings(Vec<String>),
}

impl Names<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Keys(_, keys) => keys.len(),
            Self::Strings(names) => names.len(),
        }
    }
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
    let file = args.edges.display();
    // Only a regular file: a device (/dev/zero) would never end, a FIFO could block forever.
    let meta =
        std::fs::metadata(&args.edges).map_err(|e| Failure::input(format!("{file}: cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(Failure::input(format!("{file}: not a regular file")));
    }
    let bytes =
        std::fs::read(&args.edges).map_err(|e| Failure::input(format!("{file}: cannot open: {e}")))?;
    let list = read_edges(&args.edges, &bytes)?;
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
        .tolerance(args.tolerance)
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
///
/// The header always goes through the `csv` crate. The body takes a fast path when it can:
/// [`read_fast`] parses it in parallel chunks and hands back `None` at the first thing it does
/// not handle exactly as the `csv` crate would (a quote, a stray carriage return, invalid
/// UTF-8, a missing or bad value); the body is then read again by the general reader below,
/// which reports any error with its line and field. Both give the same ids and edges.
fn read_edges<'a>(path: &Path, bytes: &'a [u8]) -> Result<EdgeList<'a>, Failure> {
    // The fast path reads the bytes as they are; a byte-order mark or a carriage return goes
    // to the general reader, which reads line ends of any kind as the csv parser expects.
    if !bytes.starts_with(b"\xEF\xBB\xBF") && !bytes.contains(&b'\r') {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(bytes);
        if let Ok(headers) = reader.headers() {
            let headers = headers.clone();
            let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
            if let (Some(source), Some(target)) = (column("source"), column("target")) {
                let columns = Columns { source, target, weight: column("weight") };
                let body = usize::try_from(reader.position().byte()).unwrap_or(bytes.len()).min(bytes.len());
                if let Some(list) = read_fast(bytes, body, columns) {
                    return Ok(list);
                }
            }
        }
    }
    read_general(path, bytes)
}

/// The general reader: every row through the `csv` crate, every error naming its line and
/// field.
fn read_general<'a>(path: &Path, bytes: &'a [u8]) -> Result<EdgeList<'a>, Failure> {
    let input = common::check::Normalized::new(bytes);
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
    Ok(EdgeList { names: Names::Strings(names), edges })
}

/// Where the fields are in a row.
#[derive(Clone, Copy)]
struct Columns {
    source: usize,
    target: usize,
    weight: Option<usize>,
}

/// A node name of the fast reader, packed in a `u64`: a canonical decimal number below 2^32 is
/// itself (names "7" and "7" are one node, "07" is another name); any other name is
/// `NAMED | offset << 24 | length`, its bytes in the file.
type NameKey = u64;
const NAMED: u64 = 1 << 63;
const MAX_NAME_LEN: usize = (1 << 24) - 1;
const MAX_OFFSET: usize = (1 << 39) - 1;

/// The bytes of a name key.
fn key_bytes(bytes: &[u8], key: NameKey) -> Option<&[u8]> {
    let offset = ((key & !NAMED) >> 24) as usize;
    let len = (key & MAX_NAME_LEN as u64) as usize;
    bytes.get(offset..offset + len)
}

/// The fast reader of the body (`bytes[body..]`): chunks of lines parsed in parallel into name
/// keys and weights, then names numbered in first-seen order in one pass (a dense table for
/// numeric names, a hash table for the others). `None` when the body needs the general reader.
fn read_fast(bytes: &[u8], body: usize, columns: Columns) -> Option<EdgeList<'_>> {
    if bytes.len() > MAX_OFFSET || bytes[body..].contains(&b'"') {
        return None;
    }
    // Chunks end at line ends; a few per thread for balance.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pieces = if bytes.len() - body < 1 << 20 { 1 } else { threads * 4 };
    let mut bounds = vec![body];
    for i in 1..pieces {
        let guess = (body + (bytes.len() - body) * i / pieces).max(*bounds.last()?);
        let end = bytes[guess..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| guess + p + 1);
        bounds.push(end);
    }
    bounds.push(bytes.len());
    let ranges: Vec<(usize, usize)> =
        bounds.windows(2).map(|w| (w[0], w[1])).filter(|(a, b)| a < b).collect();
    let parsed: Vec<Option<Vec<(NameKey, NameKey, f64)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            ranges.iter().map(|&(lo, hi)| scope.spawn(move || parse_chunk(bytes, lo, hi, columns))).collect();
        handles.into_iter().map(|h| h.join().ok().flatten()).collect()
    });
    let chunks: Vec<Vec<(NameKey, NameKey, f64)>> = parsed.into_iter().collect::<Option<_>>()?;

    // Number the names in first-seen order.
    let edge_count: usize = chunks.iter().map(Vec::len).sum();
    let max_number = chunks
        .iter()
        .flat_map(|c| c.iter().flat_map(|&(s, t, _)| [s, t]))
        .filter(|&k| k & NAMED == 0)
        .max()
        .unwrap_or(0);
    // A dense table when the numbers are not too sparse; a hash table otherwise.
    let dense_limit = (4 * edge_count as u64).max(1 << 16);
    let mut dense: Vec<u32> =
        if max_number < dense_limit { vec![u32::MAX; max_number as usize + 1] } else { Vec::new() };
    // Keyed at random per process, so a crafted edge list cannot flood the tables.
    let mut by_name: HashMap<&[u8], u32, ahash::RandomState> =
        HashMap::with_hasher(ahash::RandomState::new());
    let mut by_number: HashMap<u64, u32, ahash::RandomState> =
        HashMap::with_hasher(ahash::RandomState::new());
    let mut keys: Vec<NameKey> = Vec::new();
    let mut edges: Vec<(u32, u32, f64)> = Vec::with_capacity(edge_count);
    let mut intern = |key: NameKey| -> Option<u32> {
        let next = u32::try_from(keys.len()).ok();
        let slot = if key & NAMED != 0 {
            by_name.entry(key_bytes(bytes, key)?).or_insert(u32::MAX)
        } else if let Some(slot) = dense.get_mut(key as usize) {
            slot
        } else {
            by_number.entry(key).or_insert(u32::MAX)
        };
        if *slot == u32::MAX {
            *slot = next?;
            keys.push(key);
        }
        Some(*slot)
    };
    // Weights that sum past the bound go to the general reader, which names the line.
    let mut total = 0.0f64;
    for chunk in &chunks {
        for &(_, _, w) in chunk {
            common::check::add_weight(&mut total, w).ok()?;
        }
    }
    for chunk in chunks {
        for (s, t, w) in chunk {
            let s = intern(s)?;
            let t = intern(t)?;
            edges.push((s, t, w));
        }
    }
    Some(EdgeList { names: Names::Keys(bytes, keys), edges })
}

/// Parses the lines of `bytes[lo..hi]` into `(source, target, weight)`; `None` at anything the
/// general reader must handle (or report).
fn parse_chunk(bytes: &[u8], lo: usize, hi: usize, columns: Columns) -> Option<Vec<(NameKey, NameKey, f64)>> {
    let text = std::str::from_utf8(&bytes[lo..hi]).ok()?;
    let wanted = columns.source.max(columns.target).max(columns.weight.unwrap_or(0));
    let mut out = Vec::with_capacity(text.len() / 12);
    let mut line_start = lo;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue; // the csv crate skips empty lines too
        }
        if line.as_bytes().contains(&b'\r') {
            return None; // a lone carriage return ends a record for the csv crate
        }
        let (mut source, mut target, mut weight) = (None, None, None);
        let mut field_start = start;
        for (i, field) in line.split(',').enumerate() {
            let at = field_start;
            field_start += field.len() + 1;
            if i > wanted {
                break;
            }
            let trimmed = field.trim();
            let offset = at + (trimmed.as_ptr() as usize - field.as_ptr() as usize);
            if i == columns.source {
                source = Some((trimmed, offset));
            }
            if i == columns.target {
                target = Some((trimmed, offset));
            }
            if Some(i) == columns.weight {
                weight = Some(trimmed);
            }
        }
        let key = |(name, offset): (&str, usize)| -> Option<NameKey> {
            if name.is_empty() || name.len() > MAX_NAME_LEN {
                return None;
            }
            let canonical = name.len() <= 10
                && name.bytes().all(|b| b.is_ascii_digit())
                && (name == "0" || !name.starts_with('0'));
            match name.parse::<u32>() {
                Ok(n) if canonical => Some(u64::from(n)),
                _ => Some(NAMED | (offset as u64) << 24 | name.len() as u64),
            }
        };
        let weight = match weight.filter(|w| !w.is_empty()) {
            None => 1.0,
            Some(text) => parse_weight(text).ok()?,
        };
        out.push((key(source?)?, key(target?)?, weight));
    }
    Some(out)
}

/// A weight must be a finite, non-negative number.
fn parse_weight(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        Ok(_) => Err(format!("weight {text:?} must be finite and non-negative")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

/// Writes the `node,community` CSV (csv quoting keeps odd node names intact; names from the
/// fast reader never need it: they hold no quote, comma or line break).
fn write_membership(path: &Path, names: &Names<'_>, membership: &[u32]) -> Result<(), Failure> {
    let file = path.display();
    let fail = |e: &dyn std::fmt::Display| Failure { message: format!("{file}: cannot write: {e}"), code: 1 };
    sellerlink::fs::write_atomic(path, |out| -> Result<(), csv::Error> {
        match names {
            Names::Keys(bytes, keys) => {
                out.write_all(b"node,community\n")?;
                let mut line: Vec<u8> = Vec::with_capacity(64);
                for (&key, &community) in keys.iter().zip(membership) {
                    line.clear();
                    if key & NAMED == 0 {
                        push_number(&mut line, key);
                    } else {
                        line.extend_from_slice(key_bytes(bytes, key).unwrap_or_default());
                    }
                    line.push(b',');
                    push_number(&mut line, u64::from(community));
                    line.push(b'\n');
                    out.write_all(&line)?;
                }
            }
            Names::Strings(names) => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(["node", "community"])?;
                for (name, &community) in names.iter().zip(membership) {
                    writer.write_record([name.as_str(), &community.to_string()])?;
                }
                writer.flush()?;
            }
        }
        Ok(())
    })
    .map_err(|e| fail(&e))
}

/// Appends the decimal digits of `x`.
fn push_number(out: &mut Vec<u8>, mut x: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}
