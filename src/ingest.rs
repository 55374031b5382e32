//! Ingest: observations from CSV files, streamed, every error placed by file, line and field.
//!
//! The header names the columns, in any order: `account`, `kind`, `value` are required,
//! `timestamp` (or `time`) is optional; other columns are ignored. A timestamp is unix seconds
//! or RFC 3339 (see [`crate::time`]); an empty timestamp means none. The reader streams in
//! 4 MiB chunks cut at record boundaries (found by the csv parser, so quoted newlines are
//! safe): a producer thread parses, checks and normalises each chunk while the calling thread
//! interns the previous one, in order. Memory grows with the graph, not the file: at most a few
//! chunks are in flight. A line longer than [`MAX_LINE`] bytes is refused, with at most twice
//! that buffered.
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
///
/// # Examples
///
/// ```
/// assert_eq!(sellerlink::ingest::MAX_LINE, 16 << 20);
/// ```
pub const MAX_LINE: usize = 16 << 20;

/// How many example rejections a report keeps.
///
/// # Examples
///
/// See [`IngestReport`].
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
    chunk: Option<usize>,
    size: Option<u64>,
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
        Self { lenient: false, ..Self::default() }
    }

    /// Lenient: bad lines are skipped, counted and reported.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sellerlink::ingest::CsvOptions::lenient().is_lenient());
    /// ```
    pub fn lenient() -> Self {
        Self { lenient: true, ..Self::default() }
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
        self.chunk = Some(bytes.max(1));
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
        self.size = Some(bytes);
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    let file = File::open(path).map_err(|cause| IngestError::Io { path: path.to_path_buf(), cause })?;
    let mut options = options.clone();
    if options.size.is_none() {
        options.size = file.metadata().ok().map(|m| m.len());
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
    let kinds = std::mem::take(&mut builder.collected.kinds);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
    let strict = !options.lenient;
    let chunk = options.chunk.unwrap_or(CHUNK);
    std::thread::scope(|scope| {
        let producer_path = path.clone();
        let producer = scope.spawn(move || produce(reader, producer_path, strict, chunk, kinds, tx));
        let result = consume(rx, &path, options, builder);
        match producer.join() {
            Ok(kinds) => builder.collected.kinds = kinds,
            // The producer cannot panic on input (every fault is a value); should it ever,
            // keep the builder usable with the built-in kinds and say so.
            Err(_) => {
                builder.collected.kinds = crate::kind::Kinds::new();
                return Err(IngestError::Record {
                    at: Location { path: path.clone(), line: 0 },
                    reason: "internal error in the CSV reader".into(),
                });
            }
        }
        result
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
}

enum Entry {
    Obs { line: u64, account: (u32, u32), value: (u32, u32), raw: (u32, u32), kind: crate::KindId, time: i64 },
    Reject { line: u64, reason: String, message: String },
}

fn consume(
    rx: std::sync::mpsc::Receiver<Msg>,
    path: &Path,
    options: &CsvOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, IngestError> {
    let at = |line: u64| Location { path: path.to_path_buf(), line };
    let mut report = IngestReport::default();
    let mut size = options.size;
    for msg in rx {
        let batch = match msg {
            Msg::Batch(b) => b,
            Msg::Fail(e) => return Err(e),
        };
        report.records += batch.records;
        let before = builder.distinct_counts();
        let text = &batch.text;
        let slice = |(a, b): (u32, u32)| &text[a as usize..b as usize];
        for entry in batch.entries {
            match entry {
                Entry::Obs { line, account, value, raw, kind, time } => {
                    match builder.add_checked(slice(account), kind, slice(value), slice(raw), time) {
                        Ok(()) => report.accepted += 1,
                        Err(e) if options.lenient => {
                            let message =
                                IngestError::Observation { at: at(line), cause: e.clone() }.to_string();
                            report.reject(line, e.reason(), message);
                            check_limit(&report, options, &at, line)?;
                        }
                        Err(e) => return Err(IngestError::Observation { at: at(line), cause: e }),
                    }
                }
                Entry::Reject { line, reason, message } => {
                    report.reject(line, reason, message);
                    check_limit(&report, options, &at, line)?;
                }
            }
        }
        // After the first full chunk of a file: size the tables for the rest, at the rates of
        // new accounts and artifacts per row seen so far (an upper bound: later rows repeat
        // more). Bounded by one row per 16 bytes left, so the room is proportional to the file.
        if let Some(total) = size.take().filter(|_| batch.bytes >= CHUNK / 2 && batch.records > 0) {
            let left = total.saturating_sub(batch.bytes as u64);
            let rows = (left as f64 * batch.records as f64 / batch.bytes as f64).min(left as f64 / 16.0);
            let rate = |after: usize, before: usize| (after - before) as f64 / batch.records as f64;
            let after = builder.distinct_counts();
            builder.reserve(
                rows as usize,
                (rows * rate(after.0, before.0)) as usize,
                (rows * rate(after.1, before.1)) as usize,
            );
        }
    }
    Ok(report)
}

/// The producer: chunks the input at record boundaries (found by the csv parser itself: each
/// chunk's last record is carried into the next), parses, checks and normalises. Returns the
/// kinds registry (custom kinds may have been added).
fn produce<R: Read>(
    mut reader: R,
    path: PathBuf,
    strict: bool,
    chunk: usize,
    mut kinds: crate::kind::Kinds,
    tx: std::sync::mpsc::SyncSender<Msg>,
) -> crate::kind::Kinds {
    let at = |line: u64| Location { path: path.clone(), line };
    // Grows as data arrives (no up-front 4 MiB per call): small inputs stay cheap.
    let mut buf: Vec<u8> = Vec::new();
    let mut scratch_read = vec![0u8; chunk.clamp(1, 64 << 10)];
    let mut eof = false;
    let mut line_base: u64 = 1;
    let mut cols: Option<Columns> = None;
    let mut scratch = String::new();
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
                    let _ =
                        tx.send(Msg::Fail(IngestError::Record { at: at(line_base), reason: e.to_string() }));
                    return kinds;
                }
            }
        }
        // One pass of the csv parser over the chunk: a record is handled once the next one
        // has parsed (so it is known to be whole), or at the end of the input; the last record
        // of a chunk is otherwise carried into the next chunk.
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&buf[..]);
        let mut batch = Batch::default();
        let mut fail = None;
        let mut pending: Option<(usize, u64)> = None; // start byte and line of `record`
        let mut handled = 0usize;
        let mut consumed = 0usize;
        loop {
            let pos = rdr.position().clone();
            let more = matches!(rdr.read_byte_record(&mut next), Ok(true));
            if let Some((start, line)) = pending.take() {
                if !more && !eof {
                    consumed = start; // possibly cut short: the next chunk reads it again
                    break;
                }
                let end = if more { pos.byte() as usize } else { buf.len() };
                consumed = end;
                if end - start > MAX_LINE {
                    fail = Some(IngestError::Record {
                        at: at(line_base + line - 1),
                        reason: "line longer than 16 MiB".into(),
                    });
                    break;
                }
                handled += 1;
                let line = line_base + line - 1;
                if let Err(e) =
                    handle(&record, line, &mut cols, &mut kinds, &mut scratch, &mut batch, strict, &at)
                {
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
        if handled == 0 && fail.is_none() && !eof {
            if buf.len() > MAX_LINE {
                let _ = tx.send(Msg::Fail(IngestError::Record {
                    at: at(line_base),
                    reason: "line longer than 16 MiB".into(),
                }));
                return kinds;
            }
            want = buf.len() * 2;
            continue;
        }
        want = chunk;
        batch.bytes = consumed;
        if cols.is_none() && fail.is_none() && eof {
            fail = Some(IngestError::Header {
                at: at(1),
                reason: "empty file: expected account,kind,value[,timestamp]".into(),
            });
        }
        if tx.send(Msg::Batch(batch)).is_err() {
            return kinds; // the consumer stopped
        }
        if let Some(e) = fail {
            let _ = tx.send(Msg::Fail(e));
            return kinds;
        }
        line_base += buf[..consumed].iter().filter(|&&b| b == b'\n').count() as u64;
        buf.drain(..consumed);
        if eof {
            return kinds; // every record was handled
        }
    }
}

/// Handles one whole record of a chunk: the header, a blank line, an observation or a
/// rejection (added to `batch`); the error that ends the read, if any.
#[allow(clippy::too_many_arguments)]
fn handle(
    record: &csv::ByteRecord,
    line: u64,
    cols: &mut Option<Columns>,
    kinds: &mut crate::kind::Kinds,
    scratch: &mut String,
    batch: &mut Batch,
    strict: bool,
    at: &impl Fn(u64) -> Location,
) -> Result<(), IngestError> {
    if record.len() == 1 && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
        return Ok(()); // blank line
    }
    let Some(c) = cols.as_ref() else {
        *cols = Some(
            Columns::from_header(record).map_err(|reason| IngestError::Header { at: at(line), reason })?,
        );
        return Ok(());
    };
    batch.records += 1;
    match c.prepare(record, kinds, scratch, &mut batch.text) {
        Ok((account, value, raw, kind, time)) => {
            batch.entries.push(Entry::Obs { line, account, value, raw, kind, time })
        }
        Err(fault) => {
            let (reason, err) = match fault {
                Fault::Record(r) => {
                    (r.to_string(), IngestError::Record { at: at(line), reason: r.to_string() })
                }
                Fault::Observation(o) => (o.reason(), IngestError::Observation { at: at(line), cause: o }),
            };
            if strict {
                return Err(err);
            }
            batch.entries.push(Entry::Reject { line, reason, message: err.to_string() });
        }
    }
    Ok(())
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

    /// Checks and normalises one record, appending account, value and raw value to `text`.
    #[allow(clippy::type_complexity)]
    fn prepare(
        &self,
        r: &csv::ByteRecord,
        kinds: &mut crate::kind::Kinds,
        scratch: &mut String,
        text: &mut String,
    ) -> Result<((u32, u32), (u32, u32), (u32, u32), crate::KindId, i64), Fault> {
        let field = |i: usize, missing: &'static str| -> Result<&str, Fault> {
            let bytes = r.get(i).ok_or(Fault::Record(missing))?;
            std::str::from_utf8(bytes).map_err(|_| Fault::Record("not valid UTF-8"))
        };
        let account = field(self.account, "missing field account")?;
        let kind = field(self.kind, "missing field kind")?;
        let value = field(self.value, "missing field value")?;
        let time = match self.time.and_then(|i| r.get(i)) {
            None => None,
            Some(t) => {
                let t = std::str::from_utf8(t).map_err(|_| Fault::Record("not valid UTF-8"))?;
                if t.trim().is_empty() {
                    None
                } else {
                    Some(parse_timestamp(t).map_err(|e| Fault::Observation(ObservationError::Timestamp(e)))?)
                }
            }
        };
        let checked = crate::observation::check(kinds, account, kind, value, time, scratch)
            .map_err(Fault::Observation)?;
        let (account, kind_id, time) = (checked.account, checked.kind, checked.time);
        if text.len() + account.len() + scratch.len() + value.len() >= u32::MAX as usize {
            return Err(Fault::Record("batch too large"));
        }
        let mut put = |s: &str| {
            let a = text.len() as u32;
            text.push_str(s);
            (a, text.len() as u32)
        };
        let account = put(account);
        let normalized = put(scratch);
        let raw = value.trim();
        let raw = if raw == scratch.as_str() { normalized } else { put(raw) };
        Ok((account, normalized, raw, kind_id, time))
    }
}
