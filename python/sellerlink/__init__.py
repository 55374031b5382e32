"""sellerlink: uncover the operators behind clusters of online storefronts.

Observations ``account, kind, value[, timestamp]`` in; the accounts linked into operators out::

    import sellerlink
    index = sellerlink.build("obs.csv")   # or .parquet, a pandas/polars DataFrame, a pyarrow Table
    index.clusters()                      # pyarrow.Table: account, cluster

Tables cross between Python and the Rust core as Arrow (the Arrow C stream interface,
``__arrow_c_stream__``), never row by row. An :class:`Index` is immutable and safe to share
between threads; long calls release the GIL. Errors are :class:`SellerlinkError` subclasses
whose messages name the place (file and line, row group and row, account).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Optional, Sequence, Tuple, Union

from . import _errors, _sellerlink
from ._errors import (
    FileError,
    IngestError,
    PolicyError,
    SellerlinkError,
    SellerlinkWarning,
    SnapshotError,
    UnknownAccountError,
    UnknownArtifactError,
    UnknownClusterError,
    UnknownKindError,
)
from ._sellerlink import AccountSet

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__version__: str = _sellerlink.__version__

__all__ = [
    "build",
    "load",
    "from_bytes",
    "default_policy",
    "Index",
    "AccountSet",
    "Artifact",
    "Explanation",
    "ChangeSet",
    *_errors.__all__,  # the exceptions, listed once, in ._errors
]

#: What :func:`build` and :meth:`Index.update` read: a path to a ``.csv`` or ``.parquet`` file,
#: or a table (pyarrow Table or RecordBatchReader, pandas or polars DataFrame, or any object
#: with ``__arrow_c_stream__``).
Source = Any

_LEVELS = ("operators", "components")
_VIAS = ("non_hubs", "any", "hubs")
_PARQUET = (".parquet", ".pq", ".parq")


def _pyarrow():
    try:
        import pyarrow
    except ImportError as e:  # pragma: no cover - pyarrow is a dependency
        raise ImportError("sellerlink needs pyarrow for tables: pip install pyarrow") from e
    return pyarrow


def _table(stream: Any) -> "pyarrow.Table":
    """A native Arrow stream as a pyarrow Table (no copy)."""
    return _pyarrow().table(stream)


def _source(data: Source, name: Optional[str]) -> Tuple[Any, str, str, Optional[int]]:
    """(object, format, name, rows) for the native reader; tables become Arrow streams."""
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        lower = path.lower()
        if lower.endswith(_PARQUET):
            return path, "parquet", path, None
        if lower.endswith(".csv"):
            return path, "csv", path, None
        raise ValueError(f"{path}: expected a .csv or .parquet file (the format is chosen by the extension)")
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        pa = _pyarrow()
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise IngestError(f"{name or 'DataFrame'}: columns: cannot convert the DataFrame to Arrow: {e}") from e
        return table, "arrow", name or "DataFrame", table.num_rows
    if hasattr(data, "__arrow_c_stream__"):
        rows = getattr(data, "num_rows", None)
        if rows is None and module == "polars":
            rows = getattr(data, "height", None)
        label = name or ("DataFrame" if module in ("polars", "pandas") else "table")
        return data, "arrow", label, rows if isinstance(rows, int) else None
    if module == "polars" and hasattr(data, "to_arrow"):  # polars before the PyCapsule interface
        table = data.to_arrow()
        return table, "arrow", name or "DataFrame", table.num_rows
    pa = _pyarrow()
    if isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif isinstance(data, dict):
        table = pa.table(data)
    else:
        raise TypeError(
            "expected a path to a .csv or .parquet file, a pyarrow Table, a pandas or polars "
            f"DataFrame, or an object with __arrow_c_stream__; got {type(data).__name__}"
        )
    return table, "arrow", name or "table", table.num_rows


def _warn_rejections(report: dict, name: str) -> None:
    if report.get("rejected"):
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(report["by_reason"].items(), key=lambda x: -x[1])[:3])
        first = report["examples"][0][1] if report.get("examples") else ""
        warnings.warn(
            SellerlinkWarning(
                f"{name}: skipped {report['rejected']} of {report['records']} rows ({reasons}); "
                f"e.g. {first}"
            ),
            stacklevel=3,
        )


def _check_level(level: str) -> str:
    if level not in _LEVELS:
        raise ValueError(f'level must be "operators" or "components", not {level!r}')
    return level


def build(
    data: Source,
    *,
    strict: bool = False,
    max_rejections: Optional[int] = None,
    policy: Optional[dict] = None,
    operators: bool = True,
    name: Optional[str] = None,
) -> "Index":
    """Builds an index from observations ``account, kind, value[, timestamp]``.

    Args:
        data: a path to a ``.csv`` or ``.parquet`` file (the format is chosen by the
            extension), or a table: a pyarrow Table or RecordBatchReader, a pandas or polars
            DataFrame, or any object with ``__arrow_c_stream__``. Columns are found by name;
            ``timestamp`` is optional (unix seconds, a timestamp type, or RFC 3339 text).
        strict: raise :class:`IngestError` on the first bad row instead of skipping it. Skipped
            rows are counted in :attr:`Index.ingest_report` and summarised in a
            :class:`SellerlinkWarning` (as the ``cluster`` example does).
        max_rejections: in lenient mode, give up after this many skipped rows.
        policy: a linking policy as a dict, as :attr:`Index.policy` or :func:`default_policy`
            give it. An index's own policy (with what its build learned) reproduces that build.
        operators: run the operator (community detection) stage; ``False`` stops at components.
        name: how errors name a table input (default ``table`` or ``DataFrame``).

    Returns:
        The built :class:`Index`.

    Raises:
        IngestError: a bad row in strict mode, a missing or unusable column, too many rejections.
        FileError: the file cannot be read.
        PolicyError: ``policy`` is not a policy.

    Example:
        >>> index = sellerlink.build("data/sample.csv")            # doctest: +SKIP
        >>> index.clusters().num_rows                              # doctest: +SKIP
    """
    obj, fmt, label, rows = _source(data, name)
    policy_json = json.dumps(policy) if policy is not None else None
    native, report = _sellerlink.build(
        obj, fmt, label, strict, max_rejections, policy_json, operators, rows
    )
    report = json.loads(report)
    _warn_rejections(report, label)
    return Index(native, report)


def load(path: Union[str, os.PathLike]) -> "Index":
    """Loads an index from a snapshot file written by :meth:`Index.save`.

    Raises:
        SnapshotError: the file is not a valid snapshot (corrupted, truncated, other version).
        FileError: the file cannot be read.
    """
    return Index(_sellerlink.load(os.fspath(path)), None)


def from_bytes(data: bytes) -> "Index":
    """Loads an index from snapshot bytes (:meth:`Index.to_bytes`)."""
    return Index(_sellerlink.loads(data), None)


def default_policy() -> dict:
    """The default linking policy as a dict: change it and pass it to :func:`build`."""
    return json.loads(_sellerlink.default_policy())


class Artifact(NamedTuple):
    """An artifact an account used."""

    kind: str
    #: The value as first written in the input.
    value: str
    #: The canonical (normalised) value.
    canonical: str
    #: How many accounts used it.
    accounts: int
    #: True when it is a suppressed hub (it links nobody).
    hub: bool


@dataclass(frozen=True)
class Explanation:
    """Why two accounts are linked, or why not. ``str(explanation)`` is the readable text."""

    #: ``"linked"``, ``"same"`` (one account twice) or ``"not_linked"``.
    status: str
    #: True when the accounts are in one component (linked, or the same account).
    linked: bool
    #: For linked accounts: True when the operator stage keeps them in one operator (None when
    #: the index has no operator stage).
    same_operator: Optional[bool]
    #: The chain of evidence (linked) or the nearest chain with its blocked steps (not linked),
    #: one dict per step: from_name, to_name, kind, value, accounts, weight, from_times,
    #: to_times, corroborated_by, group_corroborated, blocked.
    path: list = field(default_factory=list)
    #: Why the nearest chain does not link, as text (empty when linked or without a chain).
    reasons: list = field(default_factory=list)
    #: The readable text an investigator gets.
    text: str = ""

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict:
        """The explanation as a plain dict (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True)
class ChangeSet:
    """What an update changed, in cluster representatives (operators)."""

    #: New clusters of two or more accounts none of which was clustered before.
    appeared: list = field(default_factory=list)
    #: (new representative, [old representatives]) for clusters that merged.
    merged: list = field(default_factory=list)
    #: (old representative, [new representatives]) for clusters that split.
    split: list = field(default_factory=list)
    #: Accounts that joined an existing cluster: dicts with account, cluster and evidence.
    joined: list = field(default_factory=list)
    recomputed_components: int = 0
    kept_components: int = 0
    removed_accounts: int = 0
    relinked_accounts: int = 0

    def to_dict(self) -> dict:
        """The change set as a plain dict (JSON-ready)."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{len(self.appeared)} appeared, {len(self.merged)} merged, {len(self.split)} split, "
            f"{len(self.joined)} joined, {self.removed_accounts} removed; "
            f"{self.relinked_accounts} accounts relinked, {self.recomputed_components} components "
            f"recomputed, {self.kept_components} kept"
        )


def _explanation(data: str, text: str, reasons: list) -> Explanation:
    value = json.loads(data)
    if value == "Same":
        return Explanation("same", True, True, [], [], text)
    if "Linked" in value:
        body = value["Linked"]
        ops = body.get("operators")
        same = None if ops is None else ops[0] == ops[1]
        return Explanation("linked", True, same, body["path"], [], text)
    body = value["NotLinked"]
    return Explanation("not_linked", False, False, body.get("path") or [], list(reasons), text)


class Index:
    """A built index: accounts linked into components and operators, with lookups.

    Immutable: :meth:`update` returns a new index. Safe to share between threads; the long
    calls (:meth:`clusters`, :meth:`explain`, :meth:`expand`, :meth:`update`, :meth:`save`)
    release the GIL. Cluster ids are those of the ``cluster`` example's output; ``level`` is
    ``"operators"`` (default) or ``"components"``.
    """

    __slots__ = ("_native", "_report")

    def __init__(self, native: Any, report: Optional[dict]) -> None:
        self._native = native
        self._report = report

    # -- sizes ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._native.account_count()

    def __contains__(self, account: object) -> bool:
        return isinstance(account, str) and self._native.has_account(account)

    def __repr__(self) -> str:
        return (
            f"<sellerlink.Index: {self.account_count} accounts, {self.artifact_count} artifacts, "
            f"{self.cluster_count()} operators, {self.hub_count} hubs>"
        )

    @property
    def account_count(self) -> int:
        """Number of accounts."""
        return self._native.account_count()

    @property
    def artifact_count(self) -> int:
        """Number of distinct artifacts."""
        return self._native.artifact_count()

    @property
    def hub_count(self) -> int:
        """Number of suppressed hubs (artifacts that link nobody)."""
        return self._native.hub_count()

    def cluster_count(self, level: str = "operators") -> int:
        """Number of clusters at ``level``, singletons included."""
        return self._native.cluster_count(_check_level(level))

    @property
    def kinds(self) -> list:
        """The kind names the index knows (built-in and custom)."""
        return self._native.kinds()

    @property
    def ingest_report(self) -> Optional[dict]:
        """What the build read: records, accepted, rejected, by_reason, examples (line or
        0-based row, message). None for an index loaded from a snapshot."""
        return self._report

    @property
    def stats(self) -> dict:
        """Observations, stage timings (ms) and heap bytes of the build."""
        return json.loads(self._native.stats())

    # -- clusters ------------------------------------------------------------------------

    def clusters(self, level: str = "operators") -> "pyarrow.Table":
        """``account, cluster`` for every account, as a pyarrow Table in account-name order:
        the rows and ids the ``cluster`` example writes."""
        return _table(self._native.clusters(_check_level(level)))

    def cluster_of(self, account: str, level: str = "operators") -> int:
        """The cluster id of an account.

        Raises:
            UnknownAccountError: the index does not hold the account.
        """
        c = self._native.cluster_of(account, _check_level(level))
        if c is None:  # pragma: no cover - only removed accounts, which lookups refuse
            raise UnknownAccountError(f"account {account!r} has no cluster")
        return c

    def members(self, cluster: int, level: str = "operators") -> AccountSet:
        """The accounts of a cluster.

        Raises:
            UnknownClusterError: no such cluster id at this level.
        """
        return self._native.members(cluster, _check_level(level))

    def cluster_mates(self, account: str, level: str = "operators") -> AccountSet:
        """The other members of an account's cluster (as ``Index::cluster_mates`` in Rust)."""
        return self.members(self.cluster_of(account, level), level) - self.account_set([account])

    def representative(self, cluster: int, level: str = "operators") -> Optional[str]:
        """The first member of a cluster by name: the name change sets use."""
        return self._native.representative(cluster, _check_level(level))

    # -- the graph -----------------------------------------------------------------------

    def accounts_of(self, kind: str, value: str) -> AccountSet:
        """The accounts that used an artifact; ``value`` is normalised by its kind first, so
        any spelling of it works.

        Raises:
            UnknownKindError, UnknownArtifactError
        """
        return self._native.accounts_of(kind, value)

    def artifacts_of(self, account: str) -> list:
        """The artifacts an account used, as :class:`Artifact` tuples."""
        return [Artifact(*a) for a in self._native.artifacts_of(account)]

    def shares(self, account: str, kind: str, via: str = "non_hubs") -> AccountSet:
        """The other accounts that share an artifact of ``kind`` with ``account``.

        ``via`` is ``"non_hubs"`` (default: artifacts that are not suppressed hubs), ``"any"`` or
        ``"hubs"``. Combine the sets with ``&``, ``|``, ``-`` and ``^``::

            both = index.shares(a, "device") & index.shares(a, "payment")
        """
        return self._native.shares(account, kind, via)

    def neighbors(self, account: str, via: str = "non_hubs") -> AccountSet:
        """The other accounts that share any artifact with ``account``."""
        return self._native.neighbors(account, via)

    def accounts_with_kind(self, kind: str) -> AccountSet:
        """Every account that used an artifact of ``kind``."""
        return self._native.accounts_with_kind(kind)

    def account_set(self, accounts: Iterable[str]) -> AccountSet:
        """An :class:`AccountSet` of named accounts, for set algebra with lookups."""
        return self._native.account_set(list(accounts))

    def hubs(self) -> "pyarrow.Table":
        """The suppressed hubs: kind, value, accounts, cap, reason."""
        return _table(self._native.hubs())

    # -- investigation -------------------------------------------------------------------

    def explain(self, a: str, b: str) -> Explanation:
        """Why two accounts are linked (the chain of evidence), or why not (the nearest chain
        and what blocks it). ``str()`` of the result is the readable text; ``.to_dict()`` the
        data."""
        data, text, reasons = self._native.explain(a, b)
        return _explanation(data, text, reasons)

    def expand(
        self,
        seeds: Sequence[str],
        top: int = 100,
        *,
        restart: Optional[float] = None,
        hub_damping: Optional[float] = None,
    ) -> "pyarrow.Table":
        """Ranks the other accounts by association with confirmed seed accounts (personalised
        PageRank over the evidence): ``account, score, nearest_seed, path_length``, best first,
        as the ``expand`` example writes."""
        if isinstance(seeds, str):
            seeds = [seeds]
        return _table(self._native.expand(list(seeds), top, restart, hub_damping))

    def report(self, cluster: int, level: str = "operators") -> dict:
        """A cluster's ring report: members, shared artifacts, kinds, the kinds that carry the
        ring, first and last seen, density, confidence and the weakest joint."""
        return json.loads(self._native.report(cluster, _check_level(level)))

    def reports(self, top: int = 10, *, min_size: int = 2, level: str = "operators") -> list:
        """The ring reports of the ``top`` largest clusters of at least ``min_size`` accounts."""
        return json.loads(self._native.reports(top, min_size, _check_level(level)))

    @property
    def policy(self) -> dict:
        """The linking policy, with what the build learned pinned, as a dict. Pass it (changed
        or not) to :func:`build` as ``policy=`` to set it."""
        return json.loads(self._native.policy())

    def evidence(self) -> dict:
        """The policy as judged on this data: per kind its strength, weight, cap, group, shared
        and set-aside artifacts, and what was learned (the ``cluster`` example's policy
        object)."""
        return json.loads(self._native.evidence())

    # -- keep and change -----------------------------------------------------------------

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes a snapshot (versioned, checksummed); :func:`load` reads it back."""
        self._native.save(os.fspath(path))

    def to_bytes(self) -> bytes:
        """The snapshot as bytes; :func:`from_bytes` reads it back."""
        return self._native.dumps()

    def update(
        self,
        data: Optional[Source] = None,
        *,
        remove: Iterable[str] = (),
        expire_before: Optional[int] = None,
        strict: bool = False,
        max_rejections: Optional[int] = None,
        name: Optional[str] = None,
    ) -> Tuple["Index", ChangeSet]:
        """Applies an update and returns ``(next_index, changes)``; this index is unchanged.

        Accounts in ``remove`` are removed first, then observations older than
        ``expire_before`` (unix seconds) are dropped, then ``data`` is added. Only what the
        change can reach is re-linked; the result equals one build from all the observations.

        Raises:
            UnknownAccountError: an account to remove is not in the index.
        """
        if data is None:
            obj, fmt, label = None, "csv", "update"
        else:
            obj, fmt, label, _ = _source(data, name)
        native, changes, report = self._native.update(
            obj, fmt, label, strict, max_rejections, list(remove), expire_before
        )
        report = json.loads(report)
        _warn_rejections(report, label)
        c = json.loads(changes)
        changes = ChangeSet(
            appeared=c["appeared"],
            merged=[(new, list(old)) for new, old in c["merged"]],
            split=[(old, list(new)) for old, new in c["split"]],
            joined=c["joined"],
            recomputed_components=c["recomputed_components"],
            kept_components=c["kept_components"],
            removed_accounts=c["removed_accounts"],
            relinked_accounts=c["relinked_accounts"],
        )
        return Index(native, report), changes
