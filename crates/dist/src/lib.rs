//! sellerlink on timely-dataflow and differential-dataflow.
//!
//! The same linking and the same operators as the library's `cluster`, split over workers and
//! processes. The rules are the library's, run through its [`sellerlink::shard`] seam; this
//! crate only decides where each observation goes.
//!
//! # The dataflow
//!
//! Every worker reads its own byte range of each CSV input file (ranges aligned to lines, the
//! file's header line prepended) with the library's reader and normalisers
//! ([`sellerlink::ingest::read_csv_rows`]), and of a Parquet file (`.parquet`) every n-th row
//! group ([`sellerlink::parquet::read_parquet_rows`]). Then, in differential dataflow:
//!
//! 1. **Kinds.** The custom kinds in order of first sight (epoch, file, byte range, line): the
//!    order one build registers them in, which numbers them.
//! 2. **Degrees and caps.** Each artifact's distinct accounts, counted; per kind a degree
//!    histogram, from which [`LinkPolicy::cap_for`] resolves the kind's cap; an artifact with
//!    more accounts than its kind's cap is a *hub*.
//! 3. **Pieces.** Connected parts of the bipartite graph without its hubs (plus the policy's
//!    must-link pairs), by label propagation: a piece's label is its smallest account name.
//! 4. **Learning** (a first dataflow over the first epoch's observations, when the policy
//!    learns): each piece's [`shard::census`], summed; each piece's [`shard::patterns`] at the
//!    summed subsampling rate, summed; [`shard::learn`] on the sums, broadcast to every worker.
//!    Later epochs keep what the first learned, as the library's updates do.
//! 5. **Pieces built.** A keyed `reduce` per piece builds it with [`shard::piece_policy`] (hubs
//!    declared, the learned policy pinned) and the library's pipeline, Leiden included, and
//!    emits `(account, label)`: the smallest account name of the account's component or
//!    operator. Labels are global: every process gives a cluster the same one.
//!
//! Further input files are later epochs: differential dataflow re-runs only the pieces whose
//! observations (or whose inputs from the whole market: the kinds, a cap) changed. An epoch
//! may also remove accounts or expire old observations ([`Batch`]), as the library's updates
//! do: each worker retracts the rows it read itself, which it keeps for that when the job has
//! such an epoch.
//!
//! With [`Job::cut_incoherent`] pieces are also cut at the artifacts that coherence rejects,
//! found round by round as the library's judgement finds them ([`shard::incoherent_given`] on
//! each one's sampled two-hop neighbourhood, with the rejections of the rounds before, until
//! nothing more is rejected). Each piece that holds a cut artifact presumes it incoherent and
//! reads its market degree ([`shard::presume_cut`]); for the operators, an artifact with a time
//! window also comes with the other pieces' uses that bridge the piece's own into the market's
//! time groups. The largest piece is then the largest component wherever rejection, not
//! detachment, separates components (1M market: 146 accounts, against 85,558 without the
//! cut).
//!
//! # Limits
//!
//! A piece is built on one worker, so the largest piece must fit on one. Without
//! [`Job::cut_incoherent`] a piece is cut only at hubs by degree (the ceiling, or caps): a
//! market whose sub-ceiling shared artifacts chain strangers together (café PCs, recycled IPs)
//! has large pieces even when its components are small. With it, pieces are cut at every
//! rejection of the coherence fixpoint, but not where a *detachment* separates components (a
//! lone account's or a second entity's use of an artifact), so on such markets pieces stay
//! larger than components. The dataflow carries account names and values as strings, at
//! about 2.4 KB of memory per observation (BENCHMARKS.md §9), and a job with an epoch that
//! removes keeps each worker's rows a second time, to retract them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use differential_dataflow::input::Input;
use differential_dataflow::operators::Iterate;
use differential_dataflow::{AsCollection, Hashable, VecCollection};
use sellerlink::arrow::ArrowOptions;
use sellerlink::ingest::{CsvOptions, IngestReport, read_csv_rows};
use sellerlink::kind::Kinds;
use sellerlink::policy::LinkPolicy;
use sellerlink::{IndexBuilder, Level, shard};
use serde::{Deserialize, Serialize};
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::vec::{Broadcast, Filter};

/// Logical time: the epoch (0 for `--input`, then one per batch).
type Time = u64;

/// One observation as the dataflow carries it: its account's hash, then [`pack`]ed account,
/// kind, canonical value and value as written, then its time.
type Row = (u64, Vec<u8>, Option<i64>);

/// Where a kind was first seen: epoch, file, first byte of the share, line in the share.
type Pos = (u64, u64, u64, u64);

/// An artifact: kind and canonical value.
type Art = (String, String);

/// The account name of a build's failure in the output (no account name holds a NUL).
const ERROR: &str = "\u{0}error";

/// Pieces are built in this many groups (a group is a union of pieces, so building it is as
/// exact as building each piece, and one build's fixed costs cover many small pieces).
const GROUPS: u64 = 4096;

/// What a group's `reduce` reads: the market's kinds, the subsampling rate, a hub that its
/// accounts use, or an observation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Val {
    Kinds(Vec<String>),
    Keep(u64),
    Hub(String, String),
    Cut(String, String, u32),
    Learned(String),
    Row(Vec<u8>, Option<i64>),
    Phantom(Vec<u8>, Option<i64>),
}

/// One use, as the first-round judgement reads it: artifact, first use, degree, hub.
type UseRow = (Art, Option<i64>, u32, bool);

/// Account, kind, canonical value and value as written (empty when the same), each as a
/// little-endian `u32` length and its bytes.
fn pack(fields: [&str; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + fields.iter().map(|f| f.len()).sum::<usize>());
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// The fields [`pack`] packed.
fn unpack(packed: &[u8]) -> [&str; 4] {
    let mut out = [""; 4];
    let mut rest = packed;
    for field in &mut out {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else { break };
        let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
        *field = std::str::from_utf8(&tail[..len]).unwrap_or_default();
        rest = &tail[len..];
    }
    out
}

/// The hash of an account's name: its node in the graph (a collision of two names only joins
/// their pieces, which a build of the union handles as exactly).
fn account_node(name: &str) -> u64 {
    name.hashed()
}

/// What to run.
///
/// # Examples
///
/// See [`run`].
#[derive(Clone, Debug)]
pub struct Job {
    /// The first epoch's observation files (CSV: `account,kind,value[,timestamp]`).
    pub inputs: Vec<PathBuf>,
    /// The further epochs, in order.
    pub batches: Vec<Batch>,
    /// Components or operators.
    pub level: Level,
    /// The linking policy (with or without a learned part).
    pub policy: LinkPolicy,
    /// How to read: strict or lenient, declared kinds.
    pub options: CsvOptions,
    /// Also cut pieces at artifacts that coherence rejects (found round by round): smaller
    /// pieces, at the cost of judging every artifact's sampled two-hop neighbourhood (and, for
    /// the operators, sending each piece that holds a cut artifact with a time window the uses
    /// that bridge its own into the market's time groups).
    pub cut_incoherent: bool,
}

/// One later epoch: observations added, accounts removed, or old observations expired.
///
/// # Examples
///
/// ```
/// use sellerlink_dist::Batch;
/// let day = [Batch::Add("day2.csv".into()), Batch::RemoveAccounts("closed.csv".into()), Batch::ExpireBefore(1_700_000_000)];
/// assert!(day[1].removes());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Batch {
    /// Observations from a file (CSV, or Parquet by the extension `.parquet`), as `--input`.
    Add(PathBuf),
    /// Removes the accounts a CSV file names in its `account` column (read by
    /// [`sellerlink::ingest::read_account_names`]), with every observation so far, as the
    /// library's `Updater::remove_account`. A name that no observation has is ignored.
    RemoveAccounts(PathBuf),
    /// Drops every timestamped observation older than this (unix seconds), as the library's
    /// `Updater::expire_before`; untimed observations stay.
    ExpireBefore(i64),
}

impl Batch {
    /// True when the epoch takes observations away.
    pub fn removes(&self) -> bool {
        !matches!(self, Batch::Add(_))
    }
}

/// What one process gives back.
///
/// # Examples
///
/// See [`run`].
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// `(account, label)` for the accounts this process's workers own, sorted.
    pub rows: Vec<(String, String)>,
    /// Per epoch: how long it took (the first includes learning).
    pub epochs: Vec<Duration>,
    /// What reading this process's shares kept and rejected.
    pub report: IngestReport,
    /// What the first epoch learned, as JSON (`null` when the policy learns nothing).
    pub learned: String,
    /// The most accounts in one piece (the most one worker must build at once).
    pub largest_piece: u64,
}

/// Why a run failed: a file that cannot be read, a line a strict read refuses, or a worker that
/// failed (the message names which).
///
/// # Examples
///
/// ```
/// let e = sellerlink_dist::DistError("obs.csv: No such file or directory".into());
/// assert_eq!(e.to_string(), "obs.csv: No such file or directory");
/// ```
#[derive(Debug)]
pub struct DistError(pub String);

impl std::fmt::Display for DistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DistError {}

/// Runs `job` on this process's workers of `config` and returns this process's share of the
/// result.
///
/// # Examples
///
/// Two workers in this process, one epoch:
///
/// ```
/// use sellerlink::{Level, ingest::CsvOptions, policy::LinkPolicy};
/// let path = std::env::temp_dir().join(format!("sellerlink-dist-doc-{}.csv", std::process::id()));
/// std::fs::write(&path, "account,kind,value\ns1,device,laptop-7\ns2,device,LAPTOP-7\ns3,phone,+4915112345678\n")?;
/// let job = sellerlink_dist::Job {
///     inputs: vec![path.clone()],
///     batches: Vec::new(),
///     level: Level::Components,
///     policy: LinkPolicy::new(),
///     options: CsvOptions::strict(),
///     cut_incoherent: false,
/// };
/// let out = sellerlink_dist::run(timely::Config::process(2), job)?;
/// assert_eq!(out.rows, [("s1".into(), "s1".into()), ("s2".into(), "s1".into()), ("s3".into(), "s3".into())]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A file that cannot be read or a line a strict read refuses (naming the file, its byte range
/// and the line in it), or a worker that failed.
pub fn run(config: timely::Config, job: Job) -> Result<Outcome, DistError> {
    let guards = timely::execute(config, move |worker| worker_main(worker, &job))
        .map_err(|e| DistError(format!("timely: {e}")))?;
    let mut out = Outcome::default();
    for result in guards.join() {
        let part = result.map_err(|e| DistError(format!("a worker failed: {e}")))?.map_err(DistError)?;
        out.rows.extend(part.rows);
        out.report.merge(&part.report);
        out.largest_piece = out.largest_piece.max(part.largest_piece);
        if out.epochs.is_empty() {
            out.epochs = part.epochs;
        }
        if !part.learned.is_empty() {
            out.learned = part.learned;
        }
    }
    out.rows.sort();
    Ok(out)
}

/// A worker's share of every file of one epoch, read with the library's reader.
#[derive(Default)]
struct Share {
    rows: Vec<Row>,
    /// Rows this worker inserted before and retracts now.
    retract: Vec<Row>,
    firsts: Vec<(String, Pos)>,
    report: IngestReport,
}

fn read_epoch(files: &[PathBuf], epoch: u64, job: &Job, index: usize, peers: usize) -> Result<Share, String> {
    let mut share = Share::default();
    for (i, path) in files.iter().enumerate() {
        let mut kinds = Kinds::new();
        let first_row = share.rows.len();
        let mut ids = Vec::new();
        let mut each = |row: sellerlink::ingest::Row<'_>| {
            ids.push(row.kind);
            let raw = if row.raw == row.value { "" } else { row.raw };
            // The kind's name is filled in below, once the reader has let go of the registry.
            share.rows.push((account_node(row.account), pack([row.account, "", row.value, raw]), row.time));
        };
        // Where this share starts in the file: a byte for CSV; a Parquet share's rows are
        // numbered in the whole file already.
        let (start, report) = if sellerlink::parquet::is_parquet_path(path) {
            let options: ArrowOptions = job.options.for_format();
            let report = sellerlink::parquet::read_parquet_rows(
                path,
                |group| group % peers == index,
                &options,
                &mut kinds,
                &mut each,
            )
            .map_err(|e| e.to_string())?;
            (0, report)
        } else {
            let (start, text) =
                byte_share(path, index, peers).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = format!("{} (bytes from {start})", path.display());
            let report = read_csv_rows(&text[..], &name, &job.options, &mut kinds, &mut each)
                .map_err(|e| e.to_string())?;
            (start, report)
        };
        for (row, kind) in share.rows[first_row..].iter_mut().zip(ids) {
            let [account, _, value, raw] = unpack(&row.1);
            row.1 = pack([account, kinds.name(kind), value, raw]);
        }
        for new in &report.new_kinds {
            share.firsts.push((new.name.clone(), (epoch, i as u64, start, new.line)));
        }
        share.report.merge(&report);
    }
    Ok(share)
}

/// The lines of `path` that start in worker `index`'s byte range (of `peers` equal ranges),
/// with the file's header line first; and where the range starts.
fn byte_share(path: &Path, index: usize, peers: usize) -> std::io::Result<(u64, Vec<u8>)> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let lo = len * index as u64 / peers as u64;
    let hi = len * (index as u64 + 1) / peers as u64;
    let mut reader = BufReader::with_capacity(1 << 20, &mut file);
    let mut text = Vec::new();
    let header = reader.read_until(b'\n', &mut text)? as u64;
    if index == 0 {
        // The first share starts at byte 0: its header is already in.
        let mut rest = Vec::new();
        (&mut reader).take(hi.saturating_sub(header)).read_to_end(&mut rest)?;
        let mut pos = header + rest.len() as u64;
        text.extend_from_slice(&rest);
        // Finish the line that straddles the end of the range.
        if pos == hi && !text.ends_with(b"\n") {
            pos += reader.read_until(b'\n', &mut text)? as u64;
        }
        let _ = pos;
        return Ok((0, text));
    }
    drop(reader);
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    // A line starts at p when p is 0 or byte p - 1 is a line break: skip to the first one at or
    // after `lo` (and after the header).
    let from = lo.max(header);
    file.seek(SeekFrom::Start(from - 1))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut skip = Vec::new();
    let mut pos = from - 1 + reader.read_until(b'\n', &mut skip)? as u64;
    let start = pos;
    let mut line = Vec::new();
    while pos < hi {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        pos += n as u64;
        text.extend_from_slice(&line);
    }
    Ok((start, text))
}

/// Inputs of a dataflow: observations, kinds' first sights, must-link pairs.
type Inputs = (
    differential_dataflow::input::InputSession<Time, Row, isize>,
    differential_dataflow::input::InputSession<Time, (String, Pos), isize>,
    differential_dataflow::input::InputSession<Time, (String, String), isize>,
    differential_dataflow::input::InputSession<Time, (), isize>,
    differential_dataflow::input::InputSession<Time, String, isize>,
);

/// Feeds one epoch's share into `inputs` (must-link pairs with the first epoch, from worker 0).
fn feed(inputs: &mut Inputs, share: &Share, must: Option<&[(String, String)]>) {
    for row in &share.rows {
        inputs.0.insert(row.clone());
    }
    for row in &share.retract {
        inputs.0.remove(row.clone());
    }
    for f in &share.firsts {
        inputs.1.insert(f.clone());
    }
    for pair in must.unwrap_or(&[]) {
        inputs.2.insert(pair.clone());
    }
    // One record with the first epoch, so that learning runs even on an empty first epoch (as
    // a first build of nothing learns the priors back).
    if must.is_some() {
        inputs.3.insert(());
    }
}

/// Decodes a JSON value a `reduce` wrote (they write what they made, or why they failed).
fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_json::from_str::<Result<T, String>>(text).map_err(|e| format!("internal: {e}"))?
}

/// A worker's share of one epoch, or an empty share and why it could not be read. A worker
/// that fails still takes part in the dataflow (the others would wait for it forever); its
/// error reaches every worker through the dataflow, and every process fails with it.
fn read_or_fail(
    files: &[PathBuf],
    epoch: u64,
    job: &Job,
    index: usize,
    peers: usize,
) -> (Share, Option<String>) {
    match read_epoch(files, epoch, job, index, peers) {
        Ok(share) => (share, None),
        Err(why) => (Share::default(), Some(why)),
    }
}

/// A later epoch's share: the rows this worker reads, or those it inserted before and
/// retracts now (taken out of `kept`, the rows it has inserted and not retracted).
fn batch_share(
    batch: &Batch,
    epoch: u64,
    job: &Job,
    (index, peers): (usize, usize),
    kept: &mut Vec<Row>,
) -> (Share, Option<String>) {
    let gone: Box<dyn Fn(&Row) -> bool> = match batch {
        Batch::Add(path) => return read_or_fail(std::slice::from_ref(path), epoch, job, index, peers),
        Batch::RemoveAccounts(path) => match sellerlink::ingest::read_account_names(path) {
            Ok(names) => {
                let names: BTreeSet<String> = names.into_iter().collect();
                Box::new(move |row: &Row| names.contains(unpack(&row.1)[0]))
            }
            Err(why) => return (Share::default(), Some(why.to_string())),
        },
        Batch::ExpireBefore(cutoff) => {
            let cutoff = *cutoff;
            Box::new(move |row: &Row| row.2.is_some_and(|t| t < cutoff))
        }
    };
    let (retract, keep) = std::mem::take(kept).into_iter().partition(|row| gone(row));
    *kept = keep;
    (Share { retract, ..Share::default() }, None)
}

/// A worker's result: its rows, its epoch timings, its reading report, the learned policy.
fn worker_main(worker: &mut timely::worker::Worker, job: &Job) -> Result<Outcome, String> {
    let (index, peers) = (worker.index(), worker.peers());
    let (first, mut failed) = read_or_fail(&job.inputs, 0, job, index, peers);
    let mut report = first.report.clone();
    let must: Vec<(String, String)> =
        if index == 0 { job.policy.overrides().must_link.clone() } else { Vec::new() };
    // Learning reads the first epoch alone (the library's updates keep what its first build
    // learned), and every group's build waits for it.
    let learns = job.policy.learns() && job.policy.learned().is_none();

    let captured: Rc<RefCell<BTreeMap<(String, String), isize>>> = Default::default();
    let learned: Rc<RefCell<BTreeMap<String, isize>>> = Default::default();
    let probe = ProbeHandle::new();
    let sizes: Rc<RefCell<BTreeMap<isize, isize>>> = Default::default();
    let errors: Rc<RefCell<BTreeMap<String, isize>>> = Default::default();
    let (sink, learned_sink, sizes_sink, errors_sink) =
        (captured.clone(), learned.clone(), sizes.clone(), errors.clone());
    let (level, policy, cut) = (job.level, job.policy.clone(), job.cut_incoherent);
    let mut inputs: Inputs = worker.dataflow::<Time, _, _>(|scope| {
        let (rows_in, rows) = scope.new_collection::<Row, isize>();
        let (firsts_in, firsts) = scope.new_collection::<(String, Pos), isize>();
        let (must_in, must) = scope.new_collection::<(String, String), isize>();
        let (trigger_in, trigger) = scope.new_collection::<(), isize>();
        let (errors_in, read_errors) = scope.new_collection::<String, isize>();
        let (by_group, kinds, sizes) = front(rows, firsts, must, &policy, cut, level);
        sizes
            .inspect(move |((_, size), _t, r): &((u64, isize), Time, isize)| {
                *sizes_sink.borrow_mut().entry(*size).or_insert(0) += *r;
            })
            .probe_with(&probe);
        let learned_g = if learns {
            let learned = learning(
                by_group.clone().inner.filter(|(_, t, _)| *t == 0).as_collection(),
                kinds.inner.filter(|(_, t, _)| *t == 0).as_collection(),
                trigger.inner.filter(|(_, t, _)| *t == 0).as_collection(),
                &policy,
            );
            learned
                .clone()
                .inspect(move |(((), text), _t, r): &(((), String), Time, isize)| {
                    *learned_sink.borrow_mut().entry(text.clone()).or_insert(0) += *r;
                })
                .flat_map(|((), text)| (0..GROUPS).map(move |g| (g, Val::Learned(text.clone()))))
        } else {
            by_group.clone().filter(|_| false)
        };
        let piece_policy = policy.clone();
        let built = by_group
            .concat(learned_g)
            .reduce(move |_group: &u64, vals: &[(&Val, isize)], out: &mut Vec<((String, String), isize)>| {
                if vals.iter().all(|(v, _)| !matches!(v, Val::Row(..))) {
                    return; // a group without observations
                }
                let policy = match vals.iter().find_map(|(v, _)| match v {
                    Val::Learned(text) => Some(text),
                    _ => None,
                }) {
                    Some(text) => decode::<Option<sellerlink::policy::Learned>>(text)
                        .map(|l| piece_policy.clone().with_learned(l)),
                    None if learns => Err("internal: a group built before learning".to_string()),
                    None => Ok(piece_policy.clone()),
                };
                match policy
                    .and_then(|p| piece_builder(vals, &p, level))
                    .and_then(|b| b.build().map_err(|e| e.to_string()))
                {
                    Ok(index) => {
                        let own = own_accounts(vals);
                        out.extend(
                            shard::labels(&index, level)
                                .into_iter()
                                .filter(|(a, _)| own.binary_search(a).is_ok())
                                .map(|row| (row, 1)),
                        )
                    }
                    Err(why) => out.push(((ERROR.to_string(), why), 1)),
                }
            })
            .map(|(_, row)| row);
        built
            .clone()
            .filter(|(account, _)| account != ERROR)
            .inspect(move |(row, _t, r): &((String, String), Time, isize)| {
                *sink.borrow_mut().entry(row.clone()).or_insert(0) += *r;
            })
            .probe_with(&probe);
        // Every failure, a read's or a build's, reaches every worker.
        built
            .filter(|(account, _)| account == ERROR)
            .map(|(_, why)| why)
            .concat(read_errors)
            .inner
            .broadcast()
            .as_collection()
            .inspect(move |(why, _t, r): &(String, Time, isize)| {
                *errors_sink.borrow_mut().entry(why.clone()).or_insert(0) += *r;
            })
            .probe_with(&probe);
        (rows_in, firsts_in, must_in, trigger_in, errors_in)
    });
    let mut epochs = Vec::new();
    let mut share = first;
    let mut epoch: Time = 0;
    // The rows this worker inserted and has not retracted, kept only when an epoch removes.
    let keeps = job.batches.iter().any(Batch::removes);
    let mut kept: Vec<Row> = Vec::new();
    loop {
        let clock = Instant::now();
        feed(&mut inputs, &share, (epoch == 0).then_some(must.as_slice()));
        if let Some(why) = failed.take() {
            inputs.4.insert(why);
        }
        if keeps {
            kept.append(&mut share.rows);
        }
        drop(share);
        inputs.0.advance_to(epoch + 1);
        inputs.1.advance_to(epoch + 1);
        inputs.2.advance_to(epoch + 1);
        inputs.3.advance_to(epoch + 1);
        inputs.4.advance_to(epoch + 1);
        inputs.0.flush();
        inputs.1.flush();
        inputs.2.flush();
        inputs.3.flush();
        inputs.4.flush();
        worker.step_while(|| probe.less_than(inputs.0.time()));
        epochs.push(clock.elapsed());
        let Some(batch) = job.batches.get(epoch as usize) else { break };
        epoch += 1;
        (share, failed) = batch_share(batch, epoch, job, (index, peers), &mut kept);
        report.merge(&share.report);
    }
    drop(inputs);
    if let Some((why, _)) = errors.borrow().iter().find(|(_, n)| **n > 0) {
        return Err(why.clone());
    }
    let captured = captured.borrow();
    let mut rows = Vec::new();
    for ((account, label), n) in captured.iter() {
        match n {
            0 => {}
            1 => rows.push((account.clone(), label.clone())),
            _ => return Err(format!("internal: account {account} labelled {n} times")),
        }
    }
    let learned = learned.borrow();
    let learned_json = learned
        .iter()
        .find(|(_, n)| **n > 0)
        .map(|(text, _)| {
            decode::<Option<sellerlink::policy::Learned>>(text)
                .map(|l| serde_json::to_string(&l).unwrap_or_default())
        })
        .transpose()?
        .unwrap_or_default();
    let largest_piece =
        sizes.borrow().iter().filter(|(_, n)| **n > 0).map(|(size, _)| *size as u64).max().unwrap_or(0);
    Ok(Outcome { rows, epochs, report, learned: learned_json, largest_piece })
}

/// What the first epoch teaches (as JSON: a `Result<Option<Learned>, String>`), learned as one
/// build would from the sums of its groups' census and patterns.
fn learning<'s>(
    by_group: VecCollection<'s, Time, (u64, Val)>,
    kinds: VecCollection<'s, Time, ((), Vec<String>)>,
    trigger: VecCollection<'s, Time, ()>,
    policy: &LinkPolicy,
) -> VecCollection<'s, Time, ((), String)> {
    let census_policy = policy.clone();
    let census = by_group
        .clone()
        .reduce(move |_group: &u64, vals: &[(&Val, isize)], out: &mut Vec<(String, isize)>| {
            if vals.iter().all(|(v, _)| !matches!(v, Val::Row(..))) {
                return; // a group without observations
            }
            let census = piece_builder(vals, &census_policy, Level::Components)
                .and_then(|b| shard::census(b).map_err(|e| e.to_string()));
            out.push((json(&census), 1));
        })
        .map(|(_, c)| ((), c))
        .reduce(|_, vals: &[(&String, isize)], out: &mut Vec<(String, isize)>| {
            let mut sum: Result<shard::Census, String> = Ok(shard::Census::default());
            for (c, n) in vals {
                sum = sum.and_then(|mut s| {
                    let c = decode::<shard::Census>(c)?;
                    for _ in 0..*n {
                        s.merge(&c);
                    }
                    Ok(s)
                });
            }
            out.push((json(&sum), 1));
        });
    let keep = census.clone().flat_map(|((), c)| {
        let keep = decode::<shard::Census>(&c).map(|c| c.keep_one_in()).unwrap_or(1);
        (0..GROUPS).map(move |g| (g, Val::Keep(keep)))
    });
    let pattern_policy = policy.clone();
    let patterns = by_group
        .concat(keep)
        .reduce(move |_group: &u64, vals: &[(&Val, isize)], out: &mut Vec<(String, isize)>| {
            let Some(keep) = vals.iter().find_map(|(v, _)| match v {
                Val::Keep(k) => Some(*k),
                _ => None,
            }) else {
                return;
            };
            if vals.iter().all(|(v, _)| !matches!(v, Val::Row(..))) {
                return; // a group without observations
            }
            let patterns = piece_builder(vals, &pattern_policy, Level::Components)
                .and_then(|b| shard::patterns(b, keep).map_err(|e| e.to_string()));
            out.push((json(&patterns), 1));
        })
        .map(|(_, p)| ((), (0u8, p)));
    let learn_policy = policy.clone();
    patterns
        .concat(census.map(|((), c)| ((), (1u8, c))))
        .concat(kinds.map(|((), k)| ((), (2u8, json(&Ok::<_, String>(k))))))
        .concat(trigger.map(|()| ((), (3u8, String::new()))))
        .reduce(move |_, vals: &[(&(u8, String), isize)], out: &mut Vec<(String, isize)>| {
            let learned = (|| {
                let mut sum = shard::Patterns::default();
                let (mut census, mut kinds) = (shard::Census::default(), Kinds::new());
                for ((tag, text), n) in vals {
                    match tag {
                        0 => {
                            let p = decode::<shard::Patterns>(text)?;
                            for _ in 0..*n {
                                sum.merge(&p);
                            }
                        }
                        1 => census = decode::<shard::Census>(text)?,
                        2 => kinds = registry(&decode::<Vec<String>>(text)?),
                        _ => {} // the trigger
                    }
                }
                Ok::<_, String>(shard::learn(&kinds, &learn_policy, &census, &sum))
            })();
            out.push((json(&learned), 1));
        })
}

/// Steps 1–3 of the dataflow: per group of pieces, its observations, the hubs its accounts use
/// and the market's kinds; and the market's kinds.
#[allow(clippy::type_complexity)]
fn front<'s>(
    rows: VecCollection<'s, Time, Row>,
    firsts: VecCollection<'s, Time, (String, Pos)>,
    must: VecCollection<'s, Time, (String, String)>,
    policy: &LinkPolicy,
    cut_incoherent: bool,
    level: Level,
) -> (
    VecCollection<'s, Time, (u64, Val)>,
    VecCollection<'s, Time, ((), Vec<String>)>,
    VecCollection<'s, Time, (u64, isize)>,
) {
    // 1. The custom kinds in order of first sight.
    let kinds = firsts.map(|(k, pos)| ((), (pos, k))).reduce(
        |_, vals: &[(&(Pos, String), isize)], out: &mut Vec<(Vec<String>, isize)>| {
            let mut names: Vec<String> = Vec::new();
            for ((_, k), _) in vals {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
            out.push((names, 1));
        },
    );
    let kinds_g =
        kinds.clone().flat_map(|((), names)| (0..GROUPS).map(move |g| (g, Val::Kinds(names.clone()))));

    // 2. Degrees (distinct account names), caps, hubs.
    let users = rows
        .clone()
        .map(|(_, packed, _)| {
            let [account, kind, value, _] = unpack(&packed);
            ((kind.to_string(), value.to_string()), account.to_string())
        })
        .distinct();
    let degree = users.clone().map(|(art, _)| art).count();
    let cap_policy = policy.clone();
    let caps = degree
        .clone()
        .map(|((k, _), d)| (k, d as u32))
        .count()
        .map(|((k, d), n)| ((), (k, d, n as u64)))
        .reduce(move |_, vals: &[(&(String, u32, u64), isize)], out: &mut Vec<((String, u32), isize)>| {
            let mut histograms: BTreeMap<&str, BTreeMap<u32, u64>> = BTreeMap::new();
            for ((k, d, n), _) in vals {
                *histograms.entry(k.as_str()).or_default().entry(*d).or_default() += n;
            }
            for (k, h) in histograms {
                out.push(((k.to_string(), cap_policy.cap_for(k, &h)), 1));
            }
        })
        .flat_map(|((), (k, cap))| (0..GROUPS).map(move |b| ((k.clone(), b), cap)));
    let hub = degree
        .map(|(art, d): (Art, isize)| ((art.0.clone(), art.1.hashed() % GROUPS), (art, d as u32)))
        .join_map(caps, |_, (art, d), cap| (art.clone(), (*d >= 2 && d > cap, *d)));

    // 3. Artifacts that coherence rejects, found round by round as the library's judgement
    //    finds them: each judged on its sampled accounts' neighbourhoods, with the rejections
    //    of the rounds before (`shard::incoherent_given`), until a round rejects nothing new.
    //    Each is rejected by the whole build too, so pieces are cut there as well: each piece
    //    that uses one reads its market degree (and, for the operators of an artifact with a
    //    time window, the uses that make its time groups the market's; see `bridging`).
    let users_by_art = users.clone().arrange_by_key();
    let judgeable = hub
        .clone()
        .filter(move |(_, (is_hub, d))| cut_incoherent && !*is_hub && *d >= 3)
        .map(|(art, (_, d))| (art, d));
    let sampled = users_by_art
        .clone()
        .join_core(judgeable.clone().arrange_by_key(), |art, a, _| Some((art.clone(), a.clone())))
        .reduce(|_art, vals: &[(&String, isize)], out: &mut Vec<(String, isize)>| {
            // Values come sorted: the accounts in name order.
            let positions = shard::sample_positions(vals.len());
            out.extend(positions.into_iter().filter_map(|i| vals.get(i)).map(|(a, _)| ((*a).clone(), 1)));
        })
        .map(|(art, a)| (a, art));
    // Each sampled account's uses: artifact, first use, degree, hub (none without the cut:
    // every row would otherwise be arranged once more for nothing).
    let first_use = rows
        .clone()
        .filter(move |_| cut_incoherent)
        .map(|(_, packed, time)| {
            let [account, kind, value, _] = unpack(&packed);
            ((account.to_string(), (kind.to_string(), value.to_string())), time)
        })
        .reduce(|_, vals: &[(&Option<i64>, isize)], out: &mut Vec<(Option<i64>, isize)>| {
            out.push((vals.iter().filter_map(|(t, _)| **t).min(), 1));
        })
        .map(|((account, art), t)| (art, (account, t)))
        .join_map(hub.clone(), |art, (account, t), (is_hub, d)| {
            (art.clone(), (account.clone(), *t, *d, *is_hub))
        });
    let sampled_accounts = sampled.clone().map(|(a, _)| a).distinct();
    let uses = first_use
        .map(|(art, (account, t, d, is_hub))| (account, (art, t, d, is_hub)))
        .semijoin(sampled_accounts)
        .map(|(account, (art, t, d, is_hub))| (art, (account, t, d, is_hub)));
    let judge_policy = policy.clone();
    let incoherent = judgeable.clone().filter(|_| false).map(|(art, _)| art).iterate(|inner, rejected| {
        let uses = uses.enter(inner);
        let sampled = sampled.enter(inner);
        let judgeable = judgeable.enter(inner);
        let judge_policy = judge_policy.clone();
        // Each use marked with whether its artifact is rejected so far.
        let hit = uses.clone().semijoin(rejected.clone());
        let marked = uses
            .map(|(art, (a, t, d, h))| (a, ((art, t, d, h), false)))
            .concat(hit.clone().map(|(art, (a, t, d, h))| (a, ((art, t, d, h), false))).negate())
            .concat(hit.map(|(art, (a, t, d, h))| (a, ((art, t, d, h), true))));
        let neighbourhoods = marked.reduce(
            |_a, vals: &[(&(UseRow, bool), isize)], out: &mut Vec<(Vec<(UseRow, bool)>, isize)>| {
                out.push((vals.iter().map(|(u, _)| (*u).clone()).collect(), 1));
            },
        );
        sampled
            .join_map(neighbourhoods, |a, art, uses| (art.clone(), (a.clone(), uses.clone())))
            .join_map(judgeable, |art, view, d| (art.clone(), (view.clone(), *d)))
            .reduce(
                move |art: &Art,
                      vals: &[(&((String, Vec<(UseRow, bool)>), u32), isize)],
                      out: &mut Vec<((), isize)>| {
                    let degree = vals.first().map_or(0, |(v, _)| v.1);
                    let mut gone: Vec<&Art> = Vec::new();
                    let accounts: Vec<(Option<i64>, Vec<shard::Use>)> = vals
                        .iter()
                        .map(|(((_, uses), _), _)| {
                            let own = uses.iter().find(|u| &u.0.0 == art).and_then(|u| u.0.1);
                            gone.extend(uses.iter().filter(|u| u.1).map(|u| &u.0.0));
                            let uses = uses
                                .iter()
                                .map(|((artifact, first_use, degree, hub), _)| shard::Use {
                                    artifact: artifact.clone(),
                                    first_use: *first_use,
                                    degree: *degree,
                                    hub: *hub,
                                })
                                .collect();
                            (own, uses)
                        })
                        .collect();
                    gone.sort_unstable();
                    gone.dedup();
                    if shard::incoherent_given(&judge_policy, art, degree, &accounts, |g| {
                        gone.binary_search(&g).is_ok()
                    }) {
                        out.push(((), 1));
                    }
                },
            )
            .map(|(art, ())| art)
    });

    // 4. Pieces: label propagation over accounts and the artifacts that link (not hubs, not
    //    cut), on hashes (a collision only joins two pieces).
    let linking = hub
        .clone()
        .filter(|(_, (is_hub, d))| !*is_hub && *d >= 2)
        .map(|(art, _)| (art, ()))
        .antijoin(incoherent.clone())
        .map(|(art, ())| art);
    let hubs = hub.clone().filter(|(_, (is_hub, _))| *is_hub).map(|(art, _)| art);
    let edges = users_by_art
        .clone()
        .join_core(linking.arrange_by_self(), |art, a, ()| {
            let (a, node) = (account_node(a), (1u8, art).hashed());
            Some([(a, node), (node, a)])
        })
        .flat_map(|pair| pair)
        .concat(must.flat_map(|(a, b)| {
            let pair = (2u8, &a, &b).hashed();
            let (a, b) = (account_node(&a), account_node(&b));
            [(a, pair), (pair, a), (b, pair), (pair, b)]
        }));
    let accounts = rows.clone().map(|(a, _, _)| a).distinct();
    let nodes = accounts.clone().map(|a| (a, a));
    let edges = edges.arrange_by_key();
    let labels = nodes.clone().iterate(|inner, labels| {
        let nodes = nodes.enter(inner);
        let edges = edges.enter(inner);
        labels
            .join_core(edges, |_src, label, dst| Some((*dst, *label)))
            .concat(nodes)
            .reduce(|_node, vals: &[(&u64, isize)], out: &mut Vec<(u64, isize)>| out.push((*vals[0].0, 1)))
    });
    let piece_of = labels.semijoin(accounts);
    let sizes = piece_of.clone().map(|(_, piece)| piece).count();
    let group_of = piece_of.map(|(a, piece)| (a, piece % GROUPS));

    // Every observation, and every hub use, keyed by its group; each group the market's kinds.
    let hub_uses = users_by_art
        .clone()
        .join_core(hubs.arrange_by_self(), |art, a, ()| Some((account_node(a), art.clone())))
        .join_map(group_of.clone(), |_, (kind, value), g| (*g, Val::Hub(kind.clone(), value.clone())))
        .distinct();
    // Each cut artifact, with its market degree, to every group that uses it; and, where its
    // time groups are needed (the operators' weights of an artifact with a time window), the
    // other groups' uses that bridge the group's own into the market's time groups.
    let by_art =
        rows.clone().filter(move |_| cut_incoherent && level == Level::Operators).map(|(a, packed, time)| {
            let [_, kind, value, _] = unpack(&packed);
            ((kind.to_string(), value.to_string()), (a, packed, time))
        });
    let cut_groups = users_by_art
        .join_core(incoherent.clone().arrange_by_self(), |art, a, ()| Some((account_node(a), art.clone())))
        .join_map(group_of.clone(), |_, art, g| (art.clone(), *g))
        .distinct();
    let cut_degree =
        incoherent.clone().map(|art| (art, ())).join_map(hub.clone(), |art, (), (_, d)| (art.clone(), *d));
    let window_policy = policy.clone();
    let window = move |art: &Art| window_policy.kind_policy(&art.0).window();
    let phantom_window = window.clone();
    let with_uses = incoherent.filter(move |art| level == Level::Operators && window(art).is_some());
    let bridges = by_art
        .semijoin(with_uses)
        .map(|(art, (a, packed, time))| (a, (art, packed, time)))
        .join_map(group_of.clone(), |_, (art, packed, time), g| (art.clone(), (*time, *g, packed.clone())))
        .reduce(
            move |art: &Art,
                  vals: &[(&(Option<i64>, u64, Vec<u8>), isize)],
                  out: &mut Vec<((u64, Vec<u8>, Option<i64>), isize)>| {
                let uses: Vec<&(Option<i64>, u64, Vec<u8>)> = vals.iter().map(|(v, _)| *v).collect();
                for (g, packed, time) in bridging(&uses, phantom_window(art).unwrap_or(0)) {
                    out.push(((g, packed, time), 1));
                }
            },
        )
        .map(|(_, (g, packed, time))| (g, Val::Phantom(packed, time)));
    let cut = bridges.concat(
        cut_groups
            .join_map(cut_degree, |(kind, value), g, d| (*g, Val::Cut(kind.clone(), value.clone(), *d))),
    );
    let by_group = rows
        .map(|(a, packed, time)| (a, (packed, time)))
        .join_map(group_of, |_, (packed, time), g| (*g, Val::Row(packed.clone(), *time)));
    (by_group.concat(hub_uses).concat(kinds_g).concat(cut), kinds, sizes)
}

/// The uses of an artifact with a time window of `window` seconds that the groups of pieces
/// holding it need besides their own, so that its time groups there are the market's (`uses`:
/// each use's time, its account's group and its row, sorted, untimed first): a group whose own
/// uses fall in one market time group but lie further apart than the window is given a chain
/// of other groups' uses between them, each within the window of the last. When the market
/// has an untimed use, the artifact is one time group, and a group with only timed uses of it
/// is given one untimed use.
fn bridging(uses: &[&(Option<i64>, u64, Vec<u8>)], window: u64) -> Vec<(u64, Vec<u8>, Option<i64>)> {
    let mut out: Vec<(u64, Vec<u8>, Option<i64>)> = Vec::new();
    let mut own: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, (_, g, _)) in uses.iter().enumerate() {
        own.entry(*g).or_default().push(i);
    }
    if let Some(untimed) = uses.iter().find(|u| u.0.is_none()) {
        for (&g, at) in &own {
            if at.iter().all(|&i| uses[i].0.is_some()) {
                out.push((g, untimed.2.clone(), None));
            }
        }
        return out;
    }
    let times: Vec<i64> = uses.iter().map(|u| u.0.unwrap_or(i64::MIN)).collect();
    let within = |x: i64, y: i64| y.abs_diff(x) <= window;
    // The market's time groups: a new one after each gap longer than the window.
    let mut group = vec![0u32; times.len()];
    for i in 1..times.len() {
        group[i] = group[i - 1] + u32::from(!within(times[i - 1], times[i]));
    }
    for (&g, at) in &own {
        for pair in at.windows(2) {
            let (i, j) = (pair[0], pair[1]);
            if group[i] != group[j] || within(times[i], times[j]) {
                continue;
            }
            // The furthest use within the window of the last, until j is within reach.
            let mut at_k = i;
            while !within(times[at_k], times[j]) {
                let reach = times[at_k].saturating_add(i64::try_from(window).unwrap_or(i64::MAX));
                let next = times.partition_point(|&t| t <= reach) - 1;
                at_k = next.max(at_k + 1);
                out.push((g, uses[at_k].2.clone(), uses[at_k].0));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The registry one build would have: the built-in kinds, then `custom` in order.
fn registry(custom: &[String]) -> Kinds {
    let mut kinds = Kinds::new();
    for name in custom {
        let _ = kinds.resolve(name);
    }
    kinds
}

/// A group's builder from its `reduce` values: its observations, under `policy` made a piece
/// policy (its hubs declared).
fn piece_builder(vals: &[(&Val, isize)], policy: &LinkPolicy, level: Level) -> Result<IndexBuilder, String> {
    let names = vals
        .iter()
        .find_map(|(v, _)| match v {
            Val::Kinds(k) => Some(k.as_slice()),
            _ => None,
        })
        .unwrap_or(&[]);
    let kinds = registry(names);
    let hubs = vals.iter().filter_map(|(v, _)| match v {
        Val::Hub(kind, value) => Some((kind.as_str(), value.as_str())),
        _ => None,
    });
    let piece_policy = shard::piece_policy(policy, &kinds, hubs);
    let mut b = IndexBuilder::with_kinds(kinds).policy(piece_policy);
    if level == Level::Components {
        b = b.operators(None);
    }
    let mut real: Vec<&str> = Vec::new();
    for (v, n) in vals {
        if let Val::Row(packed, time) = v {
            let [account, kind, value, raw] = unpack(packed);
            let written = if raw.is_empty() { value } else { raw };
            real.push(account);
            for _ in 0..*n {
                b.add(account, kind, written, *time)
                    .map_err(|e| format!("{account},{kind},{written}: {e}"))?;
            }
        }
    }
    // The uses of artifacts cut from the pieces by other pieces' accounts: accounts here with
    // that one use, so that the artifact's degree and time groups are the market's.
    real.sort_unstable();
    for (v, n) in vals {
        if let Val::Phantom(packed, time) = v {
            let [account, kind, value, raw] = unpack(packed);
            if real.binary_search(&account).is_ok() {
                continue; // this group's own use, added above
            }
            let written = if raw.is_empty() { value } else { raw };
            for _ in 0..*n {
                b.add(account, kind, written, *time)
                    .map_err(|e| format!("{account},{kind},{written}: {e}"))?;
            }
        }
    }
    let cut = vals.iter().filter_map(|(v, _)| match v {
        Val::Cut(kind, value, degree) => Some((kind.as_str(), value.as_str(), *degree)),
        _ => None,
    });
    Ok(shard::presume_cut(b, cut))
}

/// The accounts of a group's own observations (not the other pieces' accounts it holds for
/// the artifacts cut from it), sorted.
fn own_accounts(vals: &[(&Val, isize)]) -> Vec<String> {
    let mut out: Vec<String> = vals
        .iter()
        .filter_map(|(v, _)| match v {
            Val::Row(packed, _) => Some(unpack(packed)[0].to_string()),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The time groups of `uses` (sorted; untimed first) as the library forms them: one group
    /// when the first is untimed, else a new group after each gap longer than `window`.
    fn groups(uses: &[(Option<i64>, usize)], window: u64) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = Vec::new();
        for (i, (t, who)) in uses.iter().enumerate() {
            let split = i > 0
                && uses[0].0.is_some()
                && t.zip(uses[i - 1].0).is_some_and(|(t, before)| t.abs_diff(before) > window);
            if out.is_empty() || split {
                out.push(Vec::new());
            }
            if let Some(last) = out.last_mut() {
                last.push(*who);
            }
        }
        out
    }

    /// How the uses with an id in `own` fall into time groups: each group's ids among them.
    fn own_groups(uses: &[(Option<i64>, usize)], window: u64, own: &[usize]) -> BTreeSet<Vec<usize>> {
        groups(uses, window)
            .into_iter()
            .map(|g| g.into_iter().filter(|who| own.contains(who)).collect::<Vec<_>>())
            .filter(|g| !g.is_empty())
            .collect()
    }

    use std::collections::BTreeSet;

    proptest! {
        /// Each group's own uses with the bridging uses fall into the market's time groups.
        #[test]
        fn bridged_groups_are_the_markets(
            raw in prop::collection::vec((prop::option::weighted(0.9, 0..200i64), 0..4u64), 1..40),
            window in 0..30u64,
        ) {
            // Each use: its time, its account's group, and a row naming it by position.
            let mut uses: Vec<(Option<i64>, u64, Vec<u8>)> =
                raw.iter().enumerate().map(|(i, &(t, g))| (t, g, (i as u32).to_le_bytes().to_vec())).collect();
            uses.sort();
            let id = |row: &[u8]| u32::from_le_bytes([row[0], row[1], row[2], row[3]]) as usize;
            let market: Vec<(Option<i64>, usize)> = uses.iter().map(|(t, _, row)| (*t, id(row))).collect();
            let refs: Vec<&(Option<i64>, u64, Vec<u8>)> = uses.iter().collect();
            let bridges = bridging(&refs, window);
            for g in 0..4u64 {
                let own: Vec<usize> = uses.iter().filter(|u| u.1 == g).map(|u| id(&u.2)).collect();
                if own.is_empty() {
                    prop_assert!(bridges.iter().all(|b| b.0 != g), "a group without uses gets none");
                    continue;
                }
                let mut local: Vec<(Option<i64>, usize)> = uses
                    .iter()
                    .filter(|u| u.1 == g)
                    .map(|(t, _, row)| (*t, id(row)))
                    .chain(bridges.iter().filter(|b| b.0 == g).map(|(_, row, t)| (*t, id(row))))
                    .collect();
                local.sort();
                local.dedup();
                prop_assert_eq!(own_groups(&local, window, &own), own_groups(&market, window, &own));
            }
        }
    }
}
