"""Shared fixtures: the sample data, and the `cluster` example's output on it (the reference)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.csv"


def _cluster_command() -> list:
    """The `cluster` example: $SELLERLINK_CLUSTER (a built binary, as CI sets it) or cargo."""
    exe = os.environ.get("SELLERLINK_CLUSTER")
    if exe:
        return [exe]
    if shutil.which("cargo") is None:
        pytest.skip("the cluster example needs cargo (or SELLERLINK_CLUSTER)")
    return ["cargo", "run", "--quiet", "--release", "--example", "cluster", "--"]


def run_cluster(tmp: Path, input: Path, level: str, extension: str = "csv") -> Path:
    out = tmp / f"clusters-{level}.{extension}"
    cmd = _cluster_command() + ["--input", str(input), "--output", str(out), "--level", level]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def read_clusters_csv(path: Path) -> list:
    with open(path, newline="") as f:
        return [(r["account"], int(r["cluster"])) for r in csv.DictReader(f)]


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> dict:
    """{level: [(account, cluster)]} as the cluster example writes them for data/sample.csv."""
    tmp = tmp_path_factory.mktemp("reference")
    return {
        level: read_clusters_csv(run_cluster(tmp, SAMPLE, level))
        for level in ("operators", "components")
    }


@pytest.fixture(scope="session")
def index(sample):
    import sellerlink

    return sellerlink.build(sample)


def rows(table) -> list:
    """(account, cluster) rows of a clusters table."""
    d = table.to_pydict()
    return list(zip(d["account"], d["cluster"]))


def partition(pairs) -> set:
    """The partition a list of (account, cluster) pairs describes, ids forgotten."""
    groups: dict = {}
    for account, cluster in pairs:
        groups.setdefault(cluster, set()).add(account)
    return {frozenset(g) for g in groups.values()}
