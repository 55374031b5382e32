//! Ingest: observations from CSV files, streamed, every error placed by file, line and field.
//!
//! The header names the columns, in any order: `account`, `kind`, `value` are required,
//! `timestamp` (or `time`) is optional; other columns are ignored. A timestamp is unix seconds
//! or RFC 3339 (see [`crate::time`]); an empty timestamp means none. Lines end in LF, CRLF or
//! CR alone, and are numbered so in every message. A byte-order mark at the start of a line is
//! dropped (the file's, or one that concatenating files left inside).
//!
//! **One record per line.** Every data line (a line after the header that is not blank) is
//! either one observation or one rejection, so that nothing is lost silently:
//! [`IngestReport::lines_read`] `==` [`IngestReport::accepted`] `+` [`IngestReport::rejected`]
//! in lenient mode. A quoted field may hold commas and doubled quotes but not a line break: no
//! field the reader uses may hold one (accounts, kinds, values and timestamps refuse control
//! characters), and a quote that does not close on its line, a stray `"` in a note column say,
//! would otherwise swallow every line after it into one field. Such a line is rejected, naming
//! the column where the quote opened, and reading resumes at the start of the next line.
//!
//! **Kinds.** A kind name that is neither built in nor registered becomes a custom kind, and
//! the report lists it ([`IngestReport::new_kinds`]) with the built-in kind it is probably a
//! misspelling of ([`crate::kind::suggest`]). [`CsvOptions::declare_kinds`] refuses custom kinds
//! that are not declared. More than [`MIXUP_KINDS`] new kind names within the first
//! [`MIXUP_LINES`] data lines are a likely column mix-up (kind and value swapped or shifted): an
//! error in strict mode, a warning ([`IngestReport::warnings`]) in lenient mode.
//!
//! **Streaming.** The reader streams in 4 MiB chunks cut at record boundaries (found by the csv
//! parser): a producer thread parses, checks and normalises each chunk while the calling thread
//! interns the previous one, in order. Memory grows with the graph, not the file: at most a few
//! chunks are in flight. A line longer than [`MAX_LINE`] bytes is refused, with at most twice
//! that buffered.
//!
//! In strict mode ([`CsvOptions::strict`]) the first bad line is an error. In lenient mode
//! ([`CsvOptions::lenient`]) bad lines are skipped, counted by reason and reported in the
//! [`IngestReport`] with the first few examples; nothing is dropped silently.
//!
//! A custom normaliser ([`crate::normalize::Normalizer::custom`]) that panics ends the read
//! with [`IngestError::NormalizerPanic`] naming the line, in either mode (the panic is still
//! printed by the panic hook); the builder keeps its kinds and the observations before it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::builder::IndexBuilder;
use crate::error::{IngestError, Location, ObservationError};
use crate::kind::{KindError, Kinds};
use crate::normalize::Normalizer;
use crate::time::parse_timestamp;

/// The longest line accepted, in bytes (16 MiB).
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink::ingest::MAX_LINE, 16 << 20);
/// ```
pub const MAX_LINE: usize = 16 << 20;

/// How many example rejections (and warnings) a report keeps.
///
/// # Examples
///
/// See [`IngestReport`].
pub const MAX_EXAMPLES: usize = 10;

/// The data lines at the start of a read in which many new kind names mean a column mix-up.
///
/// # Examples
///
/// See [`MIXUP_KINDS`].
pub const MIXUP_LINES: u64 = 1000;

/// More new kind names than this within the first [`MIXUP_LINES`] data lines are reported as a
/// likely column mix-up: an error in strict mode, a warning in lenient mode.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, ingest::{CsvOptions, MIXUP_KINDS, read_csv}};
/// // Kind and value swapped: every value becomes a kind name.
/// let mut data = String::from("account,value,kind\n");
/// for i in 0..=MIXUP_KINDS {
///     data.push_str(&format!("s{i},device,fp{i}\n"));
/// }
/// let mut b = IndexBuilder::new();
/// let report = read_csv(data.as_bytes(), "obs.csv", &CsvOptions::lenient(), &mut b)?;
/// assert!(report.warnings[0].1.contains("column mix-up"), "{:?}", report.warnings);
/// let err = read_csv(data.as_bytes(), "obs.csv", &CsvOptions::strict(), &mut IndexBuilder::new());
/// assert!(err.unwrap_err().to_string().starts_with("obs.csv:18: field kind: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MIXUP_KINDS: usize = 16;

/// How a reader treats bad input, one struct for every input format: strict or lenient, a
/// rejection limit, declared custom kinds, and the format's own settings `F` ([`Csv`] for
/// CSV, `arrow::Tables` for Arrow and Parquet, with the `arrow` feature). Use it by its
/// format's name, [`CsvOptions`] or `arrow::ArrowOptions`.
///
/// # Examples
///
/// ```
/// use sellerlink::ingest::CsvOptions;
/// let opts = CsvOptions::lenient().max_rejections(1000);
/// assert!(opts.is_lenient());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions<F> {
    lenient: bool,
    max_rejections: Option<u64>,
    pub(crate) declared: Option<Vec<String>>,
    pub(crate) format: F,
}

/// CSV's own read settings; see [`CsvOptions`].
///
/// # Examples
///
/// ```
/// let o = sellerlink::ingest::CsvOptions::strict().chunk_size(1 << 20).size_hint(1 << 30);
/// # let _ = o;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csv {
    chunk: Option<usize>,
    size: Option<u64>,
}

/// Options for reading CSV.
///
/// # Examples
///
/// ```
/// use sellerlink::ingest::CsvOptions;
/// let opts = CsvOptions::lenient().max_rejections(1000).size_hint(1 << 30);
/// assert!(opts.is_lenient());
/// ```
pub type CsvOptions = ReadOptions<Csv>;

impl<F: Default> ReadOptions<F> {
    /// Strict: the first bad line (or row) is an error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sellerlink::ingest::CsvOptions::strict().is_lenient());
    /// ```
    pub fn strict() -> Self {
        Self { lenient: false, ..Self::default() }
    }

    /// Lenient: bad lines (or rows) are skipped, counted and reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::ingest::CsvOptions::lenient().is_lenient());
    /// ```
    pub fn lenient() -> Self {
        Self { lenient: true, ..Self::default() }
    }
}

impl<F> ReadOptions<F> {
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

    /// Declares custom kinds, and refuses every other new one: a kind name that is not built
    /// in, not registered with the builder (or known to the index an update starts from) and
    /// not among the declared names is an error in strict mode, and a rejected line (or row)
    /// in lenient mode ([`KindError::Undeclared`], with a suggestion when it looks like a
    /// misspelt built-in kind). Calls add up; declaring no names refuses every new kind. Names
    /// are matched as kind names are (trimmed, any case); a name that is not a valid kind name
    /// never matches.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, ingest::{CsvOptions, read_csv}};
    /// let data = "account,kind,value\ns1,tax_id,DE-1\ns2,devcie,fp-1\n";
    /// let options = CsvOptions::strict().declare_kinds(["tax_id"]);
    /// let err = read_csv(data.as_bytes(), "obs.csv", &options, &mut IndexBuilder::new()).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "obs.csv:3: field kind: undeclared kind \"devcie\" (did you mean device?)"
    /// );
    /// ```
    pub fn declare_kinds<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        declare(&mut self.declared, names);
        self
    }

    /// The same mode, rejection limit and declared kinds, for another format (with that
    /// format's default settings): one set of reading flags for CSV and Parquet inputs alike.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::ingest::{Csv, CsvOptions, ReadOptions};
    /// let csv = CsvOptions::lenient().max_rejections(10).declare_kinds(["tax_id"]).chunk_size(64);
    /// let other: ReadOptions<Csv> = csv.for_format();
    /// assert_eq!(other, CsvOptions::lenient().max_rejections(10).declare_kinds(["tax_id"]));
    /// ```
    pub fn for_format<G: Default>(&self) -> ReadOptions<G> {
        ReadOptions {
            lenient: self.lenient,
            max_rejections: self.max_rejections,
            declared: self.declared.clone(),
            format: G::default(),
        }
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

    /// The rejection limit of a lenient read, as an error once `rejected` passes it.
    pub(crate) fn over_limit(&self, rejected: u64) -> Option<u64> {
        self.max_rejections.filter(|&limit| rejected > limit)
    }
}

impl ReadOptions<Csv> {
    /// Sets the bytes read per chunk (default 4 MiB, at least 1). Results do not depend on it;
    /// small chunks exist for tests of the chunking itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = sellerlink::ingest::CsvOptions::strict().chunk_size(64);
    /// # let _ = o;
    /// ```
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.format.chunk = Some(bytes.max(1));
        self
    }

    /// The input's size in bytes, when known ([`read_csv_path`] takes it from the file): the
    /// first chunk's rows per byte and new accounts and artifacts per row then size the
    /// builder's tables for the whole input, so that they do not grow and rehash on the way.
    /// Room reserved is bounded by one row per 16 bytes of input.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = sellerlink::ingest::CsvOptions::strict().size_hint(1 << 30);
    /// # let _ = o;
    /// ```
    pub fn size_hint(mut self, bytes: u64) -> Self {
        self.format.size = Some(bytes);
        self
    }
}

/// A custom kind that a read registered: a kind name that no built-in kind, registration or
/// earlier read knew.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, ingest::{CsvOptions, read_csv}};
/// let data = "account,kind,value\ns1,devcie,fp-1\ns2,dob_name,Ann 1990-01-02\n";
/// let report = read_csv(data.as_bytes(), "obs.csv", &CsvOptions::lenient(), &mut IndexBuilder::new())?;
/// let k = &report.new_kinds[0];
/// assert_eq!((k.name.as_str(), k.line, k.suggestion.as_deref()), ("devcie", 2, Some("device")));
/// assert_eq!(report.new_kinds[1].suggestion, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct NewKind {
    /// The kind's name, canonical (trimmed, lowercase).
    pub name: String,
    /// The line where it first appeared (for Arrow and Parquet input, the 0-based input row,
    /// as in [`IngestReport::examples`]).
    pub line: u64,
    /// The built-in kind it is probably a misspelling of ([`crate::kind::suggest`]).
    pub suggestion: Option<String>,
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
/// assert_eq!((report.lines_read, report.accepted, report.rejected), (2, 1, 1));
/// assert_eq!(report.by_reason.get("invalid ip: not an IPv4 or IPv6 address"), Some(&1));
/// assert_eq!(report.examples[0].0, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct IngestReport {
    /// Data lines read: the lines after the header that are not blank (only whitespace). In
    /// lenient mode each is accepted or rejected: `lines_read == accepted + rejected`.
    pub lines_read: u64,
    /// The same count as [`lines_read`](Self::lines_read), under its earlier name.
    pub records: u64,
    /// Observations added.
    pub accepted: u64,
    /// Lines skipped (lenient mode).
    pub rejected: u64,
    /// Rejections per reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The first rejections: line number and message.
    pub examples: Vec<(u64, String)>,
    /// The custom kinds this read registered, in the order first seen.
    pub new_kinds: Vec<NewKind>,
    /// Warnings about the file as a whole (a likely column mix-up): line (for Arrow and Parquet
    /// input, 0-based input row) and message.
    pub warnings: Vec<(u64, String)>,
}

impl IngestReport {
    /// Adds the new kinds and warnings a [`KindGate`] collected (warnings up to
    /// [`MAX_EXAMPLES`]).
    pub(crate) fn absorb_kinds(&mut self, new_kinds: Vec<NewKind>, warnings: Vec<(u64, String)>) {
        self.new_kinds.extend(new_kinds);
        for w in warnings {
            if self.warnings.len() < MAX_EXAMPLES {
                self.warnings.push(w);
            }
        }
    }

    /// Counts a batch's records and takes its new kinds and warnings.
    fn absorb_batch(&mut self, batch: &mut Batch) {
        self.records += batch.records;
        self.lines_read += batch.records;
        self.absorb_kinds(std::mem::take(&mut batch.new_kinds), std::mem::take(&mut batch.warnings));
    }

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
    /// assert_eq!(a.lines_read, 0);
    /// ```
    pub fn merge(&mut self, other: &IngestReport) {
        self.lines_read += other.lines_read;
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
        self.new_kinds.extend(other.new_kinds.iter().cloned());
        for w in &other.warnings {
            if self.warnings.len() < MAX_EXAMPLES {
                self.warnings.push(w.clone());
            }
        }
    }
}

/// Reads observations from a CSV file into `builder`.
///
/// # Errors
///
/// [`IngestError`] naming the file, line and field; in lenient mode only for an unreadable
/// file, a bad header, a line over [`MAX_LINE`], a custom normaliser that panicked, or too many
/// rejections.
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
    let file = File::open(path).map_err(|cause| IngestError::Io { path: path.to_path_buf(), cause })?;
    let mut options = options.clone();
    if options.format.size.is_none() {
        options.format.size = file.metadata().ok().map(|m| m.len());
    }
    read_csv(BufReader::with_capacity(1 << 20, file), path, &options, builder)
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
pub fn read_csv<R: Read + Send>(
    reader: R,
    path: impl AsRef<Path>,
    options: &CsvOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, IngestError> {
    let path: PathBuf = path.as_ref().to_path_buf();
    // A producer thread reads, parses, checks and normalises; this thread interns, in order.
    // The producer borrows the kinds registry, so that the builder gets it back whatever
    // happens to the producer.
    let mut kinds = std::mem::take(&mut builder.collected.kinds);
    // Three stages, each a thread, in order: the producer reads, parses, checks and
    // normalises; the second interns the artifacts; this thread numbers the accounts and adds
    // the uses. Each interner sees the rows in file order, as one thread would, so the ids do
    // not depend on the threads.
    let mut artifacts = builder.take_artifacts();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
    let (tx_interned, rx_interned) = std::sync::mpsc::sync_channel::<Msg>(4);
    let setup = Setup {
        path: path.clone(),
        strict: !options.lenient,
        chunk: options.format.chunk.unwrap_or(CHUNK),
        declared: options.declared.clone(),
    };
    let result = std::thread::scope(|scope| {
        let kinds = &mut kinds;
        let artifacts = &mut artifacts;
        let size = options.format.size;
        let producer = scope.spawn(move || produce(reader, setup, kinds, tx));
        let interner = scope.spawn(move || intern_artifacts(rx, tx_interned, artifacts, size));
        let result = consume(rx_interned, &path, options, builder);
        match (producer.join(), interner.join()) {
            (Ok(()), Ok(())) => result,
            // Neither stage can panic on input (every fault is a value, and a custom
            // normaliser's panic is caught); should one ever, say so.
            _ => Err(IngestError::Record {
                at: Location { path: path.clone(), line: 0 },
                reason: "internal error in the CSV reader".into(),
            }),
        }
    });
    builder.collected.kinds = kinds;
    builder.put_artifacts(artifacts);
    result
}

/// Reads the account names in the `account` column of a CSV file (a header line first; other
/// columns are ignored; blank lines are skipped), each checked and trimmed as an observation's
/// account is: a list of accounts to remove from an index, say. Names come in file order.
///
/// # Errors
///
/// [`IngestError`] naming the file and line: the file cannot be read, the header has no
/// `account` column, a line is longer than [`MAX_LINE`], not UTF-8 or not one CSV record, or
/// an account is empty, too long or holds a control character.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("sellerlink-doc-names-{}.csv", std::process::id()));
/// std::fs::write(&path, "closed_on,account\n2026-11-30, s1 \n2026-12-01,\"s,2\"\n")?;
/// let names = sellerlink::ingest::read_account_names(&path)?;
/// assert_eq!(names, ["s1", "s,2"]);
/// std::fs::write(&path, "closed_on,account\n2026-11-30,\n")?;
/// let err = sellerlink::ingest::read_account_names(&path).unwrap_err();
/// assert!(err.to_string().ends_with(":2: field account: empty account"), "{err}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_account_names(path: impl AsRef<Path>) -> Result<Vec<String>, IngestError> {
    let path = path.as_ref();
    let io = |cause| IngestError::Io { path: path.to_path_buf(), cause };
    let at = |line| Location { path: path.to_path_buf(), line };
    let bad = |line, reason: &str| IngestError::Record { at: at(line), reason: reason.to_string() };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let (mut names, mut column, mut line, mut buf) = (Vec::new(), None, 0u64, Vec::new());
    loop {
        buf.clear();
        // Bounded: a line (or a device without line breaks) longer than MAX_LINE is refused.
        let n = io::BufRead::read_until(&mut (&mut reader).take(MAX_LINE as u64 + 1), b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        line += 1;
        if buf.len() > MAX_LINE {
            return Err(bad(line, "line too long"));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| bad(line, "not UTF-8"))?;
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let mut records = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let record = match records.records().next() {
            Some(Ok(r)) => r,
            _ => return Err(bad(line, "not one CSV record")),
        };
        let Some(column) = column else {
            let found = record
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case("account"));
            column = Some(found.ok_or_else(|| IngestError::Header {
                at: at(line),
                reason: "missing column account".to_string(),
            })?);
            continue;
        };
        let name = record.get(column).ok_or_else(|| bad(line, "missing field account"))?;
        let name = crate::observation::check_account(name)
            .map_err(|cause| IngestError::Observation { at: at(line), cause })?;
        names.push(name.to_string());
    }
    Ok(names)
}

/// One observation as the CSV reader checked and normalised it, handed to the caller of
/// [`read_csv_rows`] instead of a builder.
///
/// # Examples
///
/// See [`read_csv_rows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// The line the row is on (for a Parquet file, its row, 0-based).
    pub line: u64,
    /// The account, as written (checked).
    pub account: &'a str,
    /// The kind, in the registry the reader was given.
    pub kind: crate::KindId,
    /// The value, canonical.
    pub value: &'a str,
    /// The value as written.
    pub raw: &'a str,
    /// The timestamp, if the row has one.
    pub time: Option<i64>,
}

/// Reads observations as [`read_csv`] does (the same parsing, checks, normalisers, lenient
/// counting and kind registration into `kinds`) and hands each accepted one to `each`, in file
/// order, instead of building: for a caller that routes observations elsewhere first (the
/// distributed backend sends each to the worker that owns it).
///
/// # Errors
///
/// As [`read_csv_path`].
///
/// # Examples
///
/// ```
/// use sellerlink::{ingest::{CsvOptions, read_csv_rows}, kind::Kinds};
/// let data = "kind,account,value\ndevice,s1,Laptop-7\nphone,s2,call me\n";
/// let mut kinds = Kinds::new();
/// let mut seen = Vec::new();
/// let report = read_csv_rows(data.as_bytes(), "inline.csv", &CsvOptions::lenient(), &mut kinds, |row| {
///     seen.push((row.line, row.account.to_string(), row.value.to_string()));
/// })?;
/// assert_eq!(seen, [(2, "s1".to_string(), "laptop-7".to_string())]);
/// assert_eq!(report.rejected, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_csv_rows<R: Read + Send>(
    reader: R,
    path: impl AsRef<Path>,
    options: &CsvOptions,
    kinds: &mut Kinds,
    mut each: impl FnMut(Row<'_>),
) -> Result<IngestReport, IngestError> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
    let setup = Setup {
        path: path.clone(),
        strict: !options.lenient,
        chunk: options.format.chunk.unwrap_or(CHUNK),
        declared: options.declared.clone(),
    };
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || produce(reader, setup, kinds, tx));
        let at = |line: u64| Location { path: path.clone(), line };
        let result = (|| {
            let mut report = IngestReport::default();
            for msg in rx {
                let mut batch = match msg {
                    Msg::Batch(b) => b,
                    Msg::Fail(e) => return Err(e),
                };
                report.absorb_batch(&mut batch);
                let text = &batch.text;
                let slice = |(a, b): (u32, u32)| &text[a as usize..b as usize];
                for entry in batch.entries {
                    match entry {
                        Entry::Obs { line, account, value, raw, kind, time, .. } => {
                            let time = (time != crate::graph::NO_TIME).then_some(time);
                            each(Row {
                                line,
                                account: slice(account),
                                kind,
                                value: slice(value),
                                raw: slice(raw),
                                time,
                            });
                            report.accepted += 1;
                        }
                        Entry::Reject { line, reason, message } => {
                            report.reject(line, reason, message);
                            check_limit(&report, options, &at, line)?;
                        }
                        Entry::Refused { line, cause } => refuse(&mut report, options, &at, line, cause)?,
                    }
                }
            }
            Ok(report)
        })();
        match producer.join() {
            Ok(()) => result,
            Err(_) => {
                Err(IngestError::Record { at: at(0), reason: "internal error in the CSV reader".into() })
            }
        }
    })
}

/// Bytes read per chunk by the producer.
const CHUNK: usize = 4 << 20;

enum Msg {
    Batch(Batch),
    Fail(IngestError),
}

#[derive(Default)]
struct Batch {
    text: String,
    entries: Vec<Entry>,
    records: u64,
    /// Input bytes the batch covers.
    bytes: usize,
    new_kinds: Vec<NewKind>,
    warnings: Vec<(u64, String)>,
}

enum Entry {
    /// An observation; `id` is its artifact's id once the second stage has interned it.
    Obs {
        line: u64,
        account: (u32, u32),
        id: u32,
        value: (u32, u32),
        raw: (u32, u32),
        kind: crate::KindId,
        time: i64,
    },
    Reject {
        line: u64,
        reason: String,
        message: String,
    },
    /// An observation the artifact stage could not add (too many artifacts).
    Refused {
        line: u64,
        cause: ObservationError,
    },
}

/// The second stage: interns each observation's artifact, in order, and passes the batch on.
fn intern_artifacts(
    rx: std::sync::mpsc::Receiver<Msg>,
    tx: std::sync::mpsc::SyncSender<Msg>,
    (artifacts, first_written): &mut (crate::intern::Interner, crate::intern::StrList),
    mut size: Option<u64>,
) {
    for msg in rx {
        let mut batch = match msg {
            Msg::Batch(b) => b,
            fail => {
                let _ = tx.send(fail);
                return;
            }
        };
        let before = artifacts.len();
        let text = &batch.text;
        let slice = |(a, b): (u32, u32)| &text[a as usize..b as usize];
        for entry in &mut batch.entries {
            let refused = match entry {
                Entry::Obs { line, value, raw, kind, id, .. } => {
                    match crate::builder::intern_artifact(
                        artifacts,
                        first_written,
                        *kind,
                        slice(*value),
                        slice(*raw),
                    ) {
                        Ok(new) => {
                            *id = new;
                            None
                        }
                        Err(cause) => Some((*line, cause)),
                    }
                }
                _ => None,
            };
            if let Some((line, cause)) = refused {
                *entry = Entry::Refused { line, cause };
            }
        }
        if let Some(rows) = size.take().and_then(|total| rows_left(total, batch.bytes, batch.records)) {
            artifacts.reserve((rows * (artifacts.len() - before) as f64 / batch.records as f64) as usize);
        }
        if tx.send(Msg::Batch(batch)).is_err() {
            return; // the consumer stopped
        }
    }
}

/// After the first full chunk of a file: about how many rows are left, to size the tables
/// for the rest at the rates of new accounts and artifacts per row seen so far (an upper
/// bound: later rows repeat more). Bounded by one row per 16 bytes left, so the room is
/// proportional to the file. `None` for any other batch.
fn rows_left(total: u64, bytes: usize, records: u64) -> Option<f64> {
    if bytes < CHUNK / 2 || records == 0 {
        return None;
    }
    let left = total.saturating_sub(bytes as u64);
    Some((left as f64 * records as f64 / bytes as f64).min(left as f64 / 16.0))
}

fn consume(
    rx: std::sync::mpsc::Receiver<Msg>,
    path: &Path,
    options: &CsvOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, IngestError> {
    let at = |line: u64| Location { path: path.to_path_buf(), line };
    let mut report = IngestReport::default();
    let mut size = options.format.size;
    for msg in rx {
        let mut batch = match msg {
            Msg::Batch(b) => b,
            Msg::Fail(e) => return Err(e),
        };
        report.absorb_batch(&mut batch);
        let (bytes, records) = (batch.bytes, batch.records);
        let before = builder.distinct_counts().0;
        let text = &batch.text;
        let slice = |(a, b): (u32, u32)| &text[a as usize..b as usize];
        for entry in batch.entries {
            let refused = match entry {
                Entry::Obs { line, account, id, time, .. } => match builder.add_use(slice(account), id, time)
                {
                    Ok(()) => {
                        report.accepted += 1;
                        continue;
                    }
                    Err(cause) => (line, cause),
                },
                Entry::Refused { line, cause } => (line, cause),
                Entry::Reject { line, reason, message } => {
                    report.reject(line, reason, message);
                    check_limit(&report, options, &at, line)?;
                    continue;
                }
            };
            let (line, cause) = refused;
            refuse(&mut report, options, &at, line, cause)?;
        }
        // After the first full chunk: room for the rest (the artifact stage sizes its own).
        if let Some(rows) = size.take().and_then(|total| rows_left(total, bytes, records)) {
            let new = (builder.distinct_counts().0 - before) as f64 / records as f64;
            builder.reserve(rows as usize, (rows * new) as usize, 0);
        }
    }
    Ok(report)
}

/// What the producer is told.
struct Setup {
    path: PathBuf,
    strict: bool,
    chunk: usize,
    declared: Option<Vec<String>>,
}

/// The producer's state across chunks.
struct Reading<'k> {
    path: PathBuf,
    strict: bool,
    kinds: &'k mut Kinds,
    cols: Option<Columns>,
    scratch: String,
    gate: KindGate,
}

impl Reading<'_> {
    fn at(&self, line: u64) -> Location {
        Location { path: self.path.clone(), line }
    }
}

/// The producer: chunks the input at record boundaries (found by the csv parser itself: each
/// chunk's last record is carried into the next), parses, checks and normalises.
///
/// Each record is one line: a record whose quoted field holds a line break (a quote not closed
/// on its line) is rejected at the line where it starts, and the parser starts again at the
/// next line, in the same chunk. Such a record is rejected as soon as the line break is seen,
/// even if the chunk ends inside it, so an unclosed quote never buffers the rest of the file.
fn produce<R: Read>(mut reader: R, setup: Setup, kinds: &mut Kinds, tx: std::sync::mpsc::SyncSender<Msg>) {
    let chunk = setup.chunk;
    let mut st = Reading {
        path: setup.path,
        strict: setup.strict,
        kinds,
        cols: None,
        scratch: String::new(),
        gate: KindGate::new(setup.declared, setup.strict),
    };
    // Grows as data arrives (no up-front 4 MiB per call): small inputs stay cheap.
    let mut buf: Vec<u8> = Vec::new();
    let mut scratch_read = vec![0u8; chunk.clamp(1, 64 << 10)];
    let mut eof = false;
    let mut line_base: u64 = 1;
    let (mut record, mut next) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    let mut want = chunk;
    loop {
        while buf.len() < want && !eof {
            let room = (want - buf.len()).min(scratch_read.len());
            match reader.read(&mut scratch_read[..room]) {
                Ok(0) => eof = true,
                Ok(n) => buf.extend_from_slice(&scratch_read[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx
                        .send(Msg::Fail(IngestError::Record { at: st.at(line_base), reason: e.to_string() }));
                    return;
                }
            }
        }
        // Line numbers come from the csv parser (which counts LF) unless the chunk has a CR,
        // a rare case counted here (CR alone ends a line too).
        let has_cr = memchr::memchr(b'\r', &buf).is_some();
        // Only a quote can put a line break inside a record.
        let has_quote = memchr::memchr(b'"', &buf).is_some();
        let mut lines = LineCounter { at: 0, line: line_base };
        let mut batch = Batch::default();
        let mut fail = None;
        let mut handled = 0usize;
        let mut consumed = 0usize;
        // One parser per chunk over the whole buffer (byte positions are offsets in `buf`);
        // after a rejected multi-line record it is moved to the next line, which is on line
        // `line0` (its own line count then starts again at 1).
        let mut line0 = line_base;
        // Where the parser started reading: it drops a byte-order mark there.
        let mut reader_start = 0usize;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(io::Cursor::new(&buf[..]));
        // A record is handled once the next one has parsed (so it is known to be whole), or at
        // the end of the input; the last record of a chunk is otherwise carried into the next
        // chunk. `pending`: where `record`'s stretch starts (blank lines the parser skipped
        // included) and the parser's line there.
        let mut pending: Option<(usize, u64)> = None;
        loop {
            let pos = rdr.position().clone();
            let more = matches!(rdr.read_byte_record(&mut next), Ok(true));
            if let Some((region, csv_line)) = pending.take() {
                let end = if more { pos.byte() as usize } else { buf.len() };
                // The record starts after the blank lines the parser skipped: line ends, and a
                // byte-order mark alone on its line where the parser started reading (it drops a
                // mark there, and then skips the line as empty; elsewhere such a line is a
                // record, blank once its mark is dropped).
                let (mut start, mut skipped) = (region, 0u64);
                while start < end {
                    match buf[start] {
                        b'\n' | b'\r' => (start, skipped) = (start + 1, skipped + 1),
                        0xef if start == reader_start
                            && buf[start..end].starts_with(BOM)
                            && matches!(buf.get(start + BOM.len()), Some(b'\n' | b'\r')) =>
                        {
                            start += BOM.len()
                        }
                        _ => break,
                    }
                }
                let line = if has_cr { lines.line_at(&buf, start) } else { line0 + csv_line - 1 + skipped };
                // A mark at the start of a line is dropped, so a quote right after it opens a
                // quoted field. The parser drops a mark only where it starts reading (elsewhere
                // the quote would be a literal character): read the line again from there.
                if start != reader_start
                    && buf[start..end].starts_with(BOM)
                    && buf.get(start + BOM.len()) == Some(&b'"')
                {
                    line0 = line;
                    reader_start = start;
                    if !restart(&mut rdr, start) {
                        break; // a cursor over memory cannot fail to seek
                    }
                    continue;
                }
                let broken = has_quote
                    && if more && !has_cr {
                        // The lines the stretch covers, less skipped blank lines and the
                        // record's own end: any left are inside a field.
                        pos.line() - csv_line > skipped + 1
                    } else {
                        memchr::memchr2(b'\n', b'\r', record.as_slice()).is_some()
                    };
                if broken {
                    if let Some(resume) = first_line_end(&buf, start, eof) {
                        handled += 1;
                        if let Err(e) = st.reject_broken(&record, line, &mut batch) {
                            fail = Some(e);
                            break;
                        }
                        consumed = resume;
                        line0 = line + 1;
                        reader_start = resume;
                        if !restart(&mut rdr, resume) {
                            break; // a cursor over memory cannot fail to seek
                        }
                        continue;
                    }
                }
                if !more && !eof {
                    consumed = region; // possibly cut short: the next chunk reads it again
                    break;
                }
                consumed = end;
                if end - start > MAX_LINE {
                    fail = Some(IngestError::Record {
                        at: st.at(line),
                        reason: "line longer than 16 MiB".into(),
                    });
                    break;
                }
                handled += 1;
                if buf[start..].starts_with(BOM) && record.get(0).is_some_and(|f| f.starts_with(BOM)) {
                    // A mark at the start of a line is dropped (the parser drops it itself where
                    // it starts reading, so this keeps chunking out of the result).
                    let mut stripped = csv::ByteRecord::new();
                    for (i, f) in record.iter().enumerate() {
                        stripped.push_field(if i == 0 { &f[BOM.len()..] } else { f });
                    }
                    record = stripped;
                }
                if let Err(e) = st.handle(&record, &buf[start..end], line, &mut batch) {
                    fail = Some(e);
                    break;
                }
            }
            if !more {
                break;
            }
            std::mem::swap(&mut record, &mut next);
            pending = Some((pos.byte() as usize, pos.line()));
        }
        drop(rdr);
        if handled == 0 && fail.is_none() && !eof {
            if buf.len() > MAX_LINE {
                let _ = tx.send(Msg::Fail(IngestError::Record {
                    at: st.at(line_base),
                    reason: "line longer than 16 MiB".into(),
                }));
                return;
            }
            want = buf.len() * 2;
            continue;
        }
        want = chunk;
        batch.bytes = consumed;
        batch.new_kinds = std::mem::take(&mut st.gate.new_kinds);
        batch.warnings = std::mem::take(&mut st.gate.warnings);
        if st.cols.is_none() && fail.is_none() && eof {
            fail = Some(IngestError::Header {
                at: st.at(1),
                reason: "empty file: expected account,kind,value[,timestamp]".into(),
            });
        }
        if tx.send(Msg::Batch(batch)).is_err() {
            return; // the consumer stopped
        }
        if let Some(e) = fail {
            let _ = tx.send(Msg::Fail(e));
            return;
        }
        if eof {
            return; // every record was handled
        }
        line_base = LineCounter { at: 0, line: line_base }.line_at(&buf, consumed);
        buf.drain(..consumed);
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Line numbers by byte offset in a chunk, counted forward: a line ends at LF, CRLF or CR.
struct LineCounter {
    /// Bytes before `at` are counted.
    at: usize,
    /// The line at `at`.
    line: u64,
}

impl LineCounter {
    /// The line at byte `to` (not before the last asked). A CR right before `to` is followed by
    /// a LF only if `buf[to]` is one: `buf` is the whole chunk, not cut at `to`.
    fn line_at(&mut self, buf: &[u8], to: usize) -> u64 {
        let part = &buf[self.at..to];
        let mut n = memchr::memchr_iter(b'\n', part).count() as u64;
        for i in memchr::memchr_iter(b'\r', part) {
            if buf.get(self.at + i + 1) != Some(&b'\n') {
                n += 1;
            }
        }
        self.at = to;
        self.line += n;
        self.line
    }
}

/// Moves the parser to byte `at` of its chunk, as if it had started reading there (line 1):
/// false if it could not seek.
fn restart<R: io::Read + io::Seek>(rdr: &mut csv::Reader<R>, at: usize) -> bool {
    let mut position = csv::Position::new();
    position.set_byte(at as u64).set_line(1);
    rdr.seek(position).is_ok()
}

/// Where the line that starts at `start` ends (after its LF, CRLF or CR), unless that is not
/// known yet: a CR at the end of the chunk may be the first half of a CRLF.
fn first_line_end(buf: &[u8], start: usize, eof: bool) -> Option<usize> {
    let t = start + memchr::memchr2(b'\n', b'\r', &buf[start..])?;
    if buf[t] == b'\n' {
        return Some(t + 1);
    }
    match buf.get(t + 1) {
        Some(b'\n') => Some(t + 2),
        Some(_) => Some(t + 1),
        None if eof => Some(t + 1),
        None => None,
    }
}

impl Reading<'_> {
    /// Rejects a record whose quoted field holds a line break (the error that ends the read,
    /// in strict mode or for the header).
    fn reject_broken(
        &mut self,
        record: &csv::ByteRecord,
        line: u64,
        batch: &mut Batch,
    ) -> Result<(), IngestError> {
        const WHY: &str = "quoted field runs past the end of the line (a stray or unclosed quote)";
        let Some(c) = self.cols.as_ref() else {
            return Err(IngestError::Header { at: self.at(line), reason: WHY.into() });
        };
        let field = record.iter().position(|f| f.iter().any(|&b| b == b'\n' || b == b'\r')).unwrap_or(0);
        let reason = format!("field {}: {WHY}", c.name(field));
        batch.records += 1;
        self.gate.lines += 1;
        let err = IngestError::Record { at: self.at(line), reason: reason.clone() };
        if self.strict {
            return Err(err);
        }
        batch.entries.push(Entry::Reject { line, reason, message: err.to_string() });
        Ok(())
    }

    /// Handles one whole one-line record (`raw` its bytes): the header, a blank line, an
    /// observation or a rejection (added to `batch`); the error that ends the read, if any.
    fn handle(
        &mut self,
        record: &csv::ByteRecord,
        raw: &[u8],
        line: u64,
        batch: &mut Batch,
    ) -> Result<(), IngestError> {
        if record.len() == 1
            && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
            && !raw.contains(&b'"')
        {
            return Ok(()); // blank line
        }
        let Some(c) = self.cols.as_ref() else {
            self.cols = Some(
                Columns::from_header(record)
                    .map_err(|reason| IngestError::Header { at: self.at(line), reason })?,
            );
            return Ok(());
        };
        batch.records += 1;
        self.gate.lines += 1;
        match c.prepare(record, line, self.kinds, &mut self.gate, &mut self.scratch, &mut batch.text) {
            Ok((account, value, raw, kind, time)) => {
                batch.entries.push(Entry::Obs { line, account, id: u32::MAX, value, raw, kind, time })
            }
            Err(fault) => {
                let at = self.at(line);
                let (reason, err) = match fault {
                    Fault::Record(r) => (r.to_string(), IngestError::Record { at, reason: r.to_string() }),
                    Fault::Field(name, why) => {
                        let reason = format!("field {name}: {why}");
                        (reason.clone(), IngestError::Record { at, reason })
                    }
                    Fault::Message(m) => return Err(IngestError::Record { at, reason: m }),
                    Fault::Observation(o) => (o.reason(), IngestError::Observation { at, cause: o }),
                    Fault::Panic { kind, message } => {
                        return Err(IngestError::NormalizerPanic { at, kind, message });
                    }
                };
                if self.strict {
                    return Err(err);
                }
                batch.entries.push(Entry::Reject { line, reason, message: err.to_string() });
            }
        }
        Ok(())
    }
}

/// An observation refused after it was parsed (too many artifacts or accounts): the error in
/// strict mode, else a counted rejection.
fn refuse(
    report: &mut IngestReport,
    options: &CsvOptions,
    at: &dyn Fn(u64) -> Location,
    line: u64,
    cause: ObservationError,
) -> Result<(), IngestError> {
    if !options.lenient {
        return Err(IngestError::Observation { at: at(line), cause });
    }
    let message = IngestError::Observation { at: at(line), cause: cause.clone() }.to_string();
    report.reject(line, cause.reason(), message);
    check_limit(report, options, at, line)
}

fn check_limit(
    report: &IngestReport,
    options: &CsvOptions,
    at: &dyn Fn(u64) -> Location,
    line: u64,
) -> Result<(), IngestError> {
    match options.over_limit(report.rejected) {
        Some(limit) => Err(IngestError::TooManyRejections { at: at(line), limit }),
        None => Ok(()),
    }
}

enum Fault {
    /// A rejection with a fixed reason.
    Record(&'static str),
    /// A field missing or not UTF-8: its name and why.
    Field(&'static str, &'static str),
    /// An error that ends the read in either mode.
    Message(String),
    Observation(ObservationError),
    /// A custom normaliser panicked.
    Panic {
        kind: String,
        message: String,
    },
}

/// Adds declared kind names to `declared` (canonical, once each; a name that is not a valid
/// kind name is left out, and so never matches): [`CsvOptions::declare_kinds`] and
/// `ArrowOptions::declare_kinds` (feature `arrow`).
pub(crate) fn declare<S: AsRef<str>>(declared: &mut Option<Vec<String>>, names: impl IntoIterator<Item = S>) {
    let declared = declared.get_or_insert_with(Vec::new);
    for n in names {
        if let Ok(n) = Kinds::canonical_name(n.as_ref()) {
            if !declared.contains(&n) {
                declared.push(n);
            }
        }
    }
}

/// Why [`KindGate::admit`] refused a new kind name.
pub(crate) enum Refusal {
    /// A likely column mix-up (strict mode only): the message, which ends the read.
    MixUp(String),
    /// The name is not a kind name, the registry is full, or the kind is not declared: the
    /// line is at fault (an error in strict mode, a rejection in lenient mode).
    Kind(KindError),
}

/// New kind names: registered (and listed) or refused (when kinds are declared), and counted
/// at the start of the read for the column mix-up check. Shared by the CSV reader and the Arrow
/// one (the `arrow` module), so that both treat kinds alike.
pub(crate) struct KindGate {
    declared: Option<Vec<String>>,
    /// A column mix-up is an error (else a warning).
    strict: bool,
    /// Data lines (or rows) seen: the reader counts each before admitting its kind.
    pub(crate) lines: u64,
    /// Distinct new names seen in the first [`MIXUP_LINES`] lines (at most one past the limit).
    early: Vec<String>,
    /// The kinds registered, in the order first seen (the reader drains them into its report).
    pub(crate) new_kinds: Vec<NewKind>,
    /// Column mix-up warnings (lenient mode; the reader drains them into its report).
    pub(crate) warnings: Vec<(u64, String)>,
}

impl KindGate {
    pub(crate) fn new(declared: Option<Vec<String>>, strict: bool) -> Self {
        Self { declared, strict, lines: 0, early: Vec::new(), new_kinds: Vec::new(), warnings: Vec::new() }
    }

    /// The id of a kind name the registry does not know: registered, or refused. `line` is
    /// where it appears (a line, or for Arrow a 0-based row), for the report.
    pub(crate) fn admit(
        &mut self,
        kinds: &mut Kinds,
        raw: &str,
        line: u64,
    ) -> Result<crate::KindId, Refusal> {
        let name = Kinds::canonical_name(raw).map_err(Refusal::Kind)?;
        if self.lines <= MIXUP_LINES && self.early.len() <= MIXUP_KINDS && !self.early.contains(&name) {
            self.early.push(name.clone());
            if self.early.len() > MIXUP_KINDS {
                let message = format!(
                    "field kind: more than {MIXUP_KINDS} new kind names within the first {MIXUP_LINES} \
                     lines: likely a column mix-up (kind and value swapped or shifted)"
                );
                if self.strict {
                    return Err(Refusal::MixUp(message));
                }
                self.warnings.push((line, message));
            }
        }
        let suggestion = crate::kind::suggest(&name);
        if self.declared.as_ref().is_some_and(|d| !d.contains(&name)) {
            return Err(Refusal::Kind(KindError::Undeclared { name, suggestion }));
        }
        let id = kinds.register(&name, Normalizer::Text).map_err(Refusal::Kind)?;
        self.new_kinds.push(NewKind { name, line, suggestion: suggestion.map(String::from) });
        Ok(id)
    }
}

struct Columns {
    account: usize,
    kind: usize,
    value: usize,
    time: Option<usize>,
    /// The header's names, for messages.
    names: Vec<String>,
}

impl Columns {
    fn from_header(h: &csv::ByteRecord) -> Result<Columns, String> {
        let mut names = Vec::with_capacity(h.len());
        for f in h.iter() {
            let f = std::str::from_utf8(f).map_err(|_| "not valid UTF-8".to_string())?;
            names.push(f.trim().trim_start_matches('\u{feff}').trim().to_string());
        }
        let find = |wanted: &[&str]| -> Result<Option<usize>, String> {
            let mut found = None;
            for (i, f) in names.iter().enumerate() {
                if wanted.iter().any(|w| f.eq_ignore_ascii_case(w)) {
                    if found.is_some() {
                        return Err(format!("column {} appears twice", wanted[0]));
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
        Ok(Columns { account, kind, value, time, names })
    }

    /// The name of column `i` (`#7` past the header's end).
    fn name(&self, i: usize) -> String {
        match self.names.get(i) {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("#{}", i + 1),
        }
    }

    /// Checks and normalises one record, appending account, value and raw value to `text`.
    #[allow(clippy::type_complexity)]
    fn prepare(
        &self,
        r: &csv::ByteRecord,
        line: u64,
        kinds: &mut Kinds,
        gate: &mut KindGate,
        scratch: &mut String,
        text: &mut String,
    ) -> Result<((u32, u32), (u32, u32), (u32, u32), crate::KindId, i64), Fault> {
        // The record's fields, checked as UTF-8 once (a field that is not is found, and named,
        // field by field).
        let whole = std::str::from_utf8(r.as_slice()).ok();
        let field = |i: usize, name: &'static str| -> Result<&str, Fault> {
            if let Some(f) = whole.zip(r.range(i)).and_then(|(w, range)| w.get(range)) {
                return Ok(f);
            }
            let bytes = r.get(i).ok_or(Fault::Field(name, "missing"))?;
            std::str::from_utf8(bytes).map_err(|_| Fault::Field(name, "not valid UTF-8"))
        };
        let account = field(self.account, "account")?;
        let kind = field(self.kind, "kind")?;
        let value = field(self.value, "value")?;
        let time = match self.time.filter(|&i| i < r.len()) {
            None => None,
            Some(i) => {
                let t = field(i, "timestamp")?;
                if t.trim().is_empty() {
                    None
                } else {
                    Some(parse_timestamp(t).map_err(|e| Fault::Observation(ObservationError::Timestamp(e)))?)
                }
            }
        };
        let account = crate::observation::check_account(account).map_err(Fault::Observation)?;
        let kind_id = match kinds.get(kind) {
            Some(k) => k,
            None => gate.admit(kinds, kind, line).map_err(|refusal| match refusal {
                Refusal::MixUp(message) => Fault::Message(message),
                Refusal::Kind(e) => Fault::Observation(ObservationError::Kind(e)),
            })?,
        };
        let checked = if matches!(kinds.normalizer(kind_id), Normalizer::Custom(..)) {
            // The caller's code: a panic in it ends the read with an error naming the line.
            let run = std::panic::AssertUnwindSafe(|| {
                crate::observation::check_value(kinds, account, kind_id, value, time, scratch)
            });
            match std::panic::catch_unwind(run) {
                Ok(checked) => checked,
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    return Err(Fault::Panic { kind: kinds.name(kind_id).to_string(), message });
                }
            }
        } else {
            crate::observation::check_value(kinds, account, kind_id, value, time, scratch)
        }
        .map_err(Fault::Observation)?;
        let (account, normalized, raw) =
            pack(text, checked.account, scratch, value).ok_or(Fault::Record("batch too large"))?;
        Ok((account, normalized, raw, checked.kind, checked.time))
    }
}

/// Byte ranges of a text buffer: `(start, end)`.
pub(crate) type Span = (u32, u32);

/// Appends a checked observation's account, canonical value and raw value (trimmed; shared with
/// the canonical one when equal) to `text`, a batch's buffer; their ranges there, or `None`
/// when the buffer would pass 4 GiB.
pub(crate) fn pack(
    text: &mut String,
    account: &str,
    canonical: &str,
    raw: &str,
) -> Option<(Span, Span, Span)> {
    if text.len() + account.len() + canonical.len() + raw.len() >= u32::MAX as usize {
        return None;
    }
    let mut put = |s: &str| {
        let a = text.len() as u32;
        text.push_str(s);
        (a, text.len() as u32)
    };
    let account = put(account);
    let normalized = put(canonical);
    let raw = raw.trim();
    let raw = if raw == canonical { normalized } else { put(raw) };
    Some((account, normalized, raw))
}
