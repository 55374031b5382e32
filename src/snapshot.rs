//! Snapshots: save a built [`Index`] to bytes and load it back, validating everything.
//!
//! This is the only module that knows bincode. A snapshot is a 32-byte header followed by a
//! bincode (2.0, standard configuration) payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `SLNKSNAP` |
//! | 8..12 | format version, `u32` little-endian (currently [`FORMAT_VERSION`]; version 1 is still read) |
//! | 12..16 | reserved, zero |
//! | 16..24 | payload length, `u64` little-endian |
//! | 24..32 | FNV-1a 64 checksum of the payload, `u64` little-endian |
//!
//! The payload holds the kinds (names and built-in normaliser names), the policy, the operator
//! settings, the interned strings, the artifact side of the graph (accounts and timed uses
//! per artifact), the hub set in Roaring's portable format, both clusterings and, after
//! updates, the accounts' name order (ids are stable across updates, so names need not be in
//! id order). Version 1 stored the operator settings as numbers and had no name order. Everything
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
pub const FORMAT_VERSION: u32 = 2;
const HEADER: usize = 32;

/// The payload. Every string and byte run is *borrowed* from the input on load, so a corrupted
/// length can only fail a bounds check, never drive an allocation; sequences go through serde's
/// cautious capacity (at most 1 MiB preallocated, then growth as elements actually decode).
#[derive(Serialize, Deserialize)]
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
#[derive(Serialize, Deserialize)]
struct PayloadV2<'a> {
    #[serde(borrow)]
    body: Payload<'a, Option<OperatorSettings>>,
    by_name: Option<Cow<'a, [AccountId]>>,
    #[serde(borrow)]
    placeholders: Vec<Vec<&'a str>>,
}

/// Strings as an arena and end offsets: borrowed from the index when saving (sequences of
/// numbers are `Cow`s for the same reason: saving copies nothing), owned when loading.
#[derive(Serialize, Deserialize)]
struct Strings<'a> {
    arena: &'a str,
    ends: Cow<'a, [u64]>,
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
    let body = Payload {
        kinds: index.kinds.iter().map(|(k, n)| (n, index.kinds.normalizer(k).name())).collect(),
        policy: &policy,
        operators: index.operator_settings.clone(),
        accounts: Strings { arena: acc_arena, ends: Cow::Borrowed(acc_ends) },
        artifacts: Strings { arena: art_arena, ends: Cow::Borrowed(art_ends) },
        first_written: Strings { arena: fw_arena, ends: Cow::Owned(fw_ends) },
        // Stored as `u32`s, as the format has always had them (kind ids are bytes in memory).
        art_tags: Cow::Owned(art_tags.iter().map(|&t| u32::from(t)).collect()),
        art_off: Cow::Borrowed(&g.art_off),
        art_acc: Cow::Borrowed(&g.art_acc),
        ev_off: Cow::Borrowed(&g.ev_off),
        ev_acc: Cow::Borrowed(&g.ev_acc),
        ev_time: Cow::Borrowed(&g.ev_time),
        caps: Cow::Borrowed(&index.evidence.resolved.cap),
        hubs: &hubs,
        confirmed: Cow::Borrowed(&index.evidence.confirmed),
        components: Cow::Borrowed(index.components.labels()),
        operator_labels: index.operators.as_ref().map(|o| Cow::Borrowed(o.clustering.labels())),
        operator_confidence: Cow::Borrowed(index.operators.as_ref().map_or(&[][..], |o| &o.confidence)),
        observations: index.stats.observations,
    };
    let placeholders = index
        .kinds
        .iter()
        .map(|(k, _)| {
            index.kinds.normalizer(k).extra_placeholders().map_or_else(Vec::new, |p| p.iter().collect())
        })
        .collect();
    let payload = PayloadV2 { body, by_name: index.order.by_name().map(Cow::Borrowed), placeholders };
    let start = w.stream_position().map_err(&io)?;
    w.write_all(MAGIC).map_err(&io)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(&io)?;
    w.write_all(&[0; 20]).map_err(&io)?; // reserved, then length and checksum, written below
    let mut body = Checksummed { inner: &mut *w, len: 0, hash: FNV_OFFSET };
    bincode::serde::encode_into_std_write(&payload, &mut body, bincode::config::standard())
        .map_err(encode_err)?;
    let (len, hash) = (body.len, body.hash);
    let end = w.stream_position().map_err(&io)?;
    w.seek(SeekFrom::Start(start + 16)).map_err(&io)?;
    w.write_all(&len.to_le_bytes()).map_err(&io)?;
    w.write_all(&hash.to_le_bytes()).map_err(&io)?;
    w.seek(SeekFrom::Start(end)).map_err(&io)?;
    w.flush().map_err(&io)
}

/// A writer that counts and checksums (FNV-1a 64) what passes through it.
struct Checksummed<W> {
    inner: W,
    len: u64,
    hash: u64,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash = fnv1a_from(self.hash, &buf[..n]);
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
    let mut reader = std::io::BufReader::new(file);
    reader.read_exact(&mut bytes).map_err(io)?;
    if bytes.len() == HEADER && bytes[..8] == MAGIC[..] {
        let declared = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or([0; 8]));
        let present = meta.len() - HEADER as u64;
        if declared > present {
            return Err(SnapshotError::Truncated { needed: HEADER as u64 + declared, got: meta.len() });
        }
        bytes.reserve_exact(present as usize);
        reader.take(present).read_to_end(&mut bytes).map_err(io)?;
    }
    load(&bytes).map_err(|e| match e {
        SnapshotError::Io { .. } => e,
        other => SnapshotError::File { path: path.to_path_buf(), cause: Box::new(other) },
    })
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
    if version != 1 && version != FORMAT_VERSION {
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
    let decode = || {
        let config = bincode::config::standard();
        let decode_err = |e: bincode::error::DecodeError| SnapshotError::Decode(e.to_string());
        let (payload, by_name, placeholders, used) = if version == 1 {
            let (p, used): (Payload<'_, Option<OperatorsV1>>, usize) =
                bincode::serde::borrow_decode_from_slice(body, config).map_err(decode_err)?;
            let settings = p.operators.as_ref().map(OperatorsV1::settings).transpose()?;
            (with_operators(p, settings), None, Vec::new(), used)
        } else {
            let (p, used): (PayloadV2<'_>, usize) =
                bincode::serde::borrow_decode_from_slice(body, config).map_err(decode_err)?;
            (p.body, p.by_name, p.placeholders, used)
        };
        if used != body.len() {
            return Err(SnapshotError::Trailing((body.len() - used) as u64));
        }
        rebuild(payload, by_name, placeholders, version)
    };
    let (sum, index) = join(|| fnv1a(body), decode);
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
) -> Result<Index, SnapshotError> {
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
    let (n_acc, n_art) = (p.accounts.ends.len(), p.artifacts.ends.len());
    let (kind_count, art_tags) = (kinds.len(), &p.art_tags);
    let (accounts, artifacts) =
        join(|| interner(p.accounts, None), || interner(p.artifacts, Some((art_tags, kind_count))));
    let (accounts, artifacts) = (accounts?, artifacts?);
    stored_as_built(&accounts, &artifacts, &kinds, &p.kinds)?;
    let first_written = str_list(p.first_written, n_art)?;

    // Artifact side of the graph.
    check_offsets(&p.art_off, n_art, p.art_acc.len(), "artifact offsets")?;
    for w in p.art_off.windows(2) {
        let row = &p.art_acc[w[0] as usize..w[1] as usize];
        if row.windows(2).any(|x| x[0] >= x[1]) || row.last().is_some_and(|&a| a.as_usize() >= n_acc) {
            return Err(invalid("artifact accounts"));
        }
    }
    let timed = !p.ev_off.is_empty();
    if timed {
        check_offsets(&p.ev_off, n_art, p.ev_acc.len(), "use offsets")?;
        if p.ev_time.len() != p.ev_acc.len() {
            return Err(invalid("use times"));
        }
        let mut seen: Vec<AccountId> = Vec::new();
        for f in 0..n_art {
            let r = p.ev_off[f] as usize..p.ev_off[f + 1] as usize;
            let (acc, time) = (&p.ev_acc[r.clone()], &p.ev_time[r]);
            let sorted = time.windows(2).zip(acc.windows(2)).all(|(t, a)| (t[0], a[0]) < (t[1], a[1]));
            let distinct = &p.art_acc[p.art_off[f] as usize..p.art_off[f + 1] as usize];
            let in_range = time
                .iter()
                .all(|&t| t == NO_TIME || (crate::time::MIN_TIME..=crate::time::MAX_TIME).contains(&t));
            // The uses name exactly the artifact's accounts: each use one of them, each of
            // them in a use (a build records every account's uses).
            let covers = acc == distinct || {
                seen.clear();
                seen.extend_from_slice(acc);
                seen.sort_unstable();
                seen.dedup();
                seen.as_slice() == distinct
            };
            if !sorted || !in_range || !covers {
                return Err(invalid("artifact uses"));
            }
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
    let order = name_order(&accounts, &graph, by_name)?;

    // The evidence is judged again from the graph and the policy (it is derived data); the
    // caps and hubs the snapshot recorded must agree with the judgement.
    // A snapshot's policy comes pinned (or does not learn), so judging learns nothing new.
    let (mut evidence, _) =
        Evidence::judge(&graph, &kinds, &policy.clone().learn(false), &accounts, &artifacts, &order, &[]);
    if p.caps.as_ref() != evidence.resolved.cap.as_slice() {
        return Err(invalid("hub caps disagree with the policy"));
    }
    let hubs = RoaringBitmap::deserialize_from(p.hubs).map_err(|_| invalid("hub bitmap"))?;
    if hubs != evidence.suppressed {
        return Err(invalid("hub set disagrees with the policy"));
    }
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
        stats: BuildStats { observations: p.observations, timings: Vec::new() },
    }))
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
    Interner::from_parts(s.arena.to_string(), s.ends.into_owned(), tags).ok_or(invalid("strings"))
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
