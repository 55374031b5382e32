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
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::arrow::{ArrowOptions, Columns, Source, TableError};
use crate::builder::IndexBuilder;
use crate::ingest::IngestReport;
use crate::update::Updater;
use crate::{Index, Level};

/// Rows decoded per batch.
const BATCH_ROWS: usize = 1 << 16;

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
    let path = path.as_ref();
    let file = File::open(path).map_err(|cause| TableError::Io { path: path.to_path_buf(), cause })?;
    let format = |e: &dyn std::fmt::Display| TableError::Format {
        path: path.to_path_buf(),
        reason: format!("not a readable Parquet file: {e}"),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format(&e))?;
    let columns = Columns::find(reader.schema())
        .map_err(|reason| TableError::Schema { path: path.to_path_buf(), reason })?;
    let mut roots = vec![columns.account, columns.kind, columns.value];
    roots.extend(columns.time);
    let mask = ProjectionMask::roots(reader.parquet_schema(), roots);
    let mut group_starts = Vec::with_capacity(reader.metadata().num_row_groups());
    let mut rows = 0u64;
    for g in reader.metadata().row_groups() {
        group_starts.push(rows);
        rows += u64::try_from(g.num_rows()).unwrap_or(0);
    }
    let mut options = options.clone();
    if options.format.rows.is_none() {
        options = options.rows_hint(rows);
    }
    let batches = reader.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| format(&e))?;
    let source = Source { path: path.to_path_buf(), group_starts };
    crate::arrow::ingest(batches, &source, &options, builder)
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
