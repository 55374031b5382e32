//! `sellerlink._sellerlink`: the native half of the `sellerlink` Python package.
//!
//! The Python layer (`python/sellerlink/`) dispatches inputs and shapes outputs; this module does
//! the work with the GIL released. Tables cross as Arrow through the C stream interface
//! (`__arrow_c_stream__` PyCapsules, see [`ffi`]), never as per-row Python objects. Results
//! that are small and nested (explanations, reports, change sets, the policy) cross as JSON text
//! that the Python layer parses.

mod ffi;

use std::sync::Arc;

/// Large blocks on transparent huge pages (see the `sellerlink-hugepages` crate): Rust's own
/// allocations in this module only; Python's are its own.
#[global_allocator]
static ALLOC: sellerlink_hugepages::HugePages = sellerlink_hugepages::HugePages;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use sellerlink::arrow::{ArrowOptions, TableError, arrow_array::RecordBatch, arrow_schema};
use sellerlink::error::IngestError;
use sellerlink::ingest::{CsvOptions, IngestReport};
use sellerlink::policy::LinkPolicy;
use sellerlink::snapshot::SnapshotError;
use sellerlink::{AccountId, AccountSet, ClusterId, Error, Index, IndexBuilder, Level, Via};

use crate::ffi::ArrowStream;

/// Raises the named exception class of `sellerlink._errors` with `message`.
fn raise(class: &str, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| {
        let class = py
            .import("sellerlink._errors")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, (message,)),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// The exception for a library error: the class says what kind, the message names the place.
fn error(e: impl Into<Error>) -> PyErr {
    let e = e.into();
    let class = match &e {
        Error::Ingest(IngestError::Io { .. })
        | Error::Table(TableError::Io { .. })
        | Error::Snapshot(SnapshotError::Io { .. }) => "FileError",
        Error::Observation(_) | Error::Ingest(_) | Error::Table(_) | Error::Kind(_) => "IngestError",
        Error::Snapshot(_) => "SnapshotError",
        Error::UnknownAccount(_) | Error::UnknownAccountId { .. } | Error::RemovedAccount { .. } => {
            "UnknownAccountError"
        }
        _ => "SellerlinkError",
    };
    raise(class, e.to_string())
}

fn json_err(e: serde_json::Error) -> PyErr {
    PyRuntimeError::new_err(format!("encoding a result as JSON: {e}"))
}

fn level(name: &str) -> PyResult<Level> {
    match name {
        "operators" => Ok(Level::Operators),
        "components" => Ok(Level::Components),
        other => Err(PyValueError::new_err(format!(
            "level must be \"operators\" or \"components\", not {other:?}"
        ))),
    }
}

fn via(name: &str) -> PyResult<Via> {
    match name {
        "non_hubs" => Ok(Via::NonHubs),
        "any" => Ok(Via::Any),
        "hubs" => Ok(Via::Hubs),
        other => Err(PyValueError::new_err(format!(
            "via must be \"non_hubs\", \"any\" or \"hubs\", not {other:?}"
        ))),
    }
}

/// Where observations come from: a CSV or Parquet file, or an Arrow stream already imported.
enum Input {
    Csv(String),
    Parquet(String),
    Stream(sellerlink::arrow::arrow_array::ffi_stream::ArrowArrayStreamReader, String),
}

impl Input {
    fn new(source: &Bound<'_, PyAny>, format: &str, name: &str) -> PyResult<Input> {
        match format {
            "csv" => Ok(Input::Csv(source.extract()?)),
            "parquet" => Ok(Input::Parquet(source.extract()?)),
            "arrow" => Ok(Input::Stream(ffi::import_stream(source)?, name.to_string())),
            other => Err(PyValueError::new_err(format!("unknown input format {other:?}"))),
        }
    }
}

/// How strictly rows are read.
#[derive(Clone, Copy)]
struct Strictness {
    strict: bool,
    max_rejections: Option<u64>,
    rows_hint: Option<u64>,
}

impl Strictness {
    fn csv(self) -> CsvOptions {
        let o = if self.strict { CsvOptions::strict() } else { CsvOptions::lenient() };
        match self.max_rejections {
            Some(n) => o.max_rejections(n),
            None => o,
        }
    }

    fn arrow(self) -> ArrowOptions {
        let mut o = if self.strict { ArrowOptions::strict() } else { ArrowOptions::lenient() };
        if let Some(n) = self.max_rejections {
            o = o.max_rejections(n);
        }
        if let Some(n) = self.rows_hint {
            o = o.rows_hint(n);
        }
        o
    }
}

/// Reads an input into a fresh builder.
fn read_into(input: Input, how: Strictness, builder: &mut IndexBuilder) -> Result<IngestReport, Error> {
    Ok(match input {
        Input::Csv(path) => sellerlink::ingest::read_csv_path(&path, &how.csv(), builder)?,
        Input::Parquet(path) => sellerlink::parquet::read_parquet_path(&path, &how.arrow(), builder)?,
        Input::Stream(reader, name) => sellerlink::arrow::read_batches(reader, name, &how.arrow(), builder)?,
    })
}

fn parse_policy(text: &str) -> PyResult<LinkPolicy> {
    serde_json::from_str(text).map_err(|e| raise("PolicyError", format!("policy: {e}")))
}

/// Builds an index from observations; returns it with the ingest report as JSON.
#[pyfunction]
#[pyo3(signature = (source, format, name, strict=false, max_rejections=None, policy=None, operators=true, rows_hint=None))]
#[allow(clippy::too_many_arguments)]
fn build(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    format: &str,
    name: &str,
    strict: bool,
    max_rejections: Option<u64>,
    policy: Option<&str>,
    operators: bool,
    rows_hint: Option<u64>,
) -> PyResult<(PyIndex, String)> {
    let input = Input::new(source, format, name)?;
    let mut builder = IndexBuilder::new();
    if let Some(p) = policy {
        builder = builder.policy(parse_policy(p)?);
    }
    if !operators {
        builder = builder.operators(None);
    }
    let how = Strictness { strict, max_rejections, rows_hint };
    let (index, report) = py
        .detach(move || -> Result<(Index, IngestReport), Error> {
            let report = read_into(input, how, &mut builder)?;
            Ok((builder.build()?, report))
        })
        .map_err(error)?;
    let report = serde_json::to_string(&report).map_err(json_err)?;
    Ok((PyIndex { inner: Arc::new(index) }, report))
}

/// Loads a snapshot file.
#[pyfunction]
fn load(py: Python<'_>, path: String) -> PyResult<PyIndex> {
    let index = py.detach(move || sellerlink::snapshot::load_path(&path)).map_err(error)?;
    Ok(PyIndex { inner: Arc::new(index) })
}

/// Loads a snapshot from bytes.
#[pyfunction]
fn loads(py: Python<'_>, data: Vec<u8>) -> PyResult<PyIndex> {
    let index = py.detach(move || sellerlink::snapshot::load(&data)).map_err(error)?;
    Ok(PyIndex { inner: Arc::new(index) })
}

/// The default linking policy as JSON.
#[pyfunction]
fn default_policy() -> PyResult<String> {
    serde_json::to_string(&LinkPolicy::default()).map_err(json_err)
}

/// An artifact as the Python layer's `Artifact`: kind, value as first written, canonical value,
/// accounts, hub.
type ArtifactRow = (String, String, String, u64, bool);

/// A built index: immutable, shared by every thread that holds it.
#[pyclass(frozen, name = "NativeIndex", module = "sellerlink._sellerlink")]
struct PyIndex {
    inner: Arc<Index>,
}

impl PyIndex {
    fn account(&self, name: &str) -> PyResult<AccountId> {
        self.inner.try_account(name).map_err(error)
    }

    fn cluster(&self, cluster: u32, level: Level) -> PyResult<ClusterId> {
        let count = self.inner.clustering_at(level).len();
        if (cluster as usize) < count {
            Ok(ClusterId::from_u32(cluster))
        } else {
            Err(raise(
                "UnknownClusterError",
                format!("cluster {cluster} is not in this index, which has {count} clusters at this level"),
            ))
        }
    }

    fn kind(&self, kind: &str) -> PyResult<sellerlink::KindId> {
        self.inner
            .kinds()
            .get(kind)
            .ok_or_else(|| raise("UnknownKindError", format!("unknown kind {kind:?}")))
    }

    fn set(&self, set: AccountSet) -> PySet {
        PySet { index: self.inner.clone(), set }
    }
}

#[pymethods]
impl PyIndex {
    /// Number of accounts.
    fn account_count(&self) -> usize {
        self.inner.account_count()
    }

    /// Number of artifacts.
    fn artifact_count(&self) -> usize {
        self.inner.artifact_count()
    }

    /// Number of clusters at a level.
    fn cluster_count(&self, level: &str) -> PyResult<usize> {
        Ok(self.inner.clustering_at(self::level(level)?).len())
    }

    /// Number of suppressed hubs.
    fn hub_count(&self) -> u64 {
        self.inner.hub_count()
    }

    /// Kind names, in id order.
    fn kinds(&self) -> Vec<String> {
        self.inner.kinds().iter().map(|(_, n)| n.to_string()).collect()
    }

    /// True when the account is in the index.
    fn has_account(&self, name: &str) -> bool {
        self.inner.account(name).is_some()
    }

    /// `account, cluster` for every account, as an Arrow stream.
    fn clusters(&self, py: Python<'_>, level: &str) -> PyResult<ArrowStream> {
        let level = self::level(level)?;
        let index = self.inner.clone();
        let batches = py.detach(move || sellerlink::arrow::clusters_batches(&index, level, 1 << 20));
        Ok(ArrowStream::new(sellerlink::arrow::clusters_schema(), batches))
    }

    /// The cluster of an account.
    fn cluster_of(&self, account: &str, level: &str) -> PyResult<Option<u32>> {
        let a = self.account(account)?;
        Ok(self.inner.clustering_at(self::level(level)?).cluster_of(a).map(|c| c.as_u32()))
    }

    /// The members of a cluster.
    fn members(&self, cluster: u32, level: &str) -> PyResult<PySet> {
        let level = self::level(level)?;
        let c = self.cluster(cluster, level)?;
        Ok(self.set(self.inner.clustering_at(level).member_set(c)))
    }

    /// The representative (first member by name) of a cluster.
    fn representative(&self, cluster: u32, level: &str) -> PyResult<Option<String>> {
        let level = self::level(level)?;
        let c = self.cluster(cluster, level)?;
        let members = self.inner.clustering_at(level).members(c);
        Ok(members.iter().map(|&a| self.inner.account_name(a)).min().map(str::to_string))
    }

    /// The accounts that used an artifact (its value is normalised by its kind first).
    fn accounts_of(&self, kind: &str, value: &str) -> PyResult<PySet> {
        self.kind(kind)?;
        let f = self.inner.artifact(kind, value).ok_or_else(|| {
            raise("UnknownArtifactError", format!("no {kind} artifact {value:?} in this index"))
        })?;
        Ok(self.set(self.inner.accounts_of(f)))
    }

    /// The artifacts an account used: (kind, value as first written, canonical value, accounts,
    /// hub) tuples.
    fn artifacts_of(&self, account: &str) -> PyResult<Vec<ArtifactRow>> {
        let a = self.account(account)?;
        let index = &self.inner;
        Ok(index
            .artifacts_of(a)
            .map(|f| {
                let first = index.artifact_first_written(f);
                let value = index.artifact_value(f);
                (
                    index.kind_name(index.artifact_kind(f)).to_string(),
                    if first.is_empty() { value.to_string() } else { first.to_string() },
                    value.to_string(),
                    index.accounts_of(f).len(),
                    index.is_hub(f),
                )
            })
            .collect())
    }

    /// The accounts sharing an artifact of `kind` with `account`.
    fn shares(&self, account: &str, kind: &str, via: &str) -> PyResult<PySet> {
        let a = self.account(account)?;
        let k = self.kind(kind)?;
        Ok(self.set(self.inner.shares(a, k, self::via(via)?)))
    }

    /// The accounts sharing any artifact with `account`.
    fn neighbors(&self, account: &str, via: &str) -> PyResult<PySet> {
        let a = self.account(account)?;
        Ok(self.set(self.inner.neighbors(a, self::via(via)?)))
    }

    /// Every account that used an artifact of `kind`.
    fn accounts_with_kind(&self, kind: &str) -> PyResult<PySet> {
        let k = self.kind(kind)?;
        Ok(self.set(self.inner.accounts_with_kind(k)))
    }

    /// The empty set of this index.
    fn empty_set(&self) -> PySet {
        self.set(AccountSet::new())
    }

    /// A set of named accounts.
    fn account_set(&self, names: Vec<String>) -> PyResult<PySet> {
        let mut set = AccountSet::new();
        for n in names {
            set.insert(self.account(&n)?);
        }
        Ok(self.set(set))
    }

    /// The suppressed hubs as an Arrow stream: kind, value, accounts, cap, reason.
    fn hubs(&self) -> PyResult<ArrowStream> {
        use sellerlink::arrow::arrow_array::{ArrayRef, StringArray, UInt32Array};
        let index = &self.inner;
        let hubs: Vec<_> = index.hubs().collect();
        let kinds: StringArray = hubs.iter().map(|h| Some(index.kind_name(h.kind))).collect();
        let values: StringArray = hubs
            .iter()
            .map(|h| {
                let first = index.artifact_first_written(h.artifact);
                Some(if first.is_empty() { index.artifact_value(h.artifact) } else { first })
            })
            .collect();
        let accounts = UInt32Array::from(hubs.iter().map(|h| h.accounts).collect::<Vec<_>>());
        let caps = UInt32Array::from(hubs.iter().map(|h| h.cap).collect::<Vec<_>>());
        let reasons: StringArray = hubs.iter().map(|h| Some(h.reason.to_string())).collect();
        let batch = RecordBatch::try_from_iter([
            ("kind", Arc::new(kinds) as ArrayRef),
            ("value", Arc::new(values) as ArrayRef),
            ("accounts", Arc::new(accounts) as ArrayRef),
            ("cap", Arc::new(caps) as ArrayRef),
            ("reason", Arc::new(reasons) as ArrayRef),
        ])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(ArrowStream::new(batch.schema(), vec![batch]))
    }

    /// Why two accounts are linked, or why not: (JSON, readable text).
    fn explain(&self, py: Python<'_>, a: &str, b: &str) -> PyResult<(String, String, Vec<String>)> {
        let (a, b) = (self.account(a)?, self.account(b)?);
        let index = self.inner.clone();
        let e = py.detach(move || sellerlink::explain::explain(&index, a, b));
        let reasons = e.reasons().iter().map(ToString::to_string).collect();
        Ok((serde_json::to_string(&e).map_err(json_err)?, e.to_string(), reasons))
    }

    /// Seed expansion as an Arrow stream: account, score, nearest_seed, path_length.
    #[pyo3(signature = (seeds, top, restart=None, hub_damping=None))]
    fn expand(
        &self,
        py: Python<'_>,
        seeds: Vec<String>,
        top: usize,
        restart: Option<f64>,
        hub_damping: Option<f64>,
    ) -> PyResult<ArrowStream> {
        use sellerlink::arrow::arrow_array::{ArrayRef, Float64Array, StringArray, UInt32Array};
        let seeds = seeds.iter().map(|s| self.account(s)).collect::<PyResult<Vec<_>>>()?;
        let mut expand = sellerlink::expand::Expand::new().top(top);
        if let Some(r) = restart {
            expand = expand.restart(r);
        }
        if let Some(d) = hub_damping {
            expand = expand.hub_damping(d);
        }
        let index = self.inner.clone();
        let ranked = py.detach(move || expand.run(&index, &seeds));
        let index = &self.inner;
        let accounts: StringArray = ranked.iter().map(|r| Some(index.account_name(r.account))).collect();
        let scores = Float64Array::from(ranked.iter().map(|r| r.score).collect::<Vec<_>>());
        let nearest: StringArray =
            ranked.iter().map(|r| r.nearest_seed.map(|s| index.account_name(s))).collect();
        let lengths = UInt32Array::from(ranked.iter().map(|r| r.path.len() as u32).collect::<Vec<_>>());
        let batch = RecordBatch::try_from_iter([
            ("account", Arc::new(accounts) as ArrayRef),
            ("score", Arc::new(scores) as ArrayRef),
            ("nearest_seed", Arc::new(nearest) as ArrayRef),
            ("path_length", Arc::new(lengths) as ArrayRef),
        ])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(ArrowStream::new(batch.schema(), vec![batch]))
    }

    /// One cluster's ring report as JSON.
    fn report(&self, cluster: u32, level: &str) -> PyResult<String> {
        let level = self::level(level)?;
        let c = self.cluster(cluster, level)?;
        Ok(ring_json(&self.inner, level, c))
    }

    /// The ring reports of the `top` largest clusters of at least `min_size` accounts, as a JSON
    /// array.
    fn reports(&self, py: Python<'_>, top: usize, min_size: usize, level: &str) -> PyResult<String> {
        let level = self::level(level)?;
        let index = self.inner.clone();
        Ok(py.detach(move || {
            let clustering = index.clustering_at(level);
            let parts: Vec<String> = clustering
                .by_size()
                .into_iter()
                .filter(|&c| clustering.size(c) >= min_size.max(1))
                .take(top)
                .map(|c| ring_json(&index, level, c))
                .collect();
            format!("[{}]", parts.join(","))
        }))
    }

    /// The linking policy (with what the build learned pinned) as JSON.
    fn policy(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.policy()).map_err(json_err)
    }

    /// The evidence per kind as judged on this data, as JSON (the `cluster` example's policy
    /// object).
    fn evidence(&self) -> PyResult<String> {
        serde_json::to_string(&sellerlink::report::judged_policy(&self.inner)).map_err(json_err)
    }

    /// Build statistics as JSON: observations and stage timings.
    fn stats(&self) -> PyResult<String> {
        let s = self.inner.stats();
        let timings: serde_json::Map<String, serde_json::Value> = s
            .timings
            .iter()
            .map(|(stage, t)| ((*stage).to_string(), serde_json::json!(t.as_secs_f64() * 1e3)))
            .collect();
        serde_json::to_string(&serde_json::json!({
            "observations": s.observations,
            "timings_ms": timings,
            "heap_bytes": self.inner.heap_bytes(),
        }))
        .map_err(json_err)
    }

    /// Writes a snapshot file.
    fn save(&self, py: Python<'_>, path: String) -> PyResult<()> {
        let index = self.inner.clone();
        py.detach(move || sellerlink::snapshot::save_path(&index, &path)).map_err(error)
    }

    /// The snapshot as bytes.
    fn dumps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let index = self.inner.clone();
        let bytes = py.detach(move || sellerlink::snapshot::save(&index)).map_err(error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Applies an update: removals, expiry, then new observations. Returns the next index,
    /// the change set as JSON and the ingest report as JSON.
    #[pyo3(signature = (source, format, name, strict=false, max_rejections=None, remove=Vec::new(), expire_before=None))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        py: Python<'_>,
        source: Option<&Bound<'_, PyAny>>,
        format: &str,
        name: &str,
        strict: bool,
        max_rejections: Option<u64>,
        remove: Vec<String>,
        expire_before: Option<i64>,
    ) -> PyResult<(PyIndex, String, String)> {
        let input = source.map(|s| Input::new(s, format, name)).transpose()?;
        let how = Strictness { strict, max_rejections, rows_hint: None };
        let index = self.inner.clone();
        let (next, changes, report) = py
            .detach(move || -> Result<_, Error> {
                let mut u = index.updater();
                for name in &remove {
                    if !u.remove_account(name) {
                        return Err(Error::UnknownAccount(name.clone()));
                    }
                }
                if let Some(cutoff) = expire_before {
                    u.expire_before(cutoff);
                }
                let report = match input {
                    None => IngestReport::default(),
                    Some(Input::Csv(path)) => {
                        let file = std::fs::File::open(&path)
                            .map_err(|cause| IngestError::Io { path: path.clone().into(), cause })?;
                        let options = match file.metadata() {
                            Ok(m) => how.csv().size_hint(m.len()),
                            Err(_) => how.csv(),
                        };
                        u.read_csv(std::io::BufReader::with_capacity(1 << 20, file), &path, &options)?
                    }
                    Some(Input::Parquet(path)) => u.read_parquet_path(&path, &how.arrow())?,
                    Some(Input::Stream(reader, name)) => u.read_batches(reader, name, &how.arrow())?,
                };
                let (next, changes) = u.finish()?;
                Ok((next, changes, report))
            })
            .map_err(error)?;
        Ok((
            PyIndex { inner: Arc::new(next) },
            serde_json::to_string(&changes).map_err(json_err)?,
            serde_json::to_string(&report).map_err(json_err)?,
        ))
    }
}

/// A ring report as JSON: the export case file, with the kinds that carry the ring.
fn ring_json(index: &Index, level: Level, c: ClusterId) -> String {
    let r = sellerlink::report::RingReport::at(index, level, c);
    let text = sellerlink::export::report_json(index, &r);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(mut v) => {
            v["carried_by"] = serde_json::json!(r.carried_by);
            v["level"] =
                serde_json::json!(if level == Level::Components { "components" } else { "operators" });
            v.to_string()
        }
        Err(_) => text,
    }
}

/// A set of accounts of one index, with set algebra (`&`, `|`, `-`, `^`).
#[pyclass(frozen, name = "AccountSet", module = "sellerlink._sellerlink")]
struct PySet {
    index: Arc<Index>,
    set: AccountSet,
}

impl PySet {
    fn with(&self, other: &PySet, op: impl Fn(&AccountSet, &AccountSet) -> AccountSet) -> PyResult<PySet> {
        if !Arc::ptr_eq(&self.index, &other.index) {
            return Err(PyValueError::new_err("the two account sets come from different indexes"));
        }
        Ok(PySet { index: self.index.clone(), set: op(&self.set, &other.set) })
    }

    fn names_vec(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.set.iter().map(|a| self.index.account_name(a)).collect();
        names.sort_unstable();
        names
    }
}

#[pymethods]
impl PySet {
    fn __len__(&self) -> usize {
        self.set.len() as usize
    }

    fn __bool__(&self) -> bool {
        !self.set.is_empty()
    }

    fn __contains__(&self, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(name) = name.extract::<String>() else {
            return Err(PyTypeError::new_err("an AccountSet holds account names (str)"));
        };
        Ok(self.index.account(&name).is_some_and(|a| self.set.contains(a)))
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let py = slf.py();
        let names = slf.names_vec();
        pyo3::types::PyList::new(py, names)?.into_any().try_iter().map(Bound::into_any)
    }

    fn __and__(&self, other: &PySet) -> PyResult<PySet> {
        self.with(other, |a, b| a & b)
    }

    fn __or__(&self, other: &PySet) -> PyResult<PySet> {
        self.with(other, |a, b| a | b)
    }

    fn __sub__(&self, other: &PySet) -> PyResult<PySet> {
        self.with(other, |a, b| a - b)
    }

    fn __xor__(&self, other: &PySet) -> PyResult<PySet> {
        self.with(other, |a, b| a ^ b)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PySet>() {
            Ok(o) => {
                let o = o.get();
                Arc::ptr_eq(&self.index, &o.index) && self.set == o.set
            }
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        let names = self.names_vec();
        let shown: Vec<String> = names.iter().take(5).map(|n| format!("{n:?}")).collect();
        let more = if names.len() > 5 { format!(", ... ({} in all)", names.len()) } else { String::new() };
        format!("AccountSet({{{}{more}}})", shown.join(", "))
    }

    /// The account names, sorted.
    fn names(&self) -> Vec<String> {
        self.names_vec().into_iter().map(str::to_string).collect()
    }

    /// The account ids (stable across updates), ascending.
    fn ids(&self) -> Vec<u32> {
        self.set.iter().map(|a| a.as_u32()).collect()
    }

    /// True when no account is in both sets.
    fn isdisjoint(&self, other: &PySet) -> PyResult<bool> {
        Ok(self.with(other, |a, b| a & b)?.set.is_empty())
    }

    /// True when every account of this set is in `other`.
    fn issubset(&self, other: &PySet) -> PyResult<bool> {
        Ok(self.with(other, |a, b| a - b)?.set.is_empty())
    }

    /// The names as an Arrow stream with one column, `account`.
    fn to_arrow(&self) -> PyResult<ArrowStream> {
        use sellerlink::arrow::arrow_array::{ArrayRef, StringArray};
        let names: StringArray = self.names_vec().into_iter().map(Some).collect();
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "account",
            arrow_schema::DataType::Utf8,
            false,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(names) as ArrayRef])
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(ArrowStream::new(schema, vec![batch]))
    }
}

/// The native module.
#[pymodule]
fn _sellerlink(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIndex>()?;
    m.add_class::<PySet>()?;
    m.add_class::<ArrowStream>()?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(loads, m)?)?;
    m.add_function(wrap_pyfunction!(default_policy, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
