//! Scores a clustering of accounts against ground truth.
//!
//! ```text
//! cargo run --release --example score -- --truth truth.csv --clusters clusters.csv
//! ```
//!
//! * `truth.csv`: header `account,operator[,role]` (extra columns are ignored). When a `role`
//!   column is present, operators whose accounts have role `ring` or `evasive_ring` are the
//!   rings; otherwise every operator with at least 3 accounts is.
//! * `clusters.csv`: header `account,cluster`; the cluster may be any string or number.
//!
//! Prints one JSON line with every score plus `missing` (truth accounts absent from the
//! clusters file, scored as singletons) and `unknown` (clustered accounts absent from the truth,
//! ignored). Bad input prints one line naming the file, line and field
//! (`truth.csv:7: field account: duplicate account "s1"`), and exits with code 2. Lines may end
//! in LF, CRLF or CR; a byte-order mark before the header is dropped.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::check::place;
use sellerlink::score::{score, score_with_rings};

mod common;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Score a clustering of accounts against ground truth")]
struct Args {
    /// Ground truth CSV: `account,operator[,role]`.
    #[arg(long)]
    truth: PathBuf,
    /// Predicted clusters CSV: `account,cluster`.
    #[arg(long)]
    clusters: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// An open CSV file with its header and the positions of the wanted columns.
struct Table {
    reader: csv::Reader<common::check::Normalized<std::fs::File>>,
    lines: common::check::RecordLines,
    headers: csv::StringRecord,
    columns: Vec<Option<usize>>,
    path: PathBuf,
}

/// Opens a CSV file with a header row and returns the reader and the positions of `wanted`
/// columns (`None` for optional columns that are absent). Lines may end in LF, CRLF or CR, and
/// a byte-order mark before the header is dropped.
fn open(path: &Path, required: &[&str], optional: &[&str]) -> Result<Table, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let input = common::check::Normalized::new(file);
    let lines = input.lines();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| describe(path, &csv::StringRecord::new(), &e))?.clone();
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut columns = Vec::new();
    for name in required {
        match find(name) {
            Some(i) => columns.push(Some(i)),
            None => {
                let why = format!("missing column (header must contain {})", required.join(","));
                return Err(place(path, 1, Some(name), why));
            }
        }
    }
    columns.extend(optional.iter().map(|name| find(name)));
    Ok(Table { reader, lines, headers, columns, path: path.to_path_buf() })
}

impl Table {
    /// The next row and its line, or `None` at the end.
    fn next(&mut self, row: &mut csv::StringRecord) -> Result<Option<u64>, String> {
        if !self.reader.read_record(row).map_err(|e| describe(&self.path, &self.headers, &e))? {
            return Ok(None);
        }
        Ok(Some(self.lines.line_of(row.as_byte_record(), self.reader.position())))
    }
}

/// A CSV error as `FILE:LINE: field F: problem`, naming the field when it can.
fn describe(path: &Path, headers: &csv::StringRecord, e: &csv::Error) -> String {
    let name = |i: usize| headers.get(i).unwrap_or("?").to_owned();
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            let (field, problem) = if len < expected_len {
                (name(*len as usize), "missing")
            } else {
                (format!("#{}", expected_len + 1), "unexpected")
            };
            place(
                path,
                line,
                Some(&field),
                format!("{problem} (expected {expected_len} fields, found {len})"),
            )
        }
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            place(path, line, Some(&name(err.field())), "not valid UTF-8")
        }
        _ => match e.position() {
            Some(p) => place(path, p.line(), None, e),
            None => format!("{}: {e}", path.display()),
        },
    }
}

/// Reads field `column` of `record` (on `line`), rejecting empty values.
fn field<'r>(
    path: &Path,
    record: &'r csv::StringRecord,
    line: u64,
    column: usize,
    name: &str,
) -> Result<&'r str, String> {
    match record.get(column) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(place(path, line, Some(name), "empty")),
    }
}

/// Interns a label string as a dense `u64`.
fn intern(labels: &mut HashMap<String, u64>, label: &str) -> u64 {
    if let Some(&id) = labels.get(label) {
        return id;
    }
    let id = labels.len() as u64;
    labels.insert(label.to_owned(), id);
    id
}

fn run(args: &Args) -> Result<String, String> {
    let start = Instant::now();

    // 1. Truth: one row per account, operator labels interned to dense ids.
    let path = args.truth.as_path();
    let mut table = open(path, &["account", "operator"], &["role"])?;
    let cols = &table.columns;
    let (c_account, c_operator, c_role) = (cols[0].unwrap_or(0), cols[1].unwrap_or(1), cols[2]);
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut operators = HashMap::new();
    let mut truth = Vec::new();
    let mut is_ring = Vec::new();
    let mut row = csv::StringRecord::new();
    while let Some(line) = table.next(&mut row)? {
        let account = field(path, &row, line, c_account, "account")?;
        let operator = field(path, &row, line, c_operator, "operator")?;
        let ring = match c_role {
            Some(c) => matches!(field(path, &row, line, c, "role")?, "ring" | "evasive_ring"),
            None => false,
        };
        match index.entry(account.to_owned()) {
            Entry::Occupied(_) => {
                return Err(place(
                    path,
                    line,
                    Some("account"),
                    format_args!("duplicate account {account:?}"),
                ));
            }
            Entry::Vacant(v) => {
                v.insert(truth.len());
            }
        }
        truth.push(intern(&mut operators, operator));
        is_ring.push(ring);
    }

    // 2. Clusters: accounts missing from the file become singletons; unknown ones are counted.
    let path = args.clusters.as_path();
    let mut table = open(path, &["account", "cluster"], &[])?;
    let cols = &table.columns;
    let (c_account, c_cluster) = (cols[0].unwrap_or(0), cols[1].unwrap_or(1));
    let mut clusters = HashMap::new();
    let mut predicted: Vec<Option<u64>> = vec![None; truth.len()];
    let mut unknown = 0u64;
    while let Some(line) = table.next(&mut row)? {
        let account = field(path, &row, line, c_account, "account")?;
        let cluster = field(path, &row, line, c_cluster, "cluster")?;
        let Some(&i) = index.get(account) else {
            unknown += 1;
            continue;
        };
        if predicted[i].is_some() {
            return Err(place(path, line, Some("account"), format_args!("duplicate account {account:?}")));
        }
        predicted[i] = Some(intern(&mut clusters, cluster));
    }
    let mut next = clusters.len() as u64;
    let mut missing = 0u64;
    let predicted: Vec<u64> = predicted
        .into_iter()
        .map(|p| {
            p.unwrap_or_else(|| {
                missing += 1;
                next += 1;
                next - 1
            })
        })
        .collect();

    // 3. Score: the role column, when present, says which operators are rings.
    let scores = if c_role.is_some() {
        score_with_rings(&truth, &predicted, &is_ring)
    } else {
        score(&truth, &predicted)
    }
    .map_err(|e| format!("{}: {e}", args.truth.display()))?;

    Ok(serde_json::json!({
        "accounts": scores.accounts,
        "pairwise_precision": scores.pairwise_precision,
        "pairwise_recall": scores.pairwise_recall,
        "pairwise_f1": scores.pairwise_f1,
        "adjusted_rand": scores.adjusted_rand,
        "ring_recall": scores.ring_recall,
        "ring_purity": scores.ring_purity,
        "rings": scores.rings,
        "rings_whole_and_pure": scores.rings_whole_and_pure,
        "missing": missing,
        "unknown": unknown,
        "elapsed_ms": start.elapsed().as_millis() as u64,
    })
    .to_string())
}
