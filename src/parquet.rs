//! Parquet: observations from a Parquet file, clusters to one (feature `parquet`).
//!
//! [`read_parquet_path`] reads the same columns as CSV (`account`, `kind`, `value`, optional
//! `timestamp`; see [`crate::arrow`] for the types taken: a timestamp may be `int64` unix
//! seconds or a Parquet/Arrow timestamp of any unit). Only those columns are read, and the
//! file streams by row group, a slice of rows at a time, so memory grows with the graph, not
//! with the file. Uncompressed, snappy (pyarrow's and pandas' default), zstd (polars'), lz4 and
//! gzip pages are read; brotli is left out to keep the build light, and a brotli file is an
//! error naming it.
//!
//! Errors name the file, the row group and the row: `obs.parquet: row group 3, row 1207 (input
//! row 30017): field value: invalid ip: not an IPv4 or IPv6 address`.
//!
//! [`write_clusters_path`] writes `account, cluster` (Utf8, UInt32), the rows of
//! [`crate::arrow::clusters_batches`], snappy-compressed.

use std::fs::File;
use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::arrow::{ArrowOptions, Columns, Source, TableError};
use crate::builder::IndexBuilder;
use crate::ingest::{IngestReport, Row};
use crate::kind::Kinds;
use crate::update::Updater;
use crate::{Index, Level};

/// Rows decoded per batch.
const BATCH_ROWS: usize = 1 << 16;

/// True for a path whose extension is `.parquet` (any case): the tools choose CSV or Parquet
/// by the extension.
///
/// # Examples
///
/// ```
/// use sellerlink::parquet::is_parquet_path;
/// assert!(is_parquet_path(std::path::Path::new("day2.PARQUET")));
/// assert!(!is_parquet_path(std::path::Path::new("day2.csv")));
/// ```
pub fn is_parquet_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Reads observations from a Parquet file into `builder`.
///
/// # Errors
///
/// [`TableError`] naming the file, and for a bad row its row group and row; in lenient mode
/// only for an unreadable file, missing or unusable columns, a damaged page or too many
/// rejections.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, Level};
/// use sellerlink::arrow::ArrowOptions;
/// use sellerlink::parquet::{read_parquet_path, write_clusters_path};
/// # let dir = std::env::temp_dir().join(format!("sellerlink-doc-parquet-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("obs.parquet");
/// # {
/// #     use std::sync::Arc;
/// #     use sellerlink::arrow::arrow_array::{ArrayRef, RecordBatch, StringArray};
/// #     let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
/// #     let batch = RecordBatch::try_from_iter([
/// #         ("account", col(&["s1", "s2"])), ("kind", col(&["device", "device"])), ("value", col(&["d", "D"])),
/// #     ])?;
/// #     let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path)?, batch.schema(), None)?;
/// #     w.write(&batch)?;
/// #     w.close()?;
/// # }
/// let mut b = IndexBuilder::new();
/// let report = read_parquet_path(&path, &ArrowOptions::strict(), &mut b)?;
/// assert_eq!(report.accepted, 2);
/// let index = b.build()?;
/// assert_eq!(index.clustering().len(), 1);
/// write_clusters_path(&index, Level::Operators, dir.join("clusters.parquet"))?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_parquet_path(
    path: impl AsRef<Path>,
    options: &ArrowOptions,
    builder: &mut IndexBuilder,
) -> Result<IngestReport, TableError> {
    let mut kinds = std::mem::take(&mut builder.collected.kinds);
    let result = read_groups(path.as_ref(), |_| true, options, &mut kinds, &mut *builder);
    builder.collected.kinds = kinds;
    result
}

/// Reads the row groups of a Parquet file that `select` keeps (by index), as
/// [`read_parquet_path`] reads a whole file (the same columns, checks, normalisers, lenient
/// counting and kind registration into `kinds`), and hands each accepted row to `each`, in
/// file order, instead of building: for a caller that reads its share of a file and routes the
/// rows elsewhere (the distributed backend gives each worker every n-th row group).
/// [`Row::line`] is the row's place in the whole file (0-based), as errors give it.
///
/// # Errors
///
/// As [`read_parquet_path`]; places are rows of the whole file.
///
/// # Examples
///
/// ```
/// use sellerlink::{arrow::ArrowOptions, kind::Kinds, parquet::read_parquet_rows};
/// # let path = std::env::temp_dir().join(format!("sellerlink-doc-rows-{}.parquet", std::process::id()));
/// # {
/// #     use std::sync::Arc;
/// #     use sellerlink::arrow::arrow_array::{ArrayRef, RecordBatch, StringArray};
/// #     let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
/// #     let props = parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(2)).build();
/// #     let batch = RecordBatch::try_from_iter([
/// #         ("account", col(&["s1", "s2", "s3", "s4"])),
/// #         ("kind", col(&["device", "device", "phone", "device"])),
/// #         ("value", col(&["D-1", "d-1", "not a phone", "d-2"])),
/// #     ])?;
/// #     let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path)?, batch.schema(), Some(props))?;
/// #     w.write(&batch)?;
/// #     w.close()?;
/// # }
/// // Row groups of two rows each; read the second.
/// let mut kinds = Kinds::new();
/// let mut seen = Vec::new();
/// let report = read_parquet_rows(&path, |g| g == 1, &ArrowOptions::lenient(), &mut kinds, |row| {
///     seen.push((row.line, row.account.to_string(), row.value.to_string()));
/// })?;
/// assert_eq!(seen, [(3, "s4".to_string(), "d-2".to_string())]);
/// assert_eq!((report.records, report.rejected), (2, 1));
/// assert_eq!(report.examples[0].0, 2); // the rejected row, counted in the whole file
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_parquet_rows(
    path: impl AsRef<Path>,
    select: impl Fn(usize) -> bool,
    options: &ArrowOptions,
    kinds: &mut Kinds,
    each: impl FnMut(Row<'_>) + Send,
) -> Result<IngestReport, TableError> {
    read_groups(path.as_ref(), select, options, kinds, crate::arrow::EachRow(each))
}

/// Reads the row groups that `select` keeps, in file order, each from its first row, into
/// `target`: what [`read_parquet_path`] and [`read_parquet_rows`] share.
fn read_groups(
    path: &Path,
    select: impl Fn(usize) -> bool,
    options: &ArrowOptions,
    kinds: &mut Kinds,
    target: impl crate::arrow::Target,
) -> Result<IngestReport, TableError> {
    let file = File::open(path).map_err(|cause| TableError::Io { path: path.to_path_buf(), cause })?;
    let format = |e: &dyn std::fmt::Display| TableError::Format {
        path: path.to_path_buf(),
        reason: format!("not a readable Parquet file: {e}"),
    };
    let metadata = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| format(&e))?;
    let columns = Columns::find(metadata.schema())
        .map_err(|reason| TableError::Schema { path: path.to_path_buf(), reason })?;
    let mut roots = vec![columns.account, columns.kind, columns.value];
    roots.extend(columns.time);
    let mask = ProjectionMask::roots(metadata.metadata().file_metadata().schema_descr(), roots);
    let mut group_starts = Vec::with_capacity(metadata.metadata().num_row_groups());
    let (mut rows, mut selected) = (0u64, 0u64);
    let mut groups = Vec::new();
    for (g, group) in metadata.metadata().row_groups().iter().enumerate() {
        group_starts.push(rows);
        let n = u64::try_from(group.num_rows()).unwrap_or(0);
        if select(g) {
            groups.push((g, rows));
            selected += n;
        }
        rows += n;
    }
    let mut options = options.clone();
    if options.format.rows.is_none() {
        options = options.rows_hint(selected);
    }
    // One reader per row group, opened as the read reaches it.
    let parts = groups.into_iter().map(|(g, row0)| {
        let reader = file
            .try_clone()
            .map_err(parquet::errors::ParquetError::from)
            .and_then(|f| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(f, metadata.clone())
                    .with_projection(mask.clone())
                    .with_row_groups(vec![g])
                    .with_batch_size(BATCH_ROWS)
                    .build()
            })
            .map_err(|e| arrow_schema::ArrowError::ExternalError(Box::new(e)));
        let batches: Box<dyn Iterator<Item = _>> = match reader {
            Ok(r) => Box::new(r),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        (row0, batches)
    });
    let source = Source { path: path.to_path_buf(), group_starts };
    crate::arrow::ingest_parts(parts, &source, &options, kinds, target)
}

impl Updater<'_> {
    /// Adds observations from a Parquet file, as [`read_parquet_path`].
    ///
    /// # Errors
    ///
    /// As [`read_parquet_path`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use sellerlink::arrow::ArrowOptions;
    /// let index = sellerlink::snapshot::load_path("index.snapshot")?;
    /// let mut u = index.updater();
    /// u.read_parquet_path("day2.parquet", &ArrowOptions::lenient())?;
    /// let (next, changes) = u.finish()?;
    /// # let _ = (next, changes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_parquet_path(
        &mut self,
        path: impl AsRef<Path>,
        options: &ArrowOptions,
    ) -> Result<IngestReport, TableError> {
        read_parquet_path(path, options, self.builder_mut())
    }
}

/// Writes `account, cluster` for every account at `level` to a Parquet file (snappy), the rows
/// of [`crate::arrow::clusters_batches`] in row groups of 1Mi rows.
///
/// # Errors
///
/// [`TableError::Io`] or [`TableError::Format`] naming the file.
///
/// # Examples
///
/// See [`read_parquet_path`].
pub fn write_clusters_path(index: &Index, level: Level, path: impl AsRef<Path>) -> Result<(), TableError> {
    let path = path.as_ref();
    let fail = |e: parquet::errors::ParquetError| TableError::Format {
        path: path.to_path_buf(),
        reason: format!("writing Parquet: {e}"),
    };
    let file = File::create(path).map_err(|cause| TableError::Io { path: path.to_path_buf(), cause })?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer =
        ArrowWriter::try_new(file, crate::arrow::clusters_schema(), Some(props)).map_err(fail)?;
    for batch in crate::arrow::clusters_batches(index, level, 1 << 20) {
        writer.write(&batch).map_err(fail)?;
    }
    writer.close().map_err(fail)?;
    Ok(())
}
