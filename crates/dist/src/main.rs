//! `sellerlink-dist`: the library's `cluster`, on timely-dataflow and differential-dataflow.
//!
//! ```text
//! sellerlink-dist --input OBS.csv --output DIR [--level operators|components] [-w WORKERS]
//!     [-n PROCESSES -p INDEX -h HOSTFILE] [--batch FILE]... [--remove FILE]... [--expire-before T]...
//!     [--policy FILE] [--strict] [--kind NAME]... [--cut-incoherent]
//! ```
//!
//! `-w`, `-n`, `-p` and `-h` are timely's own (`-h` names a file of `host:port` lines). Each
//! process reads its share of every input and writes `DIR/part-P.csv` (`account,cluster`) for
//! the accounts its workers own; a cluster's label is its smallest account name, the same in
//! every part. Inputs are CSV, or Parquet by the extension `.parquet` (each process reads every
//! n-th row group). Each `--batch` file, `--remove` file (accounts to remove, in its `account`
//! column) and `--expire-before` cutoff (unix seconds) is a later epoch, in the order given;
//! every epoch prints its time.

use std::io::Write;
use std::path::PathBuf;

use sellerlink::Level;
use sellerlink::ingest::CsvOptions;
use sellerlink::policy::LinkPolicy;
use sellerlink_dist::Batch;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = getopts::Options::new();
    timely::Config::install_options(&mut opts);
    opts.optmulti("", "input", "observations, CSV: account,kind,value[,timestamp] (repeatable)", "FILE");
    opts.optopt("", "output", "directory for part-P.csv", "DIR");
    opts.optopt("", "level", "operators (default) or components", "LEVEL");
    opts.optmulti(
        "",
        "batch",
        "a file of further observations, applied as a later epoch (repeatable)",
        "FILE",
    );
    opts.optmulti(
        "",
        "remove",
        "a CSV file whose account column names accounts to remove, as a later epoch (repeatable)",
        "FILE",
    );
    opts.optmulti(
        "",
        "expire-before",
        "drop timestamped observations older than T (unix seconds), as a later epoch (repeatable)",
        "T",
    );
    opts.optopt("", "policy", "the linking policy, JSON (as `cluster --save-policy` writes it)", "FILE");
    opts.optflag("", "strict", "fail on the first bad line instead of skipping and counting it");
    opts.optmulti("", "kind", "declare a custom kind (repeatable)", "NAME");
    opts.optflag(
        "",
        "cut-incoherent",
        "also cut pieces at artifacts that coherence rejects (smaller pieces, more work)",
    );
    opts.optflag("", "help", "print this help");
    let m = opts.parse(&args).unwrap_or_else(|e| fail(format!("{e}\n{}", opts.usage("sellerlink-dist"))));
    if m.opt_present("help") {
        println!("{}", opts.usage("sellerlink-dist --input OBS.csv --output DIR"));
        return;
    }
    let config = timely::Config::from_matches(&m).unwrap_or_else(|e| fail(e));
    let process: usize = m.opt_get_default("p", 0).unwrap_or_else(|e| fail(e));
    let inputs: Vec<PathBuf> = m.opt_strs("input").into_iter().map(PathBuf::from).collect();
    if inputs.is_empty() {
        fail("--input is required");
    }
    let output = PathBuf::from(m.opt_str("output").unwrap_or_else(|| fail("--output is required")));
    let level = match m.opt_str("level").as_deref() {
        None | Some("operators") => Level::Operators,
        Some("components") => Level::Components,
        Some(other) => fail(format!("--level {other}: expected operators or components")),
    };
    let (policy, policy_kinds) = match m.opt_str("policy") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
            let policy: LinkPolicy = serde_json::from_str(&text)
                .unwrap_or_else(|e| fail(format!("{path}: not a linking policy: {e}")));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let mut kinds = Vec::new();
            for table in [&value["kinds"], &value["learned"]["kinds"]] {
                if let Some(map) = table.as_object() {
                    kinds.extend(map.keys().cloned());
                }
            }
            (policy, kinds)
        }
        None => (LinkPolicy::new(), Vec::new()),
    };
    let strict = m.opt_present("strict");
    let declared: Vec<String> = m.opt_strs("kind");
    let mut options = if strict { CsvOptions::strict() } else { CsvOptions::lenient() };
    if strict || !declared.is_empty() {
        options = options.declare_kinds(declared.iter().chain(&policy_kinds));
    }
    let job = sellerlink_dist::Job {
        inputs,
        batches: batches(&m),
        level,
        policy,
        options,
        cut_incoherent: m.opt_present("cut-incoherent"),
    };
    let outcome = sellerlink_dist::run(config, job).unwrap_or_else(|e| fail(e));
    for (epoch, took) in outcome.epochs.iter().enumerate() {
        eprintln!("process {process}: epoch {epoch} took {:.3} s", took.as_secs_f64());
    }
    if outcome.report.rejected > 0 {
        eprintln!(
            "process {process}: skipped {} bad lines of {}",
            outcome.report.rejected, outcome.report.records
        );
    }
    std::fs::create_dir_all(&output).unwrap_or_else(|e| fail(format!("{}: {e}", output.display())));
    let path = output.join(format!("part-{process}.csv"));
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        out.write_all(b"account,cluster\n")?;
        let mut csv = String::new();
        for (account, label) in &outcome.rows {
            csv.clear();
            csv.push_str(&quote(account));
            csv.push(',');
            csv.push_str(&quote(label));
            csv.push('\n');
            out.write_all(csv.as_bytes())?;
        }
        out.flush()
    };
    write().unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    println!(
        "{}",
        serde_json::json!({
            "process": process,
            "accounts": outcome.rows.len(),
            "largest_piece": outcome.largest_piece,
            "epochs_s": outcome.epochs.iter().map(|d| d.as_secs_f64()).collect::<Vec<_>>(),
            "records": outcome.report.records,
            "rejected": outcome.report.rejected,
            "output": path.display().to_string(),
        })
    );
}

/// The later epochs, in the order the command line gives them.
fn batches(m: &getopts::Matches) -> Vec<Batch> {
    let mut at: Vec<(usize, Batch)> = Vec::new();
    at.extend(m.opt_strs_pos("batch").into_iter().map(|(i, f)| (i, Batch::Add(f.into()))));
    at.extend(m.opt_strs_pos("remove").into_iter().map(|(i, f)| (i, Batch::RemoveAccounts(f.into()))));
    for (i, t) in m.opt_strs_pos("expire-before") {
        let cutoff: i64 =
            t.trim().parse().unwrap_or_else(|_| fail(format!("--expire-before {t}: not unix seconds")));
        at.push((i, Batch::ExpireBefore(cutoff)));
    }
    at.sort_by_key(|(i, _)| *i);
    at.into_iter().map(|(_, b)| b).collect()
}

/// A CSV field, quoted when it must be.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
