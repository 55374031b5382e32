//! Snapshots: save a built [`Index`] to bytes and load it back, validating everything.
//!
//! This is the only module that knows bincode. A snapshot is a 32-byte header followed by a
//! bincode (2.0, standard configuration) payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `SLNKSNAP` |
//! | 8..12 | format version, `u32` little-endian (currently [`FORMAT_VERSION`]; versions 1 and 2 are still read) |
//! | 12..16 | reserved, zero |
//! | 16..24 | payload length, `u64` little-endian |
//! | 24..32 | checksum of the payload, `u64` little-endian ([`checksum`]: XXH3-64 from version 3, FNV-1a 64 before) |
//!
//! The payload holds the kinds (names and built-in normaliser names), the policy, the operator
//! settings, the interned strings, the artifact side of the graph (accounts and timed uses
//! per artifact), the hub set in Roaring's portable format, both clusterings and, after
//! updates, the accounts' name order (ids are stable across updates, so names need not be in
//! id order). Version 1 stored the operator settings as numbers and had no name order; versions
//! 1 and 2 stored every number as a varint. Version 3 stores each sequence of numbers as
//! little-endian fixed-width bytes in chunks of at most [`PACKED_CHUNK`] numbers: a load
//! borrows the chunks and converts them in parallel, at the speed of copying memory, where a
//! varint had to be decoded one by one (a 10M-observation index's arrays took a second). Everything
//! derivable is rebuilt on load rather than trusted: the account side of the graph, the hash
//! tables of the interners, the per-kind bitmaps. Loading checks the header, then every length,
//! offset, id, sort order and UTF-8 boundary before use (with the checksum computed alongside;
//! a mismatch is reported whatever the payload decodes to): any byte string
//! yields the original index or a [`SnapshotError`], never a panic, and no allocation is larger
//! than the bytes given justify.
//!
//! A kind with a custom normaliser is saved by name; after loading it normalises lookups with
//! the text rule until the caller registers the closure again with
//! [`Index::set_normalizer`](crate::Index::set_normalizer).

use std::borrow::Cow;
use std::io::{Seek, SeekFrom, Write};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::cluster::Clustering;
pub use crate::error::SnapshotError;
use crate::evidence::Evidence;
use crate::graph::{Graph, NO_TIME};
use crate::id::{AccountId, KindId};
use crate::index::{BuildStats, Index, Parts};
use crate::intern::{Interner, NameOrder, StrList};
use crate::kind::{Kinds, MAX_KINDS};
use crate::leiden::{Leiden, Quality};
use crate::normalize::Normalizer;
use crate::operators::{OperatorClustering, OperatorSettings};
use crate::policy::LinkPolicy;

/// The snapshot magic label.
///
/// # Examples
///
/// ```
/// let bytes = sellerlink::snapshot::save(&sellerlink::IndexBuilder::new().build()?)?;
/// assert_eq!(&bytes[..8], sellerlink::snapshot::MAGIC);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAGIC: &[u8; 8] = b"SLNKSNAP";
/// The current format version.
///
/// # Examples
///
/// ```
/// let bytes = sellerlink::snapshot::save(&sellerlink::IndexBuilder::new().build()?)?;
/// assert_eq!(bytes[8..12], sellerlink::snapshot::FORMAT_VERSION.to_le_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const FORMAT_VERSION: u32 = 3;
const HEADER: usize = 32;

/// The payload of versions 1 and 2. Every string and byte run is *borrowed* from the input on load, so a corrupted
/// length can only fail a bounds check, never drive an allocation; sequences go through serde's
/// cautious capacity (at most 1 MiB preallocated, then growth as elements actually decode).
#[derive(Deserialize)]
struct Payload<'a, O> {
    #[serde(borrow)]
    kinds: Vec<(&'a str, &'a str)>,
    /// The policy, bincode-encoded on its own and decoded under [`POLICY_LIMIT`].
    policy: &'a [u8],
    /// The operator settings (version 2) or their numeric form (version 1).
    operators: O,
    #[serde(borrow)]
    accounts: Strings<'a>,
    #[serde(borrow)]
    artifacts: Strings<'a>,
    #[serde(borrow)]
    first_written: Strings<'a>,
    art_tags: Cow<'a, [u32]>,
    art_off: Cow<'a, [u32]>,
    art_acc: Cow<'a, [AccountId]>,
    ev_off: Cow<'a, [u32]>,
    ev_acc: Cow<'a, [AccountId]>,
    ev_time: Cow<'a, [i64]>,
    caps: Cow<'a, [u32]>,
    hubs: &'a [u8],
    confirmed: Cow<'a, [u64]>,
    components: Cow<'a, [u32]>,
    operator_labels: Option<Cow<'a, [u32]>>,
    operator_confidence: Cow<'a, [f32]>,
    observations: u64,
}

/// Version 2 appends the accounts' name order (`None`: ids are in name order) and each kind's
/// extra placeholders (canonical values; empty when none) to the payload.
#[derive(Deserialize)]
struct PayloadV2<'a> {
    #[serde(borrow)]
    body: Payload<'a, Option<OperatorSettings>>,
    by_name: Option<Cow<'a, [AccountId]>>,
    #[serde(borrow)]
    placeholders: Vec<Vec<&'a str>>,
}

/// Strings as an arena and end offsets (versions 1 and 2).
#[derive(Deserialize)]
struct Strings<'a> {
    arena: &'a str,
    ends: Cow<'a, [u64]>,
}

/// The payload of version 3: the fields of [`Payload`] and [`PayloadV2`] in their order, each
/// sequence of numbers [`Packed`]. Saving borrows the index's arrays (it copies one chunk at a
/// time); loading borrows the chunks from the input.
#[derive(Serialize, Deserialize)]
struct PayloadV3<'a> {
    #[serde(borrow)]
    kinds: Vec<(&'a str, &'a str)>,
    policy: &'a [u8],
    operators: Option<OperatorSettings>,
    #[serde(borrow)]
    accounts: PackedStrings<'a>,
    #[serde(borrow)]
    artifacts: PackedStrings<'a>,
    #[serde(borrow)]
    first_written: PackedStrings<'a>,
    /// One byte per artifact.
    #[serde(borrow)]
    art_tags: Packed<'a>,
    #[serde(borrow)]
    art_off: Packed<'a>,
    #[serde(borrow)]
    art_acc: Packed<'a>,
    #[serde(borrow)]
    ev_off: Packed<'a>,
    #[serde(borrow)]
    ev_acc: Packed<'a>,
    #[serde(borrow)]
    ev_time: Packed<'a>,
    #[serde(borrow)]
    caps: Packed<'a>,
    hubs: &'a [u8],
    #[serde(borrow)]
    confirmed: Packed<'a>,
    #[serde(borrow)]
    components: Packed<'a>,
    #[serde(borrow)]
    operator_labels: Option<Packed<'a>>,
    #[serde(borrow)]
    operator_confidence: Packed<'a>,
    observations: u64,
    #[serde(borrow)]
    by_name: Option<Packed<'a>>,
    #[serde(borrow)]
    placeholders: Vec<Vec<&'a str>>,
}

impl<'a> PayloadV3<'a> {
    /// The payload as versions 1 and 2 decode it, each number converted.
    #[allow(clippy::type_complexity)]
    fn unpacked(
        self,
    ) -> Result<
        (Payload<'a, Option<OperatorSettings>>, Option<Cow<'a, [AccountId]>>, Vec<Vec<&'a str>>),
        SnapshotError,
    > {
        let strings = |s: PackedStrings<'a>, what| -> Result<Strings<'a>, SnapshotError> {
            Ok(Strings { arena: s.arena, ends: Cow::Owned(s.ends.numbers(what)?) })
        };
        let tags: Vec<u8> = self.art_tags.numbers("artifact kinds")?;
        let payload = Payload {
            kinds: self.kinds,
            policy: self.policy,
            operators: self.operators,
            accounts: strings(self.accounts, "account strings")?,
            artifacts: strings(self.artifacts, "artifact strings")?,
            first_written: strings(self.first_written, "first-written offsets")?,
            art_tags: Cow::Owned(tags.into_iter().map(u32::from).collect()),
            art_off: Cow::Owned(self.art_off.numbers("artifact offsets")?),
            art_acc: Cow::Owned(self.art_acc.numbers("artifact accounts")?),
            ev_off: Cow::Owned(self.ev_off.numbers("use offsets")?),
            ev_acc: Cow::Owned(self.ev_acc.numbers("artifact uses")?),
            ev_time: Cow::Owned(self.ev_time.numbers("use times")?),
            caps: Cow::Owned(self.caps.numbers("hub caps")?),
            hubs: self.hubs,
            confirmed: Cow::Owned(self.confirmed.numbers("confirmed groups")?),
            components: Cow::Owned(self.components.numbers("component labels")?),
            operator_labels: match self.operator_labels {
                Some(p) => Some(Cow::Owned(p.numbers("operator labels")?)),
                None => None,
            },
            operator_confidence: Cow::Owned(self.operator_confidence.numbers("operator confidence")?),
            observations: self.observations,
        };
        let by_name = match self.by_name {
            Some(p) => Some(Cow::Owned(p.numbers("account order")?)),
            None => None,
        };
        Ok((payload, by_name, self.placeholders))
    }
}

/// Strings as an arena and end offsets (version 3).
#[derive(Serialize, Deserialize)]
struct PackedStrings<'a> {
    arena: &'a str,
    #[serde(borrow)]
    ends: Packed<'a>,
}

/// The most numbers in one chunk of a packed sequence (snapshot version 3): 256 KiB of `u64`s, so a
/// save buffers little and a load has enough chunks to share between threads.
///
/// # Examples
///
/// ```
/// assert!(sellerlink::snapshot::PACKED_CHUNK.is_power_of_two());
/// ```
pub const PACKED_CHUNK: usize = 1 << 15;

/// A sequence of fixed-width numbers as version 3 stores it: a sequence of byte strings, each
/// the little-endian bytes of at most [`PACKED_CHUNK`] numbers.
enum Packed<'a> {
    /// Saving: the numbers, encoded a chunk at a time as they are written.
    Out(Numbers<'a>),
    /// Loading: the chunks, borrowed from the input.
    In(Vec<&'a [u8]>),
}

/// The numbers a [`Packed`] sequence saves.
#[derive(Clone, Copy)]
enum Numbers<'a> {
    Bytes(&'a [u8]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    Accounts(&'a [AccountId]),
}

impl Serialize for Packed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        /// One chunk, written as a byte string.
        struct Chunk<'b>(&'b [u8]);
        impl Serialize for Chunk<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(self.0)
            }
        }
        fn chunks<T: Fixed, S: SerializeSeq>(seq: &mut S, numbers: &[T]) -> Result<(), S::Error> {
            let mut buf = Vec::with_capacity(PACKED_CHUNK.min(numbers.len()) * T::WIDTH);
            for chunk in numbers.chunks(PACKED_CHUNK) {
                buf.clear();
                for &x in chunk {
                    x.put(&mut buf);
                }
                seq.serialize_element(&Chunk(&buf))?;
            }
            Ok(())
        }
        let numbers = match self {
            Packed::In(chunks) => {
                let mut seq = serializer.serialize_seq(Some(chunks.len()))?;
                for c in chunks {
                    seq.serialize_element(&Chunk(c))?;
                }
                return seq.end();
            }
            Packed::Out(numbers) => *numbers,
        };
        let len = match numbers {
            Numbers::Bytes(x) => x.len(),
            Numbers::U32(x) => x.len(),
            Numbers::U64(x) => x.len(),
            Numbers::I64(x) => x.len(),
            Numbers::F32(x) => x.len(),
            Numbers::Accounts(x) => x.len(),
        };
        let mut seq = serializer.serialize_seq(Some(len.div_ceil(PACKED_CHUNK)))?;
        match numbers {
            Numbers::Bytes(x) => chunks(&mut seq, x)?,
            Numbers::U32(x) => chunks(&mut seq, x)?,
            Numbers::U64(x) => chunks(&mut seq, x)?,
            Numbers::I64(x) => chunks(&mut seq, x)?,
            Numbers::F32(x) => chunks(&mut seq, x)?,
            Numbers::Accounts(x) => chunks(&mut seq, x)?,
        }
        seq.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Packed<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Packed::In(Vec::<&'de [u8]>::deserialize(deserializer)?))
    }
}

impl Packed<'_> {
    /// The numbers, converted chunk by chunk in parallel; an error naming `what` when a chunk
    /// is not whole numbers or longer than a chunk (no allocation exceeds the bytes given).
    fn numbers<T: Fixed>(&self, what: &'static str) -> Result<Vec<T>, SnapshotError> {
        let Packed::In(chunks) = self else { return Err(invalid(what)) };
        let mut cuts = Vec::with_capacity(chunks.len() + 1);
        cuts.push(0usize);
        for (i, c) in chunks.iter().enumerate() {
            let n = c.len() / T::WIDTH;
            // Every chunk but the last is full, so where a number sits is known from its index.
            let full = n == PACKED_CHUNK || (i + 1 == chunks.len() && n <= PACKED_CHUNK && n > 0);
            if c.len() % T::WIDTH != 0 || !full {
                return Err(invalid(what));
            }
            cuts.push(cuts[cuts.len() - 1] + n);
        }
        let mut out = crate::graph::filled(cuts[cuts.len() - 1], T::default());
        crate::graph::for_each_part(&mut out, &cuts, |k, part| {
            for (x, b) in part.iter_mut().zip(chunks[k].chunks_exact(T::WIDTH)) {
                *x = T::get(b);
            }
        });
        Ok(out)
    }
}

/// A number stored in [`T::WIDTH`](Fixed::WIDTH) little-endian bytes.
trait Fixed: Copy + Default + Send + Sync {
    const WIDTH: usize;
    fn put(self, out: &mut Vec<u8>);
    /// From exactly `WIDTH` bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! fixed {
    ($($t:ty),*) => {$(
        impl Fixed for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().unwrap_or_default())
            }
        }
    )*};
}
fixed!(u8, u32, u64, i64, f32);

impl Fixed for AccountId {
    const WIDTH: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        self.as_u32().put(out);
    }
    fn get(bytes: &[u8]) -> Self {
        AccountId::from_u32(u32::get(bytes))
    }
}

/// The most bytes an encoded policy may claim (it holds a few dozen short strings).
const POLICY_LIMIT: usize = 1 << 20;

/// Version 1's policy: degree caps only (no coherence judgement, no ceiling).
#[derive(Serialize, Deserialize)]
struct PolicyV1 {
    kinds: std::collections::BTreeMap<String, crate::policy::KindPolicy>,
    custom: crate::policy::KindPolicy,
    corroboration: u32,
    cohesion: Option<f64>,
    overrides: crate::policy::Overrides,
}

impl PolicyV1 {
    /// The same policy today: as version 1 judged, by caps alone and priors, learning nothing.
    fn into_policy(self) -> LinkPolicy {
        let mut p = LinkPolicy::new()
            .custom_kinds(self.custom)
            .corroboration(self.corroboration)
            .group_cohesion(self.cohesion)
            .coherence(None)
            .ceiling(u32::MAX)
            .learn(false)
            .with_overrides(self.overrides);
        for (name, k) in self.kinds {
            p = p.kind(&name, k);
        }
        p
    }
}

/// Version 1's operator settings: quality 0 is modularity, 1 CPM.
#[derive(Serialize, Deserialize)]
struct OperatorsV1 {
    resolution: Option<f64>,
    quality: Option<u8>,
    seed: Option<u64>,
    cross_floor: Option<f64>,
}

impl OperatorsV1 {
    fn settings(&self) -> Result<OperatorSettings, SnapshotError> {
        let mut leiden = Leiden::new();
        if let Some(r) = self.resolution {
            leiden = leiden.resolution(r);
        }
        match self.quality {
            None => {}
            Some(0) => leiden = leiden.quality(Quality::Modularity),
            Some(1) => leiden = leiden.quality(Quality::Cpm),
            Some(_) => return Err(invalid("operator quality")),
        }
        if let Some(s) = self.seed {
            leiden = leiden.seed(s);
        }
        let mut settings = OperatorSettings::new().leiden(leiden);
        if let Some(f) = self.cross_floor {
            settings = settings.cross_floor(f);
        }
        Ok(settings)
    }
}

/// Encodes an index as snapshot bytes.
///
/// # Errors
///
/// [`SnapshotError::Encode`] if bincode fails (it does not for well-formed indexes).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, snapshot};
/// let mut b = IndexBuilder::new();
/// b.add("s1", "device", "d1", Some(10))?;
/// b.add("s2", "device", "d1", Some(20))?;
/// let index = b.build()?;
/// let bytes = snapshot::save(&index)?;
/// let back = snapshot::load(&bytes)?;
/// assert_eq!(back.clustering(), index.clustering());
/// assert_eq!(back.account("s2"), index.account("s2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save(index: &Index) -> Result<Vec<u8>, SnapshotError> {
    let mut out = std::io::Cursor::new(Vec::new());
    write_snapshot(index, &mut out, |e| SnapshotError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Writes the header and payload to `w`, streaming: the payload borrows the index's arrays and
/// goes through a checksumming writer, then the header's length and checksum are written in
/// place. Memory beyond the index: a few small encoded parts.
fn write_snapshot<W: Write + Seek>(
    index: &Index,
    w: &mut W,
    io: impl Fn(std::io::Error) -> SnapshotError,
) -> Result<(), SnapshotError> {
    let g = &index.graph;
    let encode_err = |e: bincode::error::EncodeError| match e {
        bincode::error::EncodeError::Io { inner, .. } => io(inner),
        e => SnapshotError::Encode(e.to_string()),
    };
    let mut hubs = Vec::new();
    index.evidence.suppressed.serialize_into(&mut hubs).map_err(|e| SnapshotError::Encode(e.to_string()))?;
    let policy = bincode::serde::encode_to_vec(&index.policy, policy_config()).map_err(encode_err)?;
    let (acc_arena, acc_ends, _) = index.accounts.raw_parts();
    let (art_arena, art_ends, art_tags) = index.artifacts.raw_parts();
    // Stored with an offset per artifact, as the format has always had them.
    let (fw_arena, fw_ends) = index.first_written.dense();
    let placeholders = index
        .kinds
        .iter()
        .map(|(k, _)| {
            index.kinds.normalizer(k).extra_placeholders().map_or_else(Vec::new, |p| p.iter().collect())
        })
        .collect();
    let strings = |arena, ends| PackedStrings { arena, ends: Packed::Out(Numbers::U64(ends)) };
    let payload = PayloadV3 {
        kinds: index.kinds.iter().map(|(k, n)| (n, index.kinds.normalizer(k).name())).collect(),
        policy: &policy,
        operators: index.operator_settings.clone(),
        accounts: strings(acc_arena, acc_ends),
        artifacts: strings(art_arena, art_ends),
        first_written: strings(fw_arena, &fw_ends),
        art_tags: Packed::Out(Numbers::Bytes(art_tags)),
        art_off: Packed::Out(Numbers::U32(&g.art_off)),
        art_acc: Packed::Out(Numbers::Accounts(&g.art_acc)),
        ev_off: Packed::Out(Numbers::U32(&g.ev_off)),
        ev_acc: Packed::Out(Numbers::Accounts(&g.ev_acc)),
        ev_time: Packed::Out(Numbers::I64(&g.ev_time)),
        caps: Packed::Out(Numbers::U32(&index.evidence.resolved.cap)),
        hubs: &hubs,
        confirmed: Packed::Out(Numbers::U64(&index.evidence.confirmed)),
        components: Packed::Out(Numbers::U32(index.components.labels())),
        operator_labels: index.operators.as_ref().map(|o| Packed::Out(Numbers::U32(o.clustering.labels()))),
        operator_confidence: Packed::Out(Numbers::F32(
            index.operators.as_ref().map_or(&[][..], |o| &o.confidence),
        )),
        observations: index.stats.observations,
        by_name: index.order.by_name().map(|b| Packed::Out(Numbers::Accounts(b))),
        placeholders,
    };
    let start = w.stream_position().map_err(&io)?;
    w.write_all(MAGIC).map_err(&io)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(&io)?;
    w.write_all(&[0; 20]).map_err(&io)?; // reserved, then length and checksum, written below
    let mut body = Checksummed { inner: &mut *w, len: 0, hash: xxhash_rust::xxh3::Xxh3Default::new() };
    bincode::serde::encode_into_std_write(&payload, &mut body, bincode::config::standard())
        .map_err(encode_err)?;
    let (len, hash) = (body.len, body.hash.digest());
    let end = w.stream_position().map_err(&io)?;
    w.seek(SeekFrom::Start(start + 16)).map_err(&io)?;
    w.write_all(&len.to_le_bytes()).map_err(&io)?;
    w.write_all(&hash.to_le_bytes()).map_err(&io)?;
    w.seek(SeekFrom::Start(end)).map_err(&io)?;
    w.flush().map_err(&io)
}

/// A writer that counts and checksums (XXH3-64) what passes through it.
struct Checksummed<W> {
    inner: W,
    len: u64,
    hash: xxhash_rust::xxh3::Xxh3Default,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a snapshot file, streaming (no copy of the index in memory), via a temporary file
/// and a rename, so a crash never leaves half a snapshot under the final name.
///
/// # Errors
///
/// [`SnapshotError::Io`] naming the file.
///
/// # Examples
///
/// ```no_run
/// let index = sellerlink::IndexBuilder::new().build()?;
/// sellerlink::snapshot::save_path(&index, "index.snap")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_path(index: &Index, path: impl AsRef<std::path::Path>) -> Result<(), SnapshotError> {
    let path = path.as_ref();
    let io = |cause| SnapshotError::Io { path: path.to_path_buf(), cause };
    // A fresh temporary name beside the target (never an existing file, never a link followed),
    // removed if anything fails; renamed over the target only once synced.
    let tmp = crate::fs::TempPath::beside(path).map_err(io)?;
    let file = std::fs::File::options().write(true).create_new(true).open(tmp.path()).map_err(io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write_snapshot(index, &mut out, io)?;
    out.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
    tmp.commit().map_err(io)
}

/// Reads and loads a snapshot file.
///
/// # Errors
///
/// [`SnapshotError`]: I/O, or any of the reasons of [`load`].
///
/// # Examples
///
/// ```no_run
/// let index = sellerlink::snapshot::load_path("index.snap")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_path(path: impl AsRef<std::path::Path>) -> Result<Index, SnapshotError> {
    use std::io::Read;
    let path = path.as_ref();
    let io = |cause| SnapshotError::Io { path: path.to_path_buf(), cause };
    // Only a regular file: a device (/dev/zero) would never end, a FIFO could block forever.
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")));
    }
    // Read the header, then exactly the payload it declares, checked against the file's size
    // first: no read is ever larger than the file.
    let mut bytes = vec![0u8; HEADER.min(meta.len() as usize)];
    // Unbuffered: the payload is read after exactly these bytes.
    let mut reader = file;
    reader.read_exact(&mut bytes).map_err(io)?;
    if bytes.len() == HEADER && bytes[..8] == MAGIC[..] {
        let declared = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or([0; 8]));
        let present = meta.len() - HEADER as u64;
        if declared > present {
            return Err(SnapshotError::Truncated { needed: HEADER as u64 + declared, got: meta.len() });
        }
        bytes = read_payload(reader, bytes, present).map_err(io)?;
    }
    load(&bytes).map_err(|e| match e {
        SnapshotError::Io { .. } => e,
        other => SnapshotError::File { path: path.to_path_buf(), cause: Box::new(other) },
    })
}

/// The header read so far, followed by the `len` bytes of `file` after it: read in parallel
/// parts on Unix (each thread faults in and fills its own range), else in one read.
fn read_payload(file: std::fs::File, bytes: Vec<u8>, len: u64) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(len).map_err(|_| std::io::Error::other("snapshot larger than memory"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let mut all = crate::graph::filled(bytes.len() + len, 0u8);
        all[..bytes.len()].copy_from_slice(&bytes);
        let cuts = crate::graph::even_cuts(len, crate::graph::parts_for(len));
        let failed = std::sync::Mutex::new(None);
        crate::graph::for_each_part(&mut all[bytes.len()..], &cuts, |k, part| {
            if let Err(e) = file.read_exact_at(part, (HEADER + cuts[k]) as u64) {
                *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            }
        });
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }
    #[cfg(not(unix))]
    {
        use std::io::Read;
        let mut bytes = bytes;
        bytes.reserve_exact(len);
        file.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Loads an index from snapshot bytes, validating everything; see the [module docs](self).
///
/// # Errors
///
/// [`SnapshotError`] naming what is wrong.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, snapshot};
/// let bytes = snapshot::save(&IndexBuilder::new().build()?)?;
/// let mut corrupt = bytes.clone();
/// *corrupt.last_mut().expect("non-empty") ^= 0xff;
/// assert!(snapshot::load(&corrupt).is_err());
/// assert!(snapshot::load(&bytes[..bytes.len() - 1]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load(bytes: &[u8]) -> Result<Index, SnapshotError> {
    if bytes.len() < HEADER {
        return Err(SnapshotError::Truncated { needed: HEADER as u64, got: bytes.len() as u64 });
    }
    if &bytes[0..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
    if !(1..=FORMAT_VERSION).contains(&version) {
        return Err(SnapshotError::Version(version));
    }
    if bytes[12..16] != [0; 4] {
        return Err(SnapshotError::Invalid("reserved header bytes"));
    }
    let len = word(16);
    let body = &bytes[HEADER..];
    if (body.len() as u64) < len {
        return Err(SnapshotError::Truncated { needed: HEADER as u64 + len, got: bytes.len() as u64 });
    }
    if body.len() as u64 > len {
        return Err(SnapshotError::Trailing(body.len() as u64 - len));
    }
    // The checksum runs beside decoding: the decoder is safe on any bytes (it is fuzzed so),
    // and a mismatch wins over whatever decoding made of them.
    let clock = std::time::Instant::now();
    let decode = || {
        let config = bincode::config::standard();
        let decode_err = |e: bincode::error::DecodeError| SnapshotError::Decode(e.to_string());
        let (payload, by_name, placeholders, used) = if version == 1 {
            let (p, used): (Payload<'_, Option<OperatorsV1>>, usize) =
                bincode::serde::borrow_decode_from_slice(body, config).map_err(decode_err)?;
            let settings = p.operators.as_ref().map(OperatorsV1::settings).transpose()?;
            (with_operators(p, settings), None, Vec::new(), used)
        } else if version == 2 {
            let (p, used): (PayloadV2<'_>, usize) =
                bincode::serde::borrow_decode_from_slice(body, config).map_err(decode_err)?;
            (p.body, p.by_name, p.placeholders, used)
        } else {
            let (p, used): (PayloadV3<'_>, usize) =
                bincode::serde::borrow_decode_from_slice(body, config).map_err(decode_err)?;
            let (payload, by_name, placeholders) = p.unpacked()?;
            (payload, by_name, placeholders, used)
        };
        if used != body.len() {
            return Err(SnapshotError::Trailing((body.len() - used) as u64));
        }
        let decoded = clock.elapsed();
        rebuild(payload, by_name, placeholders, version, decoded)
    };
    let (sum, index) = join(|| checksum(version, body), decode);
    if sum != word(24) {
        return Err(SnapshotError::Checksum);
    }
    index
}

fn invalid(what: &'static str) -> SnapshotError {
    SnapshotError::Invalid(what)
}

fn policy_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<POLICY_LIMIT>,
> {
    bincode::config::standard().with_limit::<POLICY_LIMIT>()
}

/// A version-1 payload with its operator settings converted.
fn with_operators<'a>(
    p: Payload<'a, Option<OperatorsV1>>,
    operators: Option<OperatorSettings>,
) -> Payload<'a, Option<OperatorSettings>> {
    Payload {
        kinds: p.kinds,
        policy: p.policy,
        operators,
        accounts: p.accounts,
        artifacts: p.artifacts,
        first_written: p.first_written,
        art_tags: p.art_tags,
        art_off: p.art_off,
        art_acc: p.art_acc,
        ev_off: p.ev_off,
        ev_acc: p.ev_acc,
        ev_time: p.ev_time,
        caps: p.caps,
        hubs: p.hubs,
        confirmed: p.confirmed,
        components: p.components,
        operator_labels: p.operator_labels,
        operator_confidence: p.operator_confidence,
        observations: p.observations,
    }
}

fn rebuild(
    p: Payload<'_, Option<OperatorSettings>>,
    by_name: Option<Cow<'_, [AccountId]>>,
    placeholders: Vec<Vec<&str>>,
    version: u32,
    decoded: std::time::Duration,
) -> Result<Index, SnapshotError> {
    // Each step's time goes into the loaded index's stats, as a build's stages do.
    let mut timings = vec![("snapshot_decode", decoded)];
    let clock = std::time::Instant::now();
    let lap = |name: &'static str, timings: &mut Vec<(&'static str, std::time::Duration)>| {
        let before: std::time::Duration = timings[1..].iter().map(|(_, t)| *t).sum();
        timings.push((name, clock.elapsed() - before));
    };
    let decode_err = |e: bincode::error::DecodeError| SnapshotError::Decode(format!("policy: {e}"));
    let (policy, used): (LinkPolicy, usize) = if version == 1 {
        let (v1, used): (PolicyV1, usize) =
            bincode::serde::decode_from_slice(p.policy, policy_config()).map_err(decode_err)?;
        (v1.into_policy(), used)
    } else {
        bincode::serde::decode_from_slice(p.policy, policy_config()).map_err(decode_err)?
    };
    if used != p.policy.len() {
        return Err(invalid("policy"));
    }
    // Kinds: built-ins first, in order, then custom kinds.
    if p.kinds.len() < crate::kind::BUILTINS.len() || p.kinds.len() > MAX_KINDS {
        return Err(invalid("kinds"));
    }
    let mut kinds = Kinds::new();
    if !placeholders.is_empty() && placeholders.len() != p.kinds.len() {
        return Err(invalid("placeholders"));
    }
    for (i, &(name, norm)) in p.kinds.iter().enumerate() {
        // A custom normaliser comes back under its own name, normalising with the text rule
        // until its closure is registered again; keeping the name means a save writes what was
        // loaded, and its values stay unchecked (they were made by the closure) on every load.
        let mut normalizer = Normalizer::builtin(norm).unwrap_or_else(|| {
            Normalizer::custom(norm, |raw| {
                let mut out = String::new();
                Normalizer::Text.normalize(raw, &mut out).map(|()| out)
            })
        });
        if let Some(extra) = placeholders.get(i).filter(|v| !v.is_empty()) {
            let set = crate::normalize::Placeholders::new().values(extra.iter().copied());
            normalizer = normalizer.with_placeholders(set).map_err(|_| invalid("placeholders"))?;
        }
        let id = kinds.register(name, normalizer).map_err(|_| invalid("kind name"))?;
        if id.as_usize() != i {
            return Err(invalid("kind order"));
        }
    }
    // The two interners are independent: build them side by side.
    let (kind_count, art_tags) = (kinds.len(), &p.art_tags);
    let (accounts, artifacts) =
        join(|| interner(p.accounts, None), || interner(p.artifacts, Some((art_tags, kind_count))));
    let (accounts, artifacts) = (accounts?, artifacts?);
    lap("snapshot_strings", &mut timings);
    // The strings must be distinct (account names in id order are checked sorted below, so
    // distinct), and stored as a build stores them. The lookup tables are not built: as after
    // a build, the first lookup builds them. (Running these checks beside the steps below was
    // tried: on two cores it made the load slower.)
    let saved_kinds = &p.kinds;
    let identity = by_name.is_none();
    let ((accounts_unique, artifacts_unique), stored) = join(
        || join(|| identity || accounts.all_distinct(), || artifacts.all_distinct()),
        || stored_as_built(&accounts, &artifacts, &kinds, saved_kinds),
    );
    if !accounts_unique || !artifacts_unique {
        return Err(invalid("strings"));
    }
    stored?;
    lap("snapshot_check_strings", &mut timings);
    let Derived { first_written, order, graph, evidence, components, operators } = derive(
        Stored {
            first_written: p.first_written,
            art_off: p.art_off,
            art_acc: p.art_acc,
            ev_off: p.ev_off,
            ev_acc: p.ev_acc,
            ev_time: p.ev_time,
            caps: p.caps,
            hubs: p.hubs,
            confirmed: p.confirmed,
            components: p.components,
            operator_labels: p.operator_labels,
            operator_confidence: p.operator_confidence,
            by_name,
        },
        (&accounts, &artifacts, &kinds, &policy),
        &mut timings,
        lap,
    )?;
    if p.operators.as_ref().is_some_and(|s| !s.is_valid()) {
        return Err(invalid("operator settings out of range"));
    }
    Ok(Index::from_parts(Parts {
        kinds,
        policy,
        accounts,
        artifacts,
        first_written,
        order,
        graph,
        evidence,
        components,
        operators,
        operator_settings: p.operators,
        stats: BuildStats { observations: p.observations, timings },
    }))
}

/// The parts of a payload that [`derive`] checks and rebuilds from.
struct Stored<'a> {
    first_written: Strings<'a>,
    art_off: Cow<'a, [u32]>,
    art_acc: Cow<'a, [AccountId]>,
    ev_off: Cow<'a, [u32]>,
    ev_acc: Cow<'a, [AccountId]>,
    ev_time: Cow<'a, [i64]>,
    caps: Cow<'a, [u32]>,
    hubs: &'a [u8],
    confirmed: Cow<'a, [u64]>,
    components: Cow<'a, [u32]>,
    operator_labels: Option<Cow<'a, [u32]>>,
    operator_confidence: Cow<'a, [f32]>,
    by_name: Option<Cow<'a, [AccountId]>>,
}

/// What a load derives (and checks against what was stored).
struct Derived {
    first_written: StrList,
    order: NameOrder,
    graph: Graph,
    evidence: Evidence,
    components: Clustering,
    operators: Option<OperatorClustering>,
}

/// The time of each step, as a build's stages are timed.
type Timings = Vec<(&'static str, std::time::Duration)>;

/// Checks the graph as stored, rebuilds its account side, and derives the evidence, the
/// components and the operators' nesting again; each must agree with what was stored.
fn derive(
    p: Stored<'_>,
    (accounts, artifacts, kinds, policy): (&Interner, &Interner, &Kinds, &LinkPolicy),
    timings: &mut Timings,
    lap: impl Fn(&'static str, &mut Timings),
) -> Result<Derived, SnapshotError> {
    let (n_acc, n_art) = (accounts.len(), artifacts.len());
    // Artifact side of the graph.
    check_offsets(&p.art_off, n_art, p.art_acc.len(), "artifact offsets")?;
    let rows_ok = |fs: std::ops::Range<u32>| {
        fs.into_iter().all(|f| {
            let row = &p.art_acc[p.art_off[f as usize] as usize..p.art_off[f as usize + 1] as usize];
            row.windows(2).all(|x| x[0] < x[1]) && row.last().is_none_or(|&a| a.as_usize() < n_acc)
        })
    };
    if !all_chunks(n_art, &rows_ok) {
        return Err(invalid("artifact accounts"));
    }
    let timed = !p.ev_off.is_empty();
    if timed {
        check_offsets(&p.ev_off, n_art, p.ev_acc.len(), "use offsets")?;
        if p.ev_time.len() != p.ev_acc.len() {
            return Err(invalid("use times"));
        }
        if !all_chunks(n_art, &|fs| uses_ok(&p, fs)) {
            return Err(invalid("artifact uses"));
        }
    } else if !p.ev_acc.is_empty() || !p.ev_time.is_empty() {
        return Err(invalid("use arrays without offsets"));
    }
    // Account side, rebuilt (ids were checked against n_acc above).
    let (acc_off, acc_art) = crate::graph::transpose(&p.art_off, &p.art_acc, n_acc);
    // The interner's tags, checked against the kind count when it was made.
    let art_kind = artifacts.raw_parts().2.to_vec();
    let graph = Graph {
        acc_off,
        acc_art,
        art_off: p.art_off.into_owned(),
        art_acc: p.art_acc.into_owned(),
        art_kind,
        ev_off: p.ev_off.into_owned(),
        ev_acc: p.ev_acc.into_owned(),
        ev_time: p.ev_time.into_owned(),
        market_degree: Vec::new(),
    };

    // The accounts' name order: stored after updates, else the identity (ids in name order).
    let order = name_order(accounts, &graph, p.by_name)?;
    lap("snapshot_graph", timings);

    // The evidence is judged again from the graph and the policy (it is derived data); the
    // caps and hubs the snapshot recorded must agree with the judgement.
    // A snapshot's policy comes pinned (or does not learn), so judging learns nothing new.
    let (mut evidence, _) =
        Evidence::judge(&graph, kinds, &policy.clone().learn(false), accounts, artifacts, &order, &[]);
    if p.caps.as_ref() != evidence.resolved.cap.as_slice() {
        return Err(invalid("hub caps disagree with the policy"));
    }
    let hubs = RoaringBitmap::deserialize_from(p.hubs).map_err(|_| invalid("hub bitmap"))?;
    if hubs != evidence.suppressed {
        return Err(invalid("hub set disagrees with the policy"));
    }
    lap("snapshot_judge", timings);
    if p.confirmed.windows(2).any(|w| w[0] >= w[1])
        || p.confirmed.iter().any(|&k| (k >> 32) as usize >= n_art)
    {
        return Err(invalid("confirmed groups"));
    }
    // Components and confirmed groups are derived too: link again, and the recorded ones must
    // agree (a tampered clustering would otherwise survive every later update).
    let stored = clustering(p.components.into_owned(), n_acc, &order, "component labels")?;
    let components = crate::link::link(&graph, &mut evidence, &order);
    if components != stored || evidence.confirmed.as_slice() != p.confirmed.as_ref() {
        return Err(invalid("components disagree with the evidence"));
    }
    lap("snapshot_link", timings);
    let operators = match p.operator_labels {
        None => None,
        Some(labels) => {
            let c = clustering(labels.into_owned(), n_acc, &order, "operator labels")?;
            if p.operator_confidence.len() != c.len() || p.operator_confidence.iter().any(|x| !x.is_finite())
            {
                return Err(invalid("operator confidence"));
            }
            if p.operator_confidence.iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(invalid("operator confidence"));
            }
            // Operators split components; they never cross one.
            for (_, members) in c.iter() {
                let first = components.cluster_of(members[0]);
                if members.iter().any(|&a| components.cluster_of(a) != first) {
                    return Err(invalid("an operator crosses components"));
                }
            }
            Some(OperatorClustering { clustering: c, confidence: p.operator_confidence.into_owned() })
        }
    };
    lap("snapshot_operators", timings);
    let first_written = str_list(p.first_written, n_art)?;
    lap("snapshot_first_written", timings);
    Ok(Derived { first_written, order, graph, evidence, components, operators })
}

/// True when the timed uses of artifacts `fs` are sorted by (time, account), in range, and
/// name exactly each artifact's accounts (each use one of them, each of them in a use: a build
/// records every account's uses). Offsets were checked before.
fn uses_ok(p: &Stored<'_>, fs: std::ops::Range<u32>) -> bool {
    let mut seen: Vec<AccountId> = Vec::new();
    fs.into_iter().all(|f| {
        let f = f as usize;
        {
            let r = p.ev_off[f] as usize..p.ev_off[f + 1] as usize;
            let (acc, time) = (&p.ev_acc[r.clone()], &p.ev_time[r]);
            let sorted = time.windows(2).zip(acc.windows(2)).all(|(t, a)| (t[0], a[0]) < (t[1], a[1]));
            let distinct = &p.art_acc[p.art_off[f] as usize..p.art_off[f + 1] as usize];
            let in_range = time
                .iter()
                .all(|&t| t == NO_TIME || (crate::time::MIN_TIME..=crate::time::MAX_TIME).contains(&t));
            let covers = acc == distinct || {
                seen.clear();
                seen.extend_from_slice(acc);
                seen.sort_unstable();
                seen.dedup();
                seen.as_slice() == distinct
            };
            sorted && in_range && covers
        }
    })
}

/// Every account name and artifact value must be one a build stores: names as checked, values
/// canonical under their kind's built-in normaliser (what it makes of a value is the value).
/// A custom normaliser, saved by name, is not known here: its values are taken as stored.
fn stored_as_built(
    accounts: &Interner,
    artifacts: &Interner,
    kinds: &Kinds,
    saved: &[(&str, &str)],
) -> Result<(), SnapshotError> {
    let builtin: Vec<bool> = saved.iter().map(|&(_, norm)| Normalizer::builtin(norm).is_some()).collect();
    let names_ok =
        |ids: std::ops::Range<u32>| ids.map(|a| accounts.get(a)).all(crate::observation::is_stored_account);
    let values_ok = |ids: std::ops::Range<u32>| {
        let mut out = String::new();
        ids.into_iter().all(|f| {
            let kind = artifacts.tag(f);
            if !builtin[kind as usize] {
                return true;
            }
            let value = artifacts.get(f);
            out.clear();
            kinds.normalizer(KindId::from_u32(kind)).normalize(value, &mut out).is_ok() && out == value
        })
    };
    if !all_chunks(accounts.len(), &names_ok) {
        return Err(invalid("an account name a build would refuse"));
    }
    if !all_chunks(artifacts.len(), &values_ok) {
        return Err(invalid("an artifact value that is not canonical"));
    }
    Ok(())
}

/// True when `ok` holds for every chunk of `0..n` (in parallel when the `rayon` feature is on).
fn all_chunks(n: usize, ok: &(dyn Fn(std::ops::Range<u32>) -> bool + Sync)) -> bool {
    const CHUNK: u32 = 1 << 16;
    let chunks = (n as u32).div_ceil(CHUNK);
    let chunk = |c: u32| c * CHUNK..((c + 1) * CHUNK).min(n as u32);
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..chunks).into_par_iter().all(|c| ok(chunk(c)))
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..chunks).all(|c| ok(chunk(c)))
    }
}

/// The name order: `by_name` when stored (every used account once, names strictly
/// increasing), else the identity (which then needs every account used and names sorted).
fn name_order(
    accounts: &Interner,
    graph: &Graph,
    by_name: Option<Cow<'_, [AccountId]>>,
) -> Result<NameOrder, SnapshotError> {
    let n = accounts.len();
    let name = |a: AccountId| accounts.get(a.as_u32());
    match by_name {
        None => {
            let sorted =
                (1..n as u32).all(|a| name(AccountId::from_u32(a - 1)) < name(AccountId::from_u32(a)));
            let used = (0..n as u32).all(|a| !graph.is_vacant(AccountId::from_u32(a)));
            if !sorted || !used {
                return Err(invalid("account order"));
            }
            Ok(NameOrder::identity(n))
        }
        Some(by_name) => {
            let mut seen = vec![false; n];
            for &a in by_name.iter() {
                if a.as_usize() >= n || graph.is_vacant(a) || std::mem::replace(&mut seen[a.as_usize()], true)
                {
                    return Err(invalid("account order"));
                }
            }
            let live = (0..n as u32).filter(|&a| !graph.is_vacant(AccountId::from_u32(a))).count();
            if by_name.len() != live || by_name.windows(2).any(|w| name(w[0]) >= name(w[1])) {
                return Err(invalid("account order"));
            }
            Ok(NameOrder::from_by_name(by_name.iter().map(|a| a.as_u32()).collect(), n))
        }
    }
}

/// Runs two closures, in parallel when the `rayon` feature is on.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "rayon")]
    return rayon::join(a, b);
    #[cfg(not(feature = "rayon"))]
    (a(), b())
}

fn check_offsets(off: &[u32], n: usize, len: usize, what: &'static str) -> Result<(), SnapshotError> {
    if off.len() != n + 1
        || off.first() != Some(&0)
        || off.last().map(|&x| x as usize) != Some(len)
        || off.windows(2).any(|w| w[0] > w[1])
    {
        return Err(invalid(what));
    }
    Ok(())
}

fn clustering(
    labels: Vec<u32>,
    n: usize,
    order: &NameOrder,
    what: &'static str,
) -> Result<Clustering, SnapshotError> {
    if labels.len() != n {
        return Err(invalid(what));
    }
    let c = Clustering::canonical(labels.clone(), order);
    if c.labels() != labels.as_slice() {
        return Err(invalid(what)); // saved labels are canonical; anything else was altered
    }
    Ok(c)
}

fn str_list(s: Strings<'_>, n: usize) -> Result<StrList, SnapshotError> {
    if s.ends.len() != n {
        return Err(invalid("first-written values"));
    }
    StrList::from_dense(s.arena, &s.ends).ok_or(invalid("first-written offsets"))
}

fn interner(s: Strings<'_>, tags: Option<(&[u32], usize)>) -> Result<Interner, SnapshotError> {
    let tags = match tags {
        Some((t, kinds)) => {
            if t.len() != s.ends.len() || t.iter().any(|&k| k as usize >= kinds) {
                return Err(invalid("artifact kinds"));
            }
            // Below the kind count, which is at most 256: every tag fits a byte.
            Some(t.iter().map(|&k| k as u8).collect())
        }
        None => None,
    };
    Interner::unindexed(s.arena.to_string(), s.ends.into_owned(), tags).ok_or(invalid("strings"))
}

/// The checksum a snapshot's header carries for `payload` (the bytes after the header) in
/// format `version`: XXH3-64 from version 3, FNV-1a 64 before. For tools that patch a
/// snapshot on purpose (the checksum guards against accidents; loading validates the rest).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, snapshot};
/// let bytes = snapshot::save(&IndexBuilder::new().build()?)?;
/// let version = u32::from_le_bytes(bytes[8..12].try_into()?);
/// assert_eq!(bytes[24..32], snapshot::checksum(version, &bytes[32..]).to_le_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn checksum(version: u32, payload: &[u8]) -> u64 {
    if version >= 3 { xxhash_rust::xxh3::xxh3_64(payload) } else { fnv1a(payload) }
}

/// FNV-1a, 64-bit: a stable checksum (unlike process-keyed hashers).
fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 continued from state `h` over `bytes`.
fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
