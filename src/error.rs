//! Errors: one typed error per boundary, each naming the place and the reason.
//!
//! [`ObservationError`] says why one observation was refused (which field, why);
//! [`IngestError`] adds where it stood in a file (path, line) or why the file could not be read;
//! [`SnapshotError`] why a snapshot could not be saved or
//! loaded; [`KindError`] why a kind name was refused; [`GraphError`](crate::leiden::GraphError)
//! why a weighted graph was. [`Error`] is the crate-wide union: every fallible call of the crate
//! converts into it, so a caller who does not care which boundary failed uses `Error` alone.
//!
//! Every message is complete on its own, in lowercase and without a final period: it names the
//! place and includes its cause's text. A cause printed in the message is not returned again
//! by `source()`, so an error reporter that walks the chain shows each cause once.

use std::path::PathBuf;

use crate::kind::KindError;
use crate::normalize::InvalidValue;

/// A field of an observation.
///
/// # Examples
///
/// See [`ObservationError::field`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// The account name.
    Account,
    /// The kind name.
    Kind,
    /// The artifact value.
    Value,
    /// The timestamp.
    Timestamp,
}

impl Field {
    /// The field's column name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sellerlink::error::Field::Value.name(), "value");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Field::Account => "account",
            Field::Kind => "kind",
            Field::Value => "value",
            Field::Timestamp => "timestamp",
        }
    }
}

impl core::fmt::Display for Field {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why one observation was refused.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, error::Field};
/// let mut b = IndexBuilder::new();
/// let err = b.add("store-1", "ip", "not an ip", None).unwrap_err();
/// assert_eq!(err.field(), Field::Value);
/// assert_eq!(err.to_string(), "field value: invalid ip: not an IPv4 or IPv6 address");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObservationError {
    /// The account name is empty, too long or has control characters.
    #[error("field account: {0}")]
    Account(&'static str),
    /// The kind name is refused.
    #[error("field kind: {0}")]
    Kind(KindError),
    /// The value is not valid for its kind.
    #[error("field value: invalid {kind}: {reason}")]
    Value {
        /// The kind's name.
        kind: String,
        /// Why.
        reason: InvalidValue,
    },
    /// The timestamp does not parse or is out of range.
    #[error("field timestamp: {0}")]
    Timestamp(&'static str),
    /// The index is full (more than `u32::MAX - 1` accounts or artifacts).
    #[error("field {0}: too many distinct values for 32-bit ids")]
    Capacity(Field),
}

impl ObservationError {
    /// The field at fault.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{IndexBuilder, error::Field};
    /// let err = IndexBuilder::new().add("", "ip", "1.2.3.4", None).unwrap_err();
    /// assert_eq!(err.field(), Field::Account);
    /// ```
    pub fn field(&self) -> Field {
        match self {
            ObservationError::Account(_) => Field::Account,
            ObservationError::Kind(_) => Field::Kind,
            ObservationError::Value { .. } => Field::Value,
            ObservationError::Timestamp(_) => Field::Timestamp,
            ObservationError::Capacity(f) => *f,
        }
    }

    /// A short, stable reason for tallies (no values in it).
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::IndexBuilder;
    /// let err = IndexBuilder::new().add("s", "ip", "x", None).unwrap_err();
    /// assert_eq!(err.reason(), "invalid ip: not an IPv4 or IPv6 address");
    /// ```
    pub fn reason(&self) -> String {
        match self {
            ObservationError::Account(r) | ObservationError::Timestamp(r) => (*r).to_string(),
            ObservationError::Kind(KindError::Undeclared { .. }) => "undeclared kind".to_string(),
            ObservationError::Kind(e) => e.to_string(),
            ObservationError::Value { kind, reason } => format!("invalid {kind}: {reason}"),
            ObservationError::Capacity(_) => "too many distinct values".to_string(),
        }
    }
}

/// Where in a file an ingest error stands.
///
/// # Examples
///
/// See [`IngestError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file (or `<input>` for a reader without a path).
    pub path: PathBuf,
    /// 1-based line number (0 when unknown).
    pub line: u64,
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// Why reading observations from a file failed.
///
/// # Examples
///
/// ```
/// use sellerlink::ingest::{CsvOptions, read_csv};
/// use sellerlink::IndexBuilder;
/// let data = "account,kind,value\nstore-1,ip,300.1.1.1\n";
/// let mut b = IndexBuilder::new();
/// let err = read_csv(data.as_bytes(), "obs.csv", &CsvOptions::strict(), &mut b).unwrap_err();
/// assert_eq!(err.to_string(), "obs.csv:2: field value: invalid ip: not an IPv4 or IPv6 address");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The header lacks a required column or is malformed.
    #[error("{at}: header: {reason}")]
    Header {
        /// Where.
        at: Location,
        /// Why.
        reason: String,
    },
    /// A line is not a well-formed record (bad quoting, wrong field count, not UTF-8, too long).
    #[error("{at}: {reason}")]
    Record {
        /// Where.
        at: Location,
        /// Why.
        reason: String,
    },
    /// A record's field is invalid.
    #[error("{at}: {cause}")]
    Observation {
        /// Where.
        at: Location,
        /// Why.
        cause: ObservationError,
    },
    /// A custom normaliser ([`Normalizer::custom`](crate::normalize::Normalizer::custom))
    /// panicked on a value: a fault in the caller's code, so the read stops in either mode. The
    /// builder keeps what it had (its kinds included) and the observations before this line.
    #[error("{at}: field value: the normaliser of kind {kind} panicked: {message}")]
    NormalizerPanic {
        /// Where.
        at: Location,
        /// The kind whose normaliser panicked.
        kind: String,
        /// The panic's message (or `"no message"`).
        message: String,
    },
    /// Lenient mode gave up: more rejections than the configured limit.
    #[error("{at}: more than {limit} rejected lines; the file is probably not observations")]
    TooManyRejections {
        /// Where it gave up.
        at: Location,
        /// The limit.
        limit: u64,
    },
}

/// Why a snapshot could not be loaded or saved.
///
/// # Examples
///
/// ```
/// use sellerlink::snapshot::{SnapshotError, load};
/// assert!(matches!(load(b"nope"), Err(SnapshotError::Truncated { .. })));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Fewer bytes than the header or the declared payload.
    #[error("truncated snapshot: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        got: u64,
    },
    /// Not a sellerlink snapshot.
    #[error("not a sellerlink snapshot (bad magic label)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("unsupported snapshot format version {0} (this build reads versions 1 and 2)")]
    Version(u32),
    /// The checksum does not match: the bytes were altered.
    #[error("snapshot checksum mismatch: the file is corrupted")]
    Checksum,
    /// Bytes after the declared payload.
    #[error("{0} unexpected bytes after the snapshot payload")]
    Trailing(u64),
    /// The payload does not decode.
    #[error("snapshot payload does not decode: {0}")]
    Decode(String),
    /// The payload decodes but is inconsistent; names the part.
    #[error("invalid snapshot: {0}")]
    Invalid(&'static str),
    /// Encoding failed.
    #[error("snapshot encoding failed: {0}")]
    Encode(String),
    /// Reading or writing a file failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// A snapshot file was read but not loaded: the file, and why.
    #[error("{path}: {cause}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        cause: Box<SnapshotError>,
    },
}

/// The crate-wide error: every boundary's error converts into it.
///
/// # Examples
///
/// ```
/// use sellerlink::{Error, IndexBuilder};
/// let index = IndexBuilder::new().build()?;
/// let err = index.try_account("nobody").unwrap_err();
/// assert!(matches!(err, Error::UnknownAccount(_)));
/// assert_eq!(err.to_string(), "unknown account \"nobody\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An observation was refused.
    #[error(transparent)]
    Observation(#[from] ObservationError),
    /// Reading observations from a file failed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A snapshot could not be saved or loaded.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// Reading observations from Arrow or Parquet, or writing Parquet, failed.
    #[cfg(feature = "arrow")]
    #[error(transparent)]
    Table(#[from] TableError),
    /// A kind name was refused.
    #[error(transparent)]
    Kind(#[from] KindError),
    /// A weighted graph or a membership given to Leiden was refused.
    #[error(transparent)]
    Graph(#[from] crate::leiden::GraphError),
    /// Settings given to the builder are not usable (a NaN resolution, say); names the setting.
    #[error("{0}")]
    Settings(String),
    /// The input exceeds what 32-bit ids and offsets address.
    #[error("capacity exceeded: {0}")]
    Capacity(&'static str),
    /// An account name is not in the index.
    #[error("unknown account {0:?}")]
    UnknownAccount(String),
    /// An account id past the end of the index (from another index, say).
    #[error("account id {id} is not in this index, which has {slots} account ids")]
    UnknownAccountId {
        /// The id.
        id: crate::AccountId,
        /// The number of account ids the index has.
        slots: usize,
    },
    /// An account id of an account that an update removed.
    #[error("account {id} ({name:?}) was removed by an update")]
    RemovedAccount {
        /// The id.
        id: crate::AccountId,
        /// The account's name.
        name: String,
    },
    /// An artifact id past the end of the index.
    #[error("artifact id {id} is not in this index, which has {count} artifacts")]
    UnknownArtifactId {
        /// The id.
        id: crate::ArtifactId,
        /// The number of artifacts.
        count: usize,
    },
}

/// Where a row stands in an Arrow or Parquet input.
///
/// Displayed as `obs.parquet: row group 3, row 1207 (input row 30017)` for Parquet, where row
/// group and row are what `pyarrow.parquet.ParquetFile(...).read_row_group(3)[1207]` reads, or
/// `table: row 30017` for a stream of batches. All numbers are 0-based.
///
/// # Examples
///
/// ```
/// use sellerlink::arrow::RowPlace;
/// let at = RowPlace { path: "obs.parquet".into(), row: 30017, row_group: Some((3, 1207)) };
/// assert_eq!(at.to_string(), "obs.parquet: row group 3, row 1207 (input row 30017)");
/// ```
#[cfg(feature = "arrow")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowPlace {
    /// The input (a file, or the name the caller gave a stream).
    pub path: PathBuf,
    /// The row, counted over the whole input from 0.
    pub row: u64,
    /// For Parquet: the row group and the row within it, from 0.
    pub row_group: Option<(u64, u64)>,
}

#[cfg(feature = "arrow")]
impl core::fmt::Display for RowPlace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.row_group {
            Some((g, r)) => {
                write!(f, "{}: row group {g}, row {r} (input row {})", self.path.display(), self.row)
            }
            None => write!(f, "{}: row {}", self.path.display(), self.row),
        }
    }
}

/// Why reading observations from Arrow or Parquet, or writing clusters to Parquet, failed.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sellerlink::IndexBuilder;
/// use sellerlink::arrow::{ArrowOptions, read_batches};
/// use sellerlink::arrow::arrow_array::{ArrayRef, RecordBatch, StringArray};
/// let col = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
/// let batch = RecordBatch::try_from_iter([
///     ("account", col(&["s1", "s2"])),
///     ("kind", col(&["ip", "ip"])),
///     ("value", col(&["1.2.3.4", "300.1.1.1"])),
/// ])?;
/// let mut b = IndexBuilder::new();
/// let err = read_batches([Ok(batch)], "table", &ArrowOptions::strict(), &mut b).unwrap_err();
/// assert_eq!(err.to_string(), "table: row 1: field value: invalid ip: not an IPv4 or IPv6 address");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "arrow")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file could not be opened, read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The input is not readable as a table (not a Parquet file, say).
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The columns do not hold observations: a required one is missing, appears twice or has a
    /// type this reader does not take.
    #[error("{path}: columns: {reason}")]
    Schema {
        /// The input.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Decoding the input failed at this row (a damaged page, say).
    #[error("{at}: {reason}")]
    Decode {
        /// Where reading stopped.
        at: RowPlace,
        /// Why.
        reason: String,
    },
    /// A row is not an observation (a null field).
    #[error("{at}: {reason}")]
    Record {
        /// Where.
        at: RowPlace,
        /// Why.
        reason: String,
    },
    /// A row's field is invalid.
    #[error("{at}: {cause}")]
    Observation {
        /// Where.
        at: RowPlace,
        /// Why.
        cause: ObservationError,
    },
    /// Lenient mode gave up: more rejections than the configured limit.
    #[error("{at}: more than {limit} rejected rows; the input is probably not observations")]
    TooManyRejections {
        /// Where it gave up.
        at: RowPlace,
        /// The limit.
        limit: u64,
    },
}
