//! Shared plumbing for the examples: the input flags every example that reads observations
//! takes ([`InputArgs`], [`ReadArgs`]) and the one loader behind them ([`read_input`],
//! [`build_index`]), loading a CSV with a progress bar, one-line errors.
#![allow(dead_code)]

pub mod check;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sellerlink::IndexBuilder;
use sellerlink::arrow::ArrowOptions;
use sellerlink::ingest::{CsvOptions, IngestReport, read_csv};
use sellerlink::policy::LinkPolicy;

/// Large blocks on transparent huge pages: at 100M observations a build spends more on TLB
/// misses than on work without them (see the `sellerlink-hugepages` crate docs).
#[global_allocator]
static ALLOC: sellerlink_hugepages::HugePages = sellerlink_hugepages::HugePages;

/// How observations are read: the flags every example that reads observations takes, with the
/// same meaning everywhere. Flattened into an example's arguments (`#[command(flatten)]`), with
/// its own `--input` where that is optional or has a default, or as part of [`InputArgs`].
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ReadArgs {
    /// Fail on the first bad line (or Parquet row) instead of skipping and counting it; custom
    /// kinds must then be declared (--kind, or named in the --policy file).
    #[arg(long)]
    pub strict: bool,
    /// Declare a custom kind (repeatable): with --strict, a kind that is neither built in,
    /// declared, nor named in the --policy file is an error; without it, a rejected line.
    #[arg(long = "kind", value_name = "NAME")]
    pub kinds: Vec<String>,
    /// Build with the linking policy in this JSON file (as `cluster --save-policy` writes it);
    /// the custom kinds it names count as declared.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `--input` (CSV or Parquet) with the flags of [`ReadArgs`].
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Observations, CSV or Parquet (by the extension .parquet): account,kind,value[,timestamp].
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The declared custom kinds for a read: `--kind` names and `extra` (the kinds a policy file
/// names), when `--strict` or `--kind` asks for a gate; `None` lets every new kind in.
pub fn declared(read: &ReadArgs, extra: &[String]) -> Option<Vec<String>> {
    (read.strict || !read.kinds.is_empty()).then(|| read.kinds.iter().chain(extra).cloned().collect())
}

/// The Arrow and Parquet options: lenient unless `strict`, custom kinds declared or not, as for
/// CSV ([`options`]).
pub fn arrow_options(strict: bool, declared: Option<&[String]>) -> ArrowOptions {
    let options = if strict { ArrowOptions::strict() } else { ArrowOptions::lenient() };
    match declared {
        Some(kinds) => options.declare_kinds(kinds),
        None => options,
    }
}

/// Reads observations the way every example does: `--policy` applied to `builder` (its kinds
/// declared), CSV or Parquet by the extension of `path`, strict or lenient, custom kinds
/// declared with `--kind`; the report is printed on stderr. Returns the builder, the report and
/// the time the read took.
pub fn read_input(
    path: &Path,
    read: &ReadArgs,
    mut builder: IndexBuilder,
) -> Result<(IndexBuilder, IngestReport, Duration), String> {
    let mut policy_kinds = Vec::new();
    if let Some(file) = &read.policy {
        let (policy, kinds) = read_policy(file)?;
        builder = builder.policy(policy);
        policy_kinds = kinds;
    }
    let declared = declared(read, &policy_kinds);
    let (report, took) = if sellerlink::parquet::is_parquet_path(path) {
        let start = Instant::now();
        let options = arrow_options(read.strict, declared.as_deref());
        let report = sellerlink::parquet::read_parquet_path(path, &options, &mut builder)
            .map_err(|e| e.to_string())?;
        print_report(path, &report);
        (report, start.elapsed())
    } else {
        load_declared(path, read.strict, declared.as_deref(), &mut builder)?
    };
    Ok((builder, report, took))
}

/// A policy file and the custom kinds it names (declared kinds for --strict), or a one-line
/// error naming it.
pub fn read_policy(path: &Path) -> Result<(LinkPolicy, Vec<String>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = |e: serde_json::Error| format!("{}: not a linking policy: {e}", path.display());
    let policy: LinkPolicy = serde_json::from_str(&text).map_err(bad)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    let mut kinds = Vec::new();
    for table in [&value["kinds"], &value["learned"]["kinds"]] {
        if let Some(map) = table.as_object() {
            kinds.extend(map.keys().cloned());
        }
    }
    Ok((policy, kinds))
}

/// Files above this size get a progress bar on stderr.
const BAR_MIN_BYTES: u64 = 32 << 20;

/// Prints `error: ...` on stderr and exits with status 2.
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// Reads a CSV of observations into `builder`, with a byte progress bar for large files; in
/// strict mode custom kinds must be among `declared`, and with `declared` given they must be in
/// lenient mode too.
pub fn load(
    path: &Path,
    strict: bool,
    builder: &mut IndexBuilder,
) -> Result<(IngestReport, Duration), String> {
    load_declared(path, strict, None, builder)
}

/// The options the examples read with: strict or lenient, custom kinds declared or not.
pub fn options(strict: bool, declared: Option<&[String]>) -> CsvOptions {
    let options = if strict { CsvOptions::strict() } else { CsvOptions::lenient() };
    match declared {
        Some(kinds) => options.declare_kinds(kinds),
        None => options,
    }
}

/// [`load`], with declared custom kinds (see [`options`]).
pub fn load_declared(
    path: &Path,
    strict: bool,
    declared: Option<&[String]>,
    builder: &mut IndexBuilder,
) -> Result<(IngestReport, Duration), String> {
    let start = Instant::now();
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = if size >= BAR_MIN_BYTES { ProgressBar::new(size) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} loading {msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(path.display().to_string());
    let reader = bar.wrap_read(BufReader::with_capacity(1 << 20, file));
    let options = options(strict, declared).size_hint(size);
    let report = read_csv(reader, path, &options, builder).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    print_report(path, &report);
    Ok((report, start.elapsed()))
}

/// Prints on stderr what a read should not keep quiet: rejections by reason with examples, new
/// kinds that look like misspelt built-in kinds, and warnings (a likely column mix-up). For a
/// Parquet file the places are 0-based input rows (`obs.parquet: input row 17: ...`).
pub fn print_report(path: &Path, report: &IngestReport) {
    let parquet = sellerlink::parquet::is_parquet_path(path);
    let place = |line: u64, field: Option<&str>, msg: &dyn std::fmt::Display| {
        if parquet {
            let field = field.map(|f| format!("field {f}: ")).unwrap_or_default();
            format!("{}: input row {line}: {field}{msg}", path.display())
        } else {
            check::place(path, line, field, msg)
        }
    };
    for (line, msg) in &report.warnings {
        eprintln!("warning: {}", place(*line, None, msg));
    }
    if report.rejected > 0 {
        let what = if parquet { "rows" } else { "lines" };
        eprintln!("{}: rejected {} of {} {what}:", path.display(), report.rejected, report.lines_read);
        for (reason, n) in &report.by_reason {
            eprintln!("  {n:>10}  {reason}");
        }
        for (_, msg) in report.examples.iter().take(3) {
            eprintln!("  e.g. {msg}");
        }
    }
    for k in &report.new_kinds {
        if let Some(s) = &k.suggestion {
            let why = format!("new kind {:?} (did you mean {s}?), read as a weak custom kind", k.name);
            eprintln!("warning: {}", place(k.line, Some("kind"), &why));
        }
    }
}

/// Milliseconds, for JSON.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// A spinner on stderr that names the pipeline stage running.
pub struct StageSpinner(pub ProgressBar);

impl StageSpinner {
    /// A spinner, shown only when `show`.
    pub fn new(show: bool) -> Self {
        let bar = if show { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
        bar.enable_steady_tick(Duration::from_millis(120));
        StageSpinner(bar)
    }
}

impl sellerlink::Progress for StageSpinner {
    fn stage(&mut self, name: &'static str) {
        self.0.set_message(name);
    }
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads the input as [`read_input`] does and builds the index (a spinner on stderr names the
/// stage); exits 2 with a one-line error on bad input.
pub fn build_index(input: &InputArgs) -> sellerlink::Index {
    let (builder, _, _) =
        read_input(&input.input, &input.read, IndexBuilder::new()).unwrap_or_else(|e| fail(e));
    let mut spinner = StageSpinner::new(true);
    let index = builder.build_with(&mut spinner).unwrap_or_else(|e| fail(e));
    spinner.0.finish_and_clear();
    index
}

/// The id of a named account, or exit 2 naming it.
pub fn account_or_fail(index: &sellerlink::Index, name: &str) -> sellerlink::AccountId {
    index.account(name).unwrap_or_else(|| fail(format!("unknown account {name:?}")))
}

/// A timestamp as RFC 3339 UTC (seconds), for terminal output.
pub fn rfc3339(t: i64) -> String {
    sellerlink::time::format_rfc3339(t)
}
