"""The exceptions sellerlink raises. Every message names the place: the file and line, the
row group and row, the column, the account or the cluster."""

from __future__ import annotations

__all__ = [
    "SellerlinkError",
    "IngestError",
    "FileError",
    "SnapshotError",
    "PolicyError",
    "UnknownAccountError",
    "UnknownKindError",
    "UnknownArtifactError",
    "UnknownClusterError",
    "SellerlinkWarning",
]


class SellerlinkError(Exception):
    """The base of every sellerlink exception."""


class IngestError(SellerlinkError, ValueError):
    """Observations could not be read: a bad line or row (strict mode), a missing column, a
    column of the wrong type, too many rejected rows. The message names the file (or input),
    the line or row group and row, and the field:
    ``obs.csv:3: field value: invalid ip: not an IPv4 or IPv6 address``."""


class FileError(SellerlinkError, OSError):
    """A file could not be opened, read or written; the message names it."""


class SnapshotError(SellerlinkError):
    """A snapshot could not be loaded (corrupted, truncated, another format) or saved."""


class PolicyError(SellerlinkError, ValueError):
    """A linking policy given as a dict does not describe a policy; the message names the key."""


class _Missing(SellerlinkError, KeyError):
    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class UnknownAccountError(_Missing):
    """An account name the index does not hold."""


class UnknownKindError(_Missing):
    """A kind name the index does not know."""


class UnknownArtifactError(_Missing):
    """An artifact (kind and value) no account used."""


class UnknownClusterError(_Missing):
    """A cluster id past the end of the clustering."""


class SellerlinkWarning(UserWarning):
    """Rows were skipped in lenient mode; the index's ``ingest_report`` has the counts."""
