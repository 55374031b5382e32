//! Shared plumbing for the examples: loading a CSV with a progress bar, one-line errors.
#![allow(dead_code)]

pub mod check;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sellerlink::IndexBuilder;
use sellerlink::ingest::{CsvOptions, IngestReport, read_csv};

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
/// kinds that look like misspelt built-in kinds, and warnings (a likely column mix-up).
pub fn print_report(path: &Path, report: &IngestReport) {
    for (line, msg) in &report.warnings {
        eprintln!("warning: {}", check::place(path, *line, None, msg));
    }
    if report.rejected > 0 {
        eprintln!("{}: rejected {} of {} lines:", path.display(), report.rejected, report.lines_read);
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
            eprintln!("warning: {}", check::place(path, k.line, Some("kind"), why));
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

/// Loads a CSV and builds the index (lenient, with the rejection summary on stderr).
pub fn build_index(path: &Path) -> sellerlink::Index {
    let mut builder = IndexBuilder::new();
    load(path, false, &mut builder).unwrap_or_else(|e| fail(e));
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
