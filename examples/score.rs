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
//! ignored). Bad input prints one line naming the file, line and field, and exits with code 2.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use sellerlink::score::{score, score_with_rings};

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
    reader: csv::Reader<std::fs::File>,
    headers: csv::StringRecord,
    columns: Vec<Option<usize>>,
}

/// Opens a CSV file with a header row and returns the reader and the positions of `wanted`
/// columns (`None` for optional columns that are absent).
fn open(path: &Path, required: &[&str], optional: &[&str]) -> Result<Table, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader.headers().map_err(|e| describe(path, &csv::StringRecord::new(), &e))?.clone();
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut columns = Vec::new();
    for name in required {
        match find(name) {
            Some(i) => columns.push(Some(i)),
            None => {
                return Err(format!(
                    "{} line 1: missing column `{name}` (header must contain {})",
                    path.display(),
                    required.join(",")
                ));
            }
        }
    }
    columns.extend(optional.iter().map(|name| find(name)));
    Ok(Table { reader, headers, columns })
}

/// A CSV error as `file line N: field `name`: problem`, naming the field when it can.
fn describe(path: &Path, headers: &csv::StringRecord, e: &csv::Error) -> String {
    let name = |i: usize| headers.get(i).unwrap_or("?").to_owned();
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            let (field, problem) = if len < expected_len {
                (name(*len as usize), "is missing")
            } else {
                (format!("#{}", expected_len + 1), "is unexpected")
            };
            format!(
                "{} line {line}: field `{field}` {problem} (expected {expected_len} fields, found {len})",
                path.display()
            )
        }
        csv::ErrorKind::Utf8 { pos, err } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            format!("{} line {line}: field `{}` is not valid UTF-8", path.display(), name(err.field()))
        }
        _ => match e.position() {
            Some(p) => format!("{} line {}: {e}", path.display(), p.line()),
            None => format!("{}: {e}", path.display()),
        },
    }
}

/// Reads field `column` of `record`, rejecting empty values.
fn field<'r>(
    path: &Path,
    record: &'r csv::StringRecord,
    column: usize,
    name: &str,
) -> Result<&'r str, String> {
    let line = record.position().map_or(0, csv::Position::line);
    match record.get(column) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("{} line {line}: field `{name}` is empty", path.display())),
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
    for row in table.reader.records() {
        let row = row.map_err(|e| describe(path, &table.headers, &e))?;
        let account = field(path, &row, c_account, "account")?;
        let operator = field(path, &row, c_operator, "operator")?;
        let ring = match c_role {
            Some(c) => matches!(field(path, &row, c, "role")?, "ring" | "evasive_ring"),
            None => false,
        };
        match index.entry(account.to_owned()) {
            Entry::Occupied(_) => {
                let line = row.position().map_or(0, csv::Position::line);
                return Err(format!(
                    "{} line {line}: field `account`: duplicate account {account:?}",
                    path.display()
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
    for row in table.reader.records() {
        let row = row.map_err(|e| describe(path, &table.headers, &e))?;
        let account = field(path, &row, c_account, "account")?;
        let cluster = field(path, &row, c_cluster, "cluster")?;
        let Some(&i) = index.get(account) else {
            unknown += 1;
            continue;
        };
        if predicted[i].is_some() {
            let line = row.position().map_or(0, csv::Position::line);
            return Err(format!(
                "{} line {line}: field `account`: duplicate account {account:?}",
                path.display()
            ));
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
