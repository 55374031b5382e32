//! Arrow: observations from Arrow record batches, clusters out as Arrow (feature `arrow`).
//!
//! [`read_batches`] reads any stream of [`RecordBatch`]es with the columns `account`, `kind`,
//! `value` and, optionally, `timestamp` (or `time`), found by name in any order (trimmed, case
//! folded) like the CSV header; other columns are ignored. The rows go through the same
//! per-observation checks and normalisers as CSV ([`crate::ingest`]) and produce the same
//! [`IngestReport`]: strict mode ([`ArrowOptions::strict`]) stops at the first bad row, lenient
//! mode ([`ArrowOptions::lenient`]) skips, counts and reports it.
//!
//! Kinds are treated as in CSV: a kind name that is neither built in nor registered becomes a
//! custom kind, listed in [`IngestReport::new_kinds`] with the built-in kind it probably
//! misspells; [`ArrowOptions::declare_kinds`] refuses custom kinds that are not declared; and
//! more than [`MIXUP_KINDS`](crate::ingest::MIXUP_KINDS) new kind names within the first
//! [`MIXUP_LINES`](crate::ingest::MIXUP_LINES) rows are a likely column mix-up (an error in
//! strict mode, a warning in [`IngestReport::warnings`] in lenient mode).
//!
//! | column | Arrow types accepted |
//! |---|---|
//! | `account`, `kind`, `value` | `Utf8`, `LargeUtf8`, `Utf8View`, a dictionary of one of those, or an integer type (written in decimal) |
//! | `timestamp` | `Int64` (or any integer type) unix seconds, `Timestamp` of any unit (to seconds, rounded down), `Date32`/`Date64`, `Float64`/`Float32` seconds (rounded down), or text as in CSV (unix seconds or RFC 3339) |
//!
//! A null account, kind or value rejects the row (`missing field value`); a null or blank
//! timestamp means none. A column of Arrow's `Null` type (all nulls: polars' type for an empty
//! column) is read as nulls. Rows are checked and normalised on the calling thread while a second
//! thread interns the previous slice, in order, so a large table streams through in slices of
//! 64Ki rows: memory grows with the graph, not with the input.
//!
//! Every error names the place: the input, the row (0-based, counted over the whole input) and,
//! for Parquet (the `parquet` module), the row group and the row within it. In an
//! [`IngestReport`] read from Arrow, `examples` carry that 0-based input row where CSV carries a
//! line number.
//!
//! The other way, [`clusters_batches`] gives `account, cluster` for every account as Arrow, in
//! the order (account names) and with the ids the `cluster` example writes to CSV.
//!
//! The `arrow-array` and `arrow-schema` crates this module is built on are re-exported as
//! [`arrow_array`] and [`arrow_schema`], so a caller builds batches with the same version.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

pub use arrow_array;
pub use arrow_schema;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, LargeStringArray, RecordBatch, StringArray, StringViewArray, UInt32Array,
};
use arrow_schema::{ArrowError, DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};

use crate::builder::IndexBuilder;
use crate::error::ObservationError;
use crate::ingest::{IngestReport, KindGate, MAX_EXAMPLES, NewKind, ReadOptions, Refusal};
use crate::update::Updater;
use crate::{Index, Level};

/// Rows checked per slice: the unit handed from the checking thread to the interning one.
const SLICE_ROWS: usize = 1 << 16;

/// Arrow's and Parquet's own read settings; see [`ArrowOptions`].
///
/// # Examples
///
/// ```
/// let o = sellerlink::arrow::ArrowOptions::strict().rows_hint(1_000_000);
/// # let _ = o;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    pub(crate) rows: Option<u64>,
}

/// Options for reading Arrow and Parquet input: strict or lenient, a rejection limit and
/// declared custom kinds as for CSV (one [`ReadOptions`] struct serves both), and a size hint.
///
/// # Examples
///
/// ```
/// use sellerlink::arrow::ArrowOptions;
/// let opts = ArrowOptions::lenient().max_rejections(1000).rows_hint(10_000_000);
/// assert!(opts.is_lenient());
/// assert!(!ArrowOptions::default().is_lenient());
/// ```
///
/// Declared kinds refuse every other new kind, in a table as in CSV:
///
/// ```
/// use std::sync::Arc;
/// use sellerlink::IndexBuilder;
/// use sellerlink::arrow::{ArrowOptions, read_batches};
/// use sellerlink::arrow::arrow_array::{ArrayRef, RecordBatch, StringArray};
/// let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
/// let batch = RecordBatch::try_from_iter([
///     ("account", col(&["s1", "s2"])),
///     ("kind", col(&["tax_id", "devcie"])),
///     ("value", col(&["DE-1", "fp-1"])),
/// ])?;
/// let options = ArrowOptions::strict().declare_kinds(["tax_id"]);
/// let err = read_batches([Ok(batch.clone())], "table", &options, &mut IndexBuilder::new()).unwrap_err();
/// assert_eq!(err.to_string(), "table: row 1: field kind: undeclared kind \"devcie\" (did you mean device?)");
/// // lenient: the row is rejected and counted
/// let options = ArrowOptions::lenient().declare_kinds(["tax_id"]);
/// let report = read_batches([Ok(batch)], "table", &options, &mut IndexBuilder::new())?;
/// assert_eq!((report.accepted, report.rejected), (1, 1));
/// assert_eq!(report.by_reason.get("undeclared kind"), Some(&1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ArrowOptions = ReadOptions<Tables>;

impl ReadOptions<Tables> {
    /// The number of rows the input has, when known (a Parquet file's metadata says it): the
    /// first slice's new accounts and artifacts per row then size the builder's tables for the
    /// whole input, so that they do not grow and rehash on the way. Only a hint.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = sellerlink::arrow::ArrowOptions::strict().rows_hint(1_000_000);
    /// # let _ = o;
    /// ```
    pub fn rows_hint(mut self, rows: u64) -> Self {
        self.format.rows = Some(rows);
        self
    }
}

pub use crate::error::{RowPlace, TableError};

/// Reads observations from Arrow record batches into `builder`; `path` names the input in
/// errors. See the [module docs](self) for the columns and types.
///
/// # Errors
///
/// [`TableError`] naming the input and row; in lenient mode only for missing or unusable
/// columns, a failing stream or too many rejections.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sellerlink::IndexBuilder;
/// use sellerlink::arrow::{ArrowOptions, read_batches};
/// use sellerlink::arrow::arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
/// let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
/// let batch = RecordBatch::try_from_iter([
///     ("account", col(&["store-a", "store-b", "store-c"])),
///     ("kind", col(&["device", "device", "ip"])),
///     ("value", col(&["fp:9c1e", "FP:9C1E", "nope"])),
///     ("timestamp", Arc::new(Int64Array::from(vec![Some(1_700_000_000), None, None])) as ArrayRef),
/// ])?;
/// let mut b = IndexBuilder::new();
/// let report = read_batches([Ok(batch)], "table", &ArrowOptions::lenient(), &mut b)?;
/// assert_eq!((report.records, report.accepted, report.rejected), (3, 2, 1));
/// assert_eq!(report.examples[0].0, 2); // the 0-based row
/// let index = b.build()?;
/// assert_eq!(index.clustering().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_batches<I>(
    batches: I,
    path: impl AsRef<Path>,
    options: &ArrowOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, TableError>
where
    I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
{
    let source = Source { path: path.as_ref().to_path_buf(), group_starts: Vec::new() };
    ingest(batches.into_iter(), &source, options, builder)
}

impl Updater<'_> {
    /// Adds observations from Arrow record batches, as [`read_batches`].
    ///
    /// # Errors
    ///
    /// As [`read_batches`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sellerlink::arrow::{ArrowOptions, arrow_array::{ArrayRef, RecordBatch, StringArray}};
    /// let index = sellerlink::IndexBuilder::new().build()?;
    /// let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    /// let batch = RecordBatch::try_from_iter([
    ///     ("account", col(&["s1", "s2"])), ("kind", col(&["device", "device"])), ("value", col(&["d", "d"])),
    /// ])?;
    /// let mut u = index.updater();
    /// u.read_batches([Ok(batch)], "day2", &ArrowOptions::strict())?;
    /// let (next, changes) = u.finish()?;
    /// assert_eq!(next.clustering().len(), 1);
    /// assert_eq!(changes.appeared, vec!["s1".to_string()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_batches<I>(
        &mut self,
        batches: I,
        path: impl AsRef<Path>,
        options: &ArrowOptions,
    ) -> Result<IngestReport, TableError>
    where
        I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    {
        read_batches(batches, path, options, self.builder_mut())
    }
}

/// An input's name and, for Parquet, where each row group starts.
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    /// The first row of each row group (empty for a stream).
    pub(crate) group_starts: Vec<u64>,
}

impl Source {
    fn at(&self, row: u64) -> RowPlace {
        let row_group = match self.group_starts.partition_point(|&s| s <= row) {
            0 => None,
            g => Some(((g - 1) as u64, row - self.group_starts[g - 1])),
        };
        RowPlace { path: self.path.clone(), row, row_group }
    }
}

/// The columns of an observation table, by index into a schema.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Columns {
    pub(crate) account: usize,
    pub(crate) kind: usize,
    pub(crate) value: usize,
    pub(crate) time: Option<usize>,
}

impl Columns {
    /// Finds the columns by name, as the CSV reader finds them in a header.
    pub(crate) fn find(schema: &Schema) -> Result<Columns, String> {
        let find = |names: &[&str]| -> Result<Option<usize>, String> {
            let mut found = None;
            for (i, f) in schema.fields().iter().enumerate() {
                let name = f.name().trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
                if names.contains(&name.as_str()) {
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
        Ok(Columns {
            account: need(find(&["account"])?, "account")?,
            kind: need(find(&["kind"])?, "kind")?,
            value: need(find(&["value"])?, "value")?,
            time: find(&["timestamp", "time"])?,
        })
    }
}

enum Msg {
    Slice(Slice),
    Fail(TableError),
}

#[derive(Default)]
struct Slice {
    text: String,
    entries: Vec<Entry>,
    rows: u64,
    new_kinds: Vec<NewKind>,
    warnings: Vec<(u64, String)>,
}

enum Entry {
    Obs { row: u64, account: (u32, u32), value: (u32, u32), raw: (u32, u32), kind: crate::KindId, time: i64 },
    Reject { row: u64, reason: String, message: String },
}

/// Where the rows a read accepts go: a builder, or a caller's function.
pub(crate) trait Target: Send {
    /// Adds one checked, normalised observation (`time` is [`crate::graph::NO_TIME`] when
    /// the row has none).
    fn add(
        &mut self,
        row: u64,
        account: &str,
        kind: crate::KindId,
        value: &str,
        raw: &str,
        time: i64,
    ) -> Result<(), ObservationError>;

    /// Distinct accounts and artifacts so far, to size tables from the first slice's rates.
    fn counts(&self) -> Option<(usize, usize)> {
        None
    }

    /// Room for `rows` more rows, with about `accounts` and `artifacts` new ones.
    fn reserve(&mut self, _rows: usize, _accounts: usize, _artifacts: usize) {}
}

impl Target for &mut IndexBuilder {
    fn add(
        &mut self,
        _row: u64,
        account: &str,
        kind: crate::KindId,
        value: &str,
        raw: &str,
        time: i64,
    ) -> Result<(), ObservationError> {
        self.add_checked(account, kind, value, raw, time)
    }

    fn counts(&self) -> Option<(usize, usize)> {
        Some(self.distinct_counts())
    }

    fn reserve(&mut self, rows: usize, accounts: usize, artifacts: usize) {
        IndexBuilder::reserve(self, rows, accounts, artifacts);
    }
}

/// A caller's function as a [`Target`]: every accepted row, as a [`crate::ingest::Row`].
pub(crate) struct EachRow<F>(pub(crate) F);

impl<F: FnMut(crate::ingest::Row<'_>) + Send> Target for EachRow<F> {
    fn add(
        &mut self,
        row: u64,
        account: &str,
        kind: crate::KindId,
        value: &str,
        raw: &str,
        time: i64,
    ) -> Result<(), ObservationError> {
        let time = (time != crate::graph::NO_TIME).then_some(time);
        (self.0)(crate::ingest::Row { line: row, account, kind, value, raw, time });
        Ok(())
    }
}

/// Reads, checks and normalises on this thread; interns on a second one, in order.
pub(crate) fn ingest(
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    source: &Source,
    options: &ArrowOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, TableError> {
    let mut kinds = std::mem::take(&mut builder.collected.kinds);
    let joined = ingest_parts(std::iter::once((0, batches)), source, options, &mut kinds, &mut *builder);
    builder.collected.kinds = kinds;
    joined
}

/// Reads parts of one source, each from its first row (`row0`), in order: this thread checks
/// and normalises, a second one hands the rows to `target`.
pub(crate) fn ingest_parts<B, T>(
    parts: impl Iterator<Item = (u64, B)>,
    source: &Source,
    options: &ArrowOptions,
    kinds: &mut crate::kind::Kinds,
    target: T,
) -> Result<IngestReport, TableError>
where
    B: Iterator<Item = Result<RecordBatch, ArrowError>>,
    T: Target,
{
    let (tx, rx) = sync_channel::<Msg>(4);
    let joined = std::thread::scope(|scope| {
        let consumer = scope.spawn(move || consume(rx, source, options, target));
        let mut producer = Producer {
            cols: None,
            scratch: String::new(),
            gate: KindGate::new(options.declared.clone(), !options.is_lenient()),
        };
        for (row0, batches) in parts {
            if !producer.produce(batches, row0, source, options, kinds, &tx) {
                break;
            }
        }
        drop(tx);
        consumer.join()
    });
    joined.unwrap_or_else(|_| {
        Err(TableError::Format {
            path: source.path.clone(),
            reason: "internal error in the Arrow reader".into(),
        })
    })
}

/// The reading side's state across the parts of a source.
struct Producer {
    cols: Option<(SchemaRef, Columns)>,
    scratch: String,
    gate: KindGate,
}

impl Producer {
    /// Checks and normalises `batches`, whose first row is the source's row `row0`, and sends
    /// them on; false once the read has ended (an error, or the consumer stopped).
    fn produce(
        &mut self,
        batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
        mut row0: u64,
        source: &Source,
        options: &ArrowOptions,
        kinds: &mut crate::kind::Kinds,
        tx: &SyncSender<Msg>,
    ) -> bool {
        for batch in batches {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let _ =
                        tx.send(Msg::Fail(TableError::Decode { at: source.at(row0), reason: e.to_string() }));
                    return false;
                }
            };
            let c = match &self.cols {
                Some((schema, c)) if schema == &batch.schema() => *c,
                _ => match Columns::find(&batch.schema()) {
                    Ok(c) => {
                        self.cols = Some((batch.schema(), c));
                        c
                    }
                    Err(reason) => {
                        let _ = tx.send(Msg::Fail(TableError::Schema { path: source.path.clone(), reason }));
                        return false;
                    }
                },
            };
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = SLICE_ROWS.min(batch.num_rows() - offset);
                let part = batch.slice(offset, len);
                let mut slice = Slice::default();
                let result = prepare(
                    &part,
                    c,
                    source,
                    row0,
                    options.is_lenient(),
                    (kinds, &mut self.gate),
                    &mut self.scratch,
                    &mut slice,
                );
                slice.new_kinds = std::mem::take(&mut self.gate.new_kinds);
                slice.warnings = std::mem::take(&mut self.gate.warnings);
                if tx.send(Msg::Slice(slice)).is_err() {
                    return false; // the consumer stopped
                }
                if let Err(e) = result {
                    let _ = tx.send(Msg::Fail(e));
                    return false;
                }
                offset += len;
                row0 += len as u64;
            }
        }
        true
    }
}

/// A fault in one row, before its place is known.
enum Fault {
    Record(&'static str),
    Observation(ObservationError),
    /// An error that ends the read in either mode (a likely column mix-up, in strict mode).
    Message(String),
}

/// Checks and normalises a slice of rows into `slice`; in strict mode the first bad row ends it.
#[allow(clippy::too_many_arguments)]
fn prepare(
    batch: &RecordBatch,
    c: Columns,
    source: &Source,
    row0: u64,
    lenient: bool,
    (kinds, gate): (&mut crate::kind::Kinds, &mut KindGate),
    scratch: &mut String,
    slice: &mut Slice,
) -> Result<(), TableError> {
    let schema_err = |reason: String| TableError::Schema { path: source.path.clone(), reason };
    let account = Strings::new(batch.column(c.account).as_ref(), "account").map_err(schema_err)?;
    let kind = Strings::new(batch.column(c.kind).as_ref(), "kind").map_err(schema_err)?;
    let value = Strings::new(batch.column(c.value).as_ref(), "value").map_err(schema_err)?;
    let times = match c.time {
        Some(i) => Some(times(batch.column(i).as_ref()).map_err(schema_err)?),
        None => None,
    };
    slice.entries.reserve(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = row0 + i as u64;
        slice.rows += 1;
        gate.lines += 1;
        let fault = match prepare_row(
            (i, row),
            (&account, &kind, &value, times.as_deref()),
            (kinds, gate),
            scratch,
            &mut slice.text,
        ) {
            Ok((account, value, raw, kind, time)) => {
                slice.entries.push(Entry::Obs { row, account, value, raw, kind, time });
                continue;
            }
            Err(f) => f,
        };
        let (reason, err) = match fault {
            Fault::Record(r) => {
                (r.to_string(), TableError::Record { at: source.at(row), reason: r.to_string() })
            }
            Fault::Observation(o) => (o.reason(), TableError::Observation { at: source.at(row), cause: o }),
            Fault::Message(m) => return Err(TableError::Record { at: source.at(row), reason: m }),
        };
        if !lenient {
            return Err(err);
        }
        slice.entries.push(Entry::Reject { row, reason, message: err.to_string() });
    }
    Ok(())
}

type Span = (u32, u32);

#[allow(clippy::type_complexity)]
fn prepare_row(
    (i, row): (usize, u64),
    (account, kind, value, times): (&Strings<'_>, &Strings<'_>, &Strings<'_>, Option<&[Time]>),
    (kinds, gate): (&mut crate::kind::Kinds, &mut KindGate),
    scratch: &mut String,
    text: &mut String,
) -> Result<(Span, Span, Span, crate::KindId, i64), Fault> {
    let account = account.get(i).ok_or(Fault::Record("missing field account"))?;
    let kind = kind.get(i).ok_or(Fault::Record("missing field kind"))?;
    let value = value.get(i).ok_or(Fault::Record("missing field value"))?;
    let time = match times {
        None => None,
        Some(t) => t[i].map_err(|r| Fault::Observation(ObservationError::Timestamp(r)))?,
    };
    // As the CSV reader: the account first, then the kind (a new name through the gate).
    let account = crate::observation::check_account(account).map_err(Fault::Observation)?;
    let kind_id = match kinds.get(kind) {
        Some(k) => k,
        None => gate.admit(kinds, kind, row).map_err(|refusal| match refusal {
            Refusal::MixUp(message) => Fault::Message(message),
            Refusal::Kind(e) => Fault::Observation(ObservationError::Kind(e)),
        })?,
    };
    let checked = crate::observation::check_value(kinds, account, kind_id, value, time, scratch)
        .map_err(Fault::Observation)?;
    let (account, normalized, raw) =
        crate::ingest::pack(text, checked.account, scratch, value).ok_or(Fault::Record("slice too large"))?;
    Ok((account, normalized, raw, checked.kind, checked.time))
}

fn consume(
    rx: Receiver<Msg>,
    source: &Source,
    options: &ArrowOptions,
    mut target: impl Target,
) -> Result<IngestReport, TableError> {
    let mut report = IngestReport::default();
    let mut rows_hint = options.format.rows;
    for msg in rx {
        let slice = match msg {
            Msg::Slice(s) => s,
            Msg::Fail(e) => return Err(e),
        };
        report.records += slice.rows;
        report.lines_read += slice.rows;
        report.absorb_kinds(slice.new_kinds, slice.warnings);
        let before = target.counts();
        let text = &slice.text;
        let span = |(a, b): Span| &text[a as usize..b as usize];
        for entry in slice.entries {
            match entry {
                Entry::Obs { row, account, value, raw, kind, time } => {
                    match target.add(row, span(account), kind, span(value), span(raw), time) {
                        Ok(()) => report.accepted += 1,
                        Err(e) if options.is_lenient() => {
                            let message =
                                TableError::Observation { at: source.at(row), cause: e.clone() }.to_string();
                            reject(&mut report, row, e.reason(), message);
                            check_limit(&report, options, source, row)?;
                        }
                        Err(e) => return Err(TableError::Observation { at: source.at(row), cause: e }),
                    }
                }
                Entry::Reject { row, reason, message } => {
                    reject(&mut report, row, reason, message);
                    check_limit(&report, options, source, row)?;
                }
            }
        }
        // After the first full slice: size the tables for the rest, at the first slice's rates
        // of new accounts and artifacts per row (an upper bound: later rows repeat more).
        if let (Some(total), Some(before), Some(after)) =
            (rows_hint.take().filter(|_| slice.rows > 0), before, target.counts())
        {
            let left = total.saturating_sub(report.records) as f64;
            let rate = |after: usize, before: usize| (after - before) as f64 / slice.rows as f64;
            target.reserve(
                left as usize,
                (left * rate(after.0, before.0)) as usize,
                (left * rate(after.1, before.1)) as usize,
            );
        }
    }
    Ok(report)
}

fn reject(report: &mut IngestReport, row: u64, reason: String, message: String) {
    report.rejected += 1;
    *report.by_reason.entry(reason).or_insert(0) += 1;
    if report.examples.len() < MAX_EXAMPLES {
        report.examples.push((row, message));
    }
}

fn check_limit(
    report: &IngestReport,
    options: &ArrowOptions,
    source: &Source,
    row: u64,
) -> Result<(), TableError> {
    match options.over_limit(report.rejected) {
        Some(limit) => Err(TableError::TooManyRejections { at: source.at(row), limit }),
        None => Ok(()),
    }
}

/// A text column, whatever its Arrow encoding.
enum Strings<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    /// Integers, written in decimal.
    Owned(StringArray),
    /// A column of nulls only (Arrow's `Null` type).
    Nulls,
    Dict {
        array: &'a dyn Array,
        keys: Vec<usize>,
        values: Box<Strings<'a>>,
    },
}

impl<'a> Strings<'a> {
    fn new(a: &'a dyn Array, name: &str) -> Result<Strings<'a>, String> {
        macro_rules! decimal {
            ($t:ty) => {
                Strings::Owned(a.as_primitive::<$t>().iter().map(|v| v.map(|v| v.to_string())).collect())
            };
        }
        Ok(match a.data_type() {
            DataType::Null => Strings::Nulls,
            DataType::Utf8 => Strings::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Strings::Large(a.as_string::<i64>()),
            DataType::Utf8View => Strings::View(a.as_string_view()),
            DataType::Int8 => decimal!(Int8Type),
            DataType::Int16 => decimal!(Int16Type),
            DataType::Int32 => decimal!(Int32Type),
            DataType::Int64 => decimal!(Int64Type),
            DataType::UInt8 => decimal!(UInt8Type),
            DataType::UInt16 => decimal!(UInt16Type),
            DataType::UInt32 => decimal!(UInt32Type),
            DataType::UInt64 => decimal!(UInt64Type),
            DataType::Dictionary(_, v) if !matches!(v.as_ref(), DataType::Dictionary(..)) => {
                let d = a.as_any_dictionary();
                let values = Strings::new(d.values().as_ref(), name)?;
                Strings::Dict { array: a, keys: d.normalized_keys(), values: Box::new(values) }
            }
            other => {
                return Err(format!(
                    "column {name} has type {other}; expected text (Utf8, LargeUtf8, Utf8View, a dictionary of text) or integers"
                ));
            }
        })
    }

    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Strings::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Owned(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Nulls => None,
            Strings::Dict { array, keys, values } => {
                if array.is_null(i) {
                    None
                } else {
                    values.get(keys[i])
                }
            }
        }
    }
}

/// One row's timestamp: none, unix seconds, or why it is refused.
type Time = Result<Option<i64>, &'static str>;

/// A timestamp column as unix seconds per row.
fn times(a: &dyn Array) -> Result<Vec<Time>, String> {
    macro_rules! ints {
        ($t:ty, $f:expr) => {
            a.as_primitive::<$t>().iter().map(|v| v.map($f).transpose()).collect()
        };
    }
    fn exact(v: impl TryInto<i64>) -> Result<i64, &'static str> {
        v.try_into().map_err(|_| "timestamp out of range")
    }
    fn float(v: f64) -> Result<i64, &'static str> {
        if !v.is_finite() {
            return Err("timestamp is not a finite number");
        }
        let v = v.floor();
        if v < i64::MIN as f64 || v >= i64::MAX as f64 {
            return Err("timestamp out of range");
        }
        Ok(v as i64)
    }
    let per = |n: i64| move |v: i64| Ok(v.div_euclid(n));
    Ok(match a.data_type() {
        DataType::Int8 => ints!(Int8Type, |v| Ok(i64::from(v))),
        DataType::Int16 => ints!(Int16Type, |v| Ok(i64::from(v))),
        DataType::Int32 => ints!(Int32Type, |v| Ok(i64::from(v))),
        DataType::Int64 => ints!(Int64Type, Ok),
        DataType::UInt8 => ints!(UInt8Type, |v| Ok(i64::from(v))),
        DataType::UInt16 => ints!(UInt16Type, |v| Ok(i64::from(v))),
        DataType::UInt32 => ints!(UInt32Type, |v| Ok(i64::from(v))),
        DataType::UInt64 => ints!(UInt64Type, exact),
        DataType::Float32 => ints!(Float32Type, |v| float(f64::from(v))),
        DataType::Float64 => ints!(Float64Type, float),
        DataType::Timestamp(TimeUnit::Second, _) => ints!(TimestampSecondType, Ok),
        DataType::Timestamp(TimeUnit::Millisecond, _) => ints!(TimestampMillisecondType, per(1_000)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => ints!(TimestampMicrosecondType, per(1_000_000)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => ints!(TimestampNanosecondType, per(1_000_000_000)),
        DataType::Date32 => ints!(Date32Type, |d| Ok(i64::from(d) * 86_400)),
        DataType::Date64 => ints!(Date64Type, per(1_000)),
        DataType::Null => vec![Ok(None); a.len()],
        _ => {
            let text = Strings::new(a, "timestamp").map_err(|_| {
                format!(
                    "column timestamp has type {}; expected integer seconds, a Timestamp, a date, a float or text",
                    a.data_type()
                )
            })?;
            (0..a.len())
                .map(|i| match text.get(i) {
                    Some(t) if !t.trim().is_empty() => crate::time::parse_timestamp(t).map(Some),
                    _ => Ok(None),
                })
                .collect()
        }
    })
}

/// The schema of [`clusters_batches`]: `account` (Utf8) and `cluster` (UInt32, null for an
/// account without one).
///
/// # Examples
///
/// ```
/// let schema = sellerlink::arrow::clusters_schema();
/// assert_eq!(schema.field(0).name(), "account");
/// assert_eq!(schema.field(1).name(), "cluster");
/// ```
pub fn clusters_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        ArrowField::new("account", DataType::Utf8, false),
        ArrowField::new("cluster", DataType::UInt32, true),
    ]))
}

/// `account, cluster` for every account at `level`, as record batches of at most `rows` rows:
/// the rows, order (by account name) and cluster ids of the `cluster` example's CSV output.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, Level};
/// use sellerlink::arrow::arrow_array::cast::AsArray;
/// use sellerlink::arrow::arrow_array::types::UInt32Type;
/// let mut b = IndexBuilder::new();
/// b.add("s2", "device", "d", None)?;
/// b.add("s1", "device", "d", None)?;
/// b.add("s3", "email", "s3@example.com", None)?;
/// let index = b.build()?;
/// let batches = sellerlink::arrow::clusters_batches(&index, Level::Operators, 1 << 20);
/// let accounts = batches[0].column(0).as_string::<i32>();
/// let clusters = batches[0].column(1).as_primitive::<UInt32Type>();
/// assert_eq!(accounts.value(0), "s1");
/// assert_eq!(clusters.value(0), clusters.value(1));
/// assert_ne!(clusters.value(0), clusters.value(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clusters_batches(index: &Index, level: Level, rows: usize) -> Vec<RecordBatch> {
    let rows = rows.max(1);
    let clustering = index.clustering_at(level);
    let schema = clusters_schema();
    let mut out = Vec::new();
    let mut names = arrow_array::builder::StringBuilder::new();
    let mut ids: Vec<Option<u32>> = Vec::with_capacity(rows.min(index.account_count()));
    // A batch also ends before its names pass 1 GiB, well inside Utf8's 32-bit offsets.
    let mut bytes = 0usize;
    let flush = |names: &mut arrow_array::builder::StringBuilder,
                 ids: &mut Vec<Option<u32>>,
                 out: &mut Vec<RecordBatch>| {
        let accounts: ArrayRef = Arc::new(names.finish());
        let clusters: ArrayRef = Arc::new(UInt32Array::from(std::mem::take(ids)));
        if let Ok(b) = RecordBatch::try_new(schema.clone(), vec![accounts, clusters]) {
            out.push(b);
        }
    };
    for a in index.accounts_by_name() {
        let name = index.account_name(a);
        if ids.len() == rows || bytes + name.len() > 1 << 30 {
            flush(&mut names, &mut ids, &mut out);
            bytes = 0;
        }
        bytes += name.len();
        names.append_value(name);
        ids.push(clustering.cluster_of(a).map(|c| c.as_u32()));
    }
    if !ids.is_empty() || out.is_empty() {
        flush(&mut names, &mut ids, &mut out);
    }
    out
}
