//! Ingest: observations from CSV files, streamed, every error placed by file, line and field.
//!
//! The header names the columns, in any order: `account`, `kind`, `value` are required,
//! `timestamp` (or `time`) is optional; other columns are ignored. A timestamp is unix seconds
//! or RFC 3339 (see [`crate::time`]); an empty timestamp means none. The reader streams: it
//! holds one record at a time, so memory grows with the graph, not the file. A line longer than
//! [`MAX_LINE`] bytes is refused without being buffered whole.
//!
//! In strict mode ([`CsvOptions::strict`]) the first bad line is an error. In lenient mode
//! ([`CsvOptions::lenient`]) bad lines are skipped, counted by reason and reported in the
//! [`IngestReport`] with the first few examples; nothing is dropped silently.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::builder::IndexBuilder;
use crate::error::{IngestError, Location, ObservationError};
use crate::time::parse_timestamp;

/// The longest line accepted, in bytes (16 MiB).
pub const MAX_LINE: usize = 16 << 20;

/// How many example rejections a report keeps.
pub const MAX_EXAMPLES: usize = 10;

/// Ingest options.
///
/// # Examples
///
/// ```
/// use sellerlink::ingest::CsvOptions;
/// let opts = CsvOptions::lenient().max_rejections(1000);
/// assert!(opts.is_lenient());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    lenient: bool,
    max_rejections: Option<u64>,
}

impl CsvOptions {
    /// Strict: the first bad line is an error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::ingest::CsvOptions::strict().is_lenient());
    /// ```
    pub fn strict() -> Self {
        Self { lenient: false, max_rejections: None }
    }

    /// Lenient: bad lines are skipped, counted and reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::ingest::CsvOptions::lenient().is_lenient());
    /// ```
    pub fn lenient() -> Self {
        Self { lenient: true, max_rejections: None }
    }

    /// In lenient mode, give up after this many rejections.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = sellerlink::ingest::CsvOptions::lenient().max_rejections(5);
    /// # let _ = o;
    /// ```
    pub fn max_rejections(mut self, n: u64) -> Self {
        self.max_rejections = Some(n);
        self
    }

    /// True in lenient mode.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::ingest::CsvOptions::default().is_lenient());
    /// ```
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }
}

/// What one ingest read, kept and rejected.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, ingest::{CsvOptions, read_csv}};
/// let data = "account,kind,value,timestamp\ns1,ip,1.2.3.4,1700000000\ns2,ip,nope,\n";
/// let mut b = IndexBuilder::new();
/// let report = read_csv(data.as_bytes(), "obs.csv", &CsvOptions::lenient(), &mut b)?;
/// assert_eq!((report.records, report.accepted, report.rejected), (2, 1, 1));
/// assert_eq!(report.by_reason.get("invalid ip: not an IPv4 or IPv6 address"), Some(&1));
/// assert_eq!(report.examples[0].0, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestReport {
    /// Data records read (header excluded).
    pub records: u64,
    /// Observations added.
    pub accepted: u64,
    /// Records skipped (lenient mode).
    pub rejected: u64,
    /// Rejections per reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The first rejections: line number and message.
    pub examples: Vec<(u64, String)>,
}

impl IngestReport {
    fn reject(&mut self, line: u64, reason: String, message: String) {
        self.rejected += 1;
        *self.by_reason.entry(reason).or_insert(0) += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push((line, message));
        }
    }

    /// Adds another report's counts to this one.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut a = sellerlink::ingest::IngestReport::default();
    /// a.merge(&sellerlink::ingest::IngestReport::default());
    /// assert_eq!(a.records, 0);
    /// ```
    pub fn merge(&mut self, other: &IngestReport) {
        self.records += other.records;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(k.clone()).or_insert(0) += v;
        }
        for e in &other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e.clone());
            }
        }
    }
}

/// Reads observations from a CSV file into `builder`.
///
/// # Errors
///
/// [`IngestError`] naming the file, line and field; in lenient mode only for an unreadable
/// file, a bad header or too many rejections.
///
/// # Examples
///
/// ```no_run
/// use sellerlink::{IndexBuilder, ingest::{CsvOptions, read_csv_path}};
/// let mut b = IndexBuilder::new();
/// let report = read_csv_path("data/sample.csv", &CsvOptions::strict(), &mut b)?;
/// println!("{} observations", report.accepted);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_csv_path(
    path: impl AsRef<Path>,
    options: &CsvOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, IngestError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    read_csv(BufReader::with_capacity(1 << 20, file), path, options, builder)
}

/// Reads observations from any reader; `path` names it in errors.
///
/// # Errors
///
/// As [`read_csv_path`].
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, ingest::{CsvOptions, read_csv}};
/// let data = "kind,account,value\ndevice,s1,laptop-7\ndevice,s2,LAPTOP-7\n";
/// let mut b = IndexBuilder::new();
/// read_csv(data.as_bytes(), "inline.csv", &CsvOptions::strict(), &mut b)?;
/// let index = b.build()?;
/// assert_eq!(index.clustering().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_csv<R: Read>(
    reader: R,
    path: impl AsRef<Path>,
    options: &CsvOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, IngestError> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let at = |line: u64| Location { path: path.clone(), line };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(LineLimit { inner: reader, since_newline: 0 });

    let mut record = csv::ByteRecord::new();
    let header_ok = rdr
        .read_byte_record(&mut record)
        .map_err(|e| IngestError::Header { at: at(1), reason: csv_reason(&e) })?;
    if !header_ok {
        return Err(IngestError::Header {
            at: at(1),
            reason: "empty file: expected account,kind,value[,timestamp]".into(),
        });
    }
    let cols = Columns::from_header(&record).map_err(|reason| IngestError::Header { at: at(1), reason })?;

    let mut report = IngestReport::default();
    loop {
        let line = rdr.position().line() + u64::from(rdr.position().line() == 0);
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A malformed or over-long record: the reader cannot resynchronise reliably
                // after an I/O error, so only CSV-level errors are skippable.
                let reason = csv_reason(&e);
                let line = e.position().map_or(line, csv::Position::line);
                if options.lenient && !matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    report.records += 1;
                    report.reject(line, reason.clone(), reason);
                    check_limit(&report, options, &at, line)?;
                    continue;
                }
                return Err(IngestError::Record { at: at(line), reason });
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        report.records += 1;
        if record.len() == 1 && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
            report.records -= 1; // blank line
            continue;
        }
        match cols.apply(&record, builder) {
            Ok(()) => report.accepted += 1,
            Err(fault) => {
                let (reason, err) = match fault {
                    Fault::Record(r) => {
                        (r.to_string(), IngestError::Record { at: at(line), reason: r.to_string() })
                    }
                    Fault::Observation(o) => {
                        (o.reason(), IngestError::Observation { at: at(line), source: o })
                    }
                };
                if !options.lenient {
                    return Err(err);
                }
                report.reject(line, reason, err.to_string());
                check_limit(&report, options, &at, line)?;
            }
        }
    }
    Ok(report)
}

fn check_limit(
    report: &IngestReport,
    options: &CsvOptions,
    at: &dyn Fn(u64) -> Location,
    line: u64,
) -> Result<(), IngestError> {
    match options.max_rejections {
        Some(limit) if report.rejected > limit => Err(IngestError::TooManyRejections { at: at(line), limit }),
        _ => Ok(()),
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields".into(),
        _ => e.to_string(),
    }
}

enum Fault {
    Record(&'static str),
    Observation(ObservationError),
}

struct Columns {
    account: usize,
    kind: usize,
    value: usize,
    time: Option<usize>,
}

impl Columns {
    fn from_header(h: &csv::ByteRecord) -> Result<Columns, String> {
        let find = |names: &[&str]| -> Result<Option<usize>, String> {
            let mut found = None;
            for (i, f) in h.iter().enumerate() {
                let f = std::str::from_utf8(f).map_err(|_| "not valid UTF-8".to_string())?;
                let f = f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
                if names.contains(&f.as_str()) {
                    if found.is_some() {
                        return Err(format!("column {} appears twice", names[0]));
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        };
        let need = |c: Option<usize>, name: &str| {
            c.ok_or_else(|| format!("missing column {name}: expected account,kind,value[,timestamp]"))
        };
        let account = need(find(&["account"])?, "account")?;
        let kind = need(find(&["kind"])?, "kind")?;
        let value = need(find(&["value"])?, "value")?;
        let time = find(&["timestamp", "time"])?;
        Ok(Columns { account, kind, value, time })
    }

    fn apply(&self, r: &csv::ByteRecord, b: &mut IndexBuilder) -> Result<(), Fault> {
        let field = |i: usize, missing: &'static str| -> Result<&str, Fault> {
            let bytes = r.get(i).ok_or(Fault::Record(missing))?;
            std::str::from_utf8(bytes).map_err(|_| Fault::Record("not valid UTF-8"))
        };
        let account = field(self.account, "missing field account")?;
        let kind = field(self.kind, "missing field kind")?;
        let value = field(self.value, "missing field value")?;
        let time = match self.time {
            None => None,
            Some(i) => match r.get(i) {
                None => None,
                Some(t) => {
                    let t = std::str::from_utf8(t).map_err(|_| Fault::Record("not valid UTF-8"))?;
                    if t.trim().is_empty() {
                        None
                    } else {
                        Some(
                            parse_timestamp(t)
                                .map_err(|e| Fault::Observation(ObservationError::Timestamp(e)))?,
                        )
                    }
                }
            },
        };
        b.add(account, kind, value, time).map_err(Fault::Observation)
    }
}

/// Refuses lines longer than [`MAX_LINE`] before the CSV reader buffers them.
struct LineLimit<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "line longer than 16 MiB"));
                }
            }
        }
        Ok(n)
    }
}
