"""Lookups, set algebra, investigation, policy, snapshots, updates, errors and threads."""

from __future__ import annotations

import threading
from collections import defaultdict

import pyarrow as pa
import pytest

import sellerlink
from conftest import rows


@pytest.fixture(scope="module")
def ring(index):
    """The largest operator: its id and its members, sorted."""
    groups = defaultdict(list)
    for account, cluster in rows(index.clusters()):
        groups[cluster].append(account)
    cluster, members = max(groups.items(), key=lambda kv: (len(kv[1]), -kv[0]))
    return cluster, sorted(members)


def test_cluster_of_and_members(index, ring):
    cluster, members = ring
    assert all(index.cluster_of(a) == cluster for a in members)
    s = index.members(cluster)
    assert isinstance(s, sellerlink.AccountSet)
    assert len(s) == len(members) and s.names() == members and list(s) == members
    assert members[0] in s and "nobody" not in s
    assert index.cluster_mates(members[0]) == s - index.account_set([members[0]])
    assert members[0] not in index.cluster_mates(members[0])
    assert index.representative(cluster) == members[0]
    assert index.cluster_of(members[0], level="components") == index.cluster_of(members[-1], level="components")


def test_accounts_of_an_artifact_and_artifacts_of(index, ring):
    _, members = ring
    arts = index.artifacts_of(members[0])
    assert arts and all(isinstance(a, sellerlink.Artifact) for a in arts)
    for a in arts:
        holders = index.accounts_of(a.kind, a.value)
        assert members[0] in holders and len(holders) == a.accounts
        assert index.accounts_of(a.kind, a.canonical) == holders
    with pytest.raises(sellerlink.UnknownArtifactError, match="no device artifact"):
        index.accounts_of("device", "never-seen-fingerprint")
    with pytest.raises(sellerlink.UnknownKindError, match="unknown kind"):
        index.accounts_of("horoscope", "leo")


def test_shares_and_set_algebra():
    table = pa.table(
        {
            "account": ["a", "b", "b", "c", "d", "d"],
            "kind": ["device", "device", "payment", "payment", "device", "payment"],
            "value": ["fp1", "FP1", "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "fp1", "DE89370400440532013000"],
        }
    )
    index = sellerlink.build(table)
    dev, pay = index.shares("b", "device"), index.shares("b", "payment")
    assert set(dev) == {"a", "d"} and set(pay) == {"c", "d"}
    assert set(dev & pay) == {"d"}
    assert set(dev | pay) == {"a", "c", "d"}
    assert set(dev - pay) == {"a"}
    assert set(dev ^ pay) == {"a", "c"}
    assert (dev & pay).issubset(dev) and not dev.isdisjoint(pay)
    assert set(index.neighbors("b")) == {"a", "c", "d"}
    assert set(index.accounts_with_kind("payment")) == {"b", "c", "d"}
    assert index.account_set(["a", "c"]) | index.account_set(["d"]) == index.account_set(["a", "c", "d"])
    assert pa.table(dev.to_arrow()).column("account").to_pylist() == ["a", "d"]
    other = sellerlink.build(table)
    with pytest.raises(ValueError, match="different indexes"):
        dev & other.shares("b", "device")
    assert "AccountSet" in repr(dev)


def test_explain_linked_and_not(index, ring):
    _, members = ring
    e = index.explain(members[0], members[1])
    assert e.status == "linked" and e.linked and e.same_operator is True
    assert e.path and {"from_name", "to_name", "kind", "value", "weight"} <= set(e.path[0])
    text = str(e)
    assert text == e.text and members[0] in text and members[1] in text
    d = e.to_dict()
    assert d["status"] == "linked" and d["path"] == e.path
    assert index.explain(members[0], members[0]).status == "same"
    # an account of another component
    other = next(a for a, c in rows(index.clusters("components")) if c != index.cluster_of(members[0], "components"))
    n = index.explain(members[0], other)
    assert n.status == "not_linked" and not n.linked and str(n)


def test_expand(index, ring):
    _, members = ring
    t = index.expand([members[0]], top=5)
    assert t.column_names == ["account", "score", "nearest_seed", "path_length"]
    assert 0 < t.num_rows <= 5
    scores = t.column("score").to_pylist()
    assert scores == sorted(scores, reverse=True)
    assert set(t.column("nearest_seed").to_pylist()) <= {members[0], None}


def test_reports(index, ring):
    cluster, members = ring
    r = index.report(cluster)
    assert r["cluster"] == cluster and r["size"] == len(members) and sorted(r["members"]) == members
    assert {"shared", "by_kind", "carried_by", "confidence", "weakest_joint"} <= set(r)
    top = index.reports(top=3)
    assert len(top) == 3 and top[0]["size"] == len(members)
    assert all(a["size"] >= b["size"] for a, b in zip(top, top[1:]))
    assert index.report(index.cluster_of(members[0], "components"), level="components")["level"] == "components"
    with pytest.raises(sellerlink.UnknownClusterError, match="is not in this index"):
        index.report(10**9)


def test_hubs(index):
    hubs = index.hubs()
    assert hubs.column_names == ["kind", "value", "accounts", "cap", "reason"]
    assert hubs.num_rows == index.hub_count > 0


def test_policy_get_and_set(sample, index, reference):
    p = index.policy
    assert isinstance(p, dict) and p
    # the index's own policy (what it learned pinned) reproduces the build
    again = sellerlink.build(sample, policy=p)
    assert rows(again.clusters()) == reference["operators"]
    d = sellerlink.default_policy()
    assert isinstance(d, dict) and set(d) <= set(p) | set(d)
    evidence = index.evidence()
    assert "device" in evidence["kinds"] and "strength" in evidence["kinds"]["device"]
    with pytest.raises(sellerlink.PolicyError, match="policy"):
        sellerlink.build(sample, policy={"not": "a policy"})


def test_policy_change_changes_links():
    """Make wifi strong: a shared router alone then links."""
    t = pa.table({"account": ["a", "b"], "kind": ["wifi", "wifi"], "value": ["a4:2b:b0:12:34:56"] * 2})
    assert sellerlink.build(t).cluster_count() == 2
    p = sellerlink.default_policy()
    assert p["kinds"]["wifi"]["strength"] == "Weak"
    p["kinds"]["wifi"]["strength"] = "Strong"
    assert sellerlink.build(t, policy=p).cluster_count() == 1
    assert sellerlink.build(t, policy=p).policy["kinds"]["wifi"]["strength"] == "Strong"


def test_snapshot_round_trip(index, tmp_path):
    path = tmp_path / "index.snapshot"
    index.save(path)
    loaded = sellerlink.load(path)
    assert rows(loaded.clusters()) == rows(index.clusters())
    assert rows(loaded.clusters("components")) == rows(index.clusters("components"))
    assert loaded.ingest_report is None
    again = sellerlink.from_bytes(index.to_bytes())
    assert rows(again.clusters()) == rows(index.clusters())
    broken = tmp_path / "broken.snapshot"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    with pytest.raises(sellerlink.SnapshotError, match="checksum|decode|invalid"):
        sellerlink.load(broken)
    with pytest.raises(sellerlink.SnapshotError, match="truncated"):
        sellerlink.from_bytes(bytes(data[:100]))
    with pytest.raises(sellerlink.FileError, match="missing.snapshot"):
        sellerlink.load(tmp_path / "missing.snapshot")


def test_update_equals_one_build(sample, reference, tmp_path):
    import pyarrow.csv as pacsv

    opts = pacsv.ConvertOptions(
        column_types={"account": pa.string(), "kind": pa.string(), "value": pa.string(), "timestamp": pa.int64()},
        strings_can_be_null=False,
    )
    t = pacsv.read_csv(sample, convert_options=opts)
    half = t.num_rows // 2
    first = sellerlink.build(t.slice(0, half))
    # the second half as a CSV file, then as a table: both give the full build
    second = tmp_path / "day2.csv"
    pacsv.write_csv(t.slice(half), second)
    for data in (second, t.slice(half)):
        nxt, changes = first.update(data)
        assert isinstance(changes, sellerlink.ChangeSet)
        assert rows(nxt.clusters()) == reference["operators"]
        assert changes.appeared or changes.merged or changes.joined
        assert changes.relinked_accounts > 0
        assert str(changes).count("appeared") == 1
        assert set(changes.to_dict()) >= {"appeared", "merged", "split", "joined"}
    # the old index is unchanged
    assert rows(first.clusters()) == rows(sellerlink.build(t.slice(0, half)).clusters())


def test_update_remove_and_joined_evidence():
    t = pa.table({"account": ["r1", "r2", "r3"], "kind": ["payment"] * 3, "value": ["MULE-7"] * 3})
    index = sellerlink.build(t)
    nxt, changes = index.update(pa.table({"account": ["r4"], "kind": ["payment"], "value": ["mule-7"]}))
    assert len(nxt) == 4
    assert [j["account"] for j in changes.joined] == ["r4"]
    assert changes.joined[0]["cluster"] == "r1"
    assert changes.joined[0]["evidence"]["kind"] == "payment"
    after, removed = nxt.update(remove=["r4"])
    assert removed.removed_accounts == 1 and "r4" not in after
    with pytest.raises(sellerlink.UnknownAccountError, match="nobody"):
        nxt.update(remove=["nobody"])


def test_errors_name_the_place(tmp_path):
    bad = tmp_path / "obs.csv"
    bad.write_text("account,kind,value\nstore-1,ip,1.2.3.4\nstore-1,ip,300.1.1.1\n")
    with pytest.raises(sellerlink.IngestError, match=r"obs\.csv:3: field value: invalid ip"):
        sellerlink.build(bad, strict=True)
    t = pa.table({"account": ["s1", None], "kind": ["ip", "ip"], "value": ["1.2.3.4", "1.2.3.5"]})
    with pytest.raises(sellerlink.IngestError, match=r"^table: row 1: missing field account$"):
        sellerlink.build(t, strict=True)
    with pytest.raises(sellerlink.IngestError, match=r"^orders: row 1"):
        sellerlink.build(t, strict=True, name="orders")
    with pytest.raises(sellerlink.IngestError, match="missing column value"):
        sellerlink.build(pa.table({"account": ["a"], "kind": ["ip"]}))
    with pytest.raises(sellerlink.IngestError, match="column timestamp has type"):
        sellerlink.build(pa.table({"account": ["a"], "kind": ["ip"], "value": ["1.2.3.4"], "timestamp": [[1]]}))
    with pytest.raises(sellerlink.FileError, match="nope.csv"):
        sellerlink.build(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="expected a .csv or .parquet"):
        sellerlink.build(tmp_path / "obs.json")
    with pytest.raises(sellerlink.IngestError, match="more than 0 rejected"):
        sellerlink.build(bad, max_rejections=0)


def test_parquet_errors_name_row_group_and_row(tmp_path):
    import pyarrow.parquet as pq

    n = 10
    t = pa.table(
        {
            "account": [f"s{i}" for i in range(n)],
            "kind": ["ip"] * n,
            "value": [f"10.0.0.{i}" for i in range(n - 1)] + ["999.0.0.1"],
        }
    )
    path = tmp_path / "obs.parquet"
    pq.write_table(t, path, row_group_size=4)
    with pytest.raises(sellerlink.IngestError) as e:
        sellerlink.build(path, strict=True)
    assert str(e.value).startswith(f"{path}: row group 2, row 1 (input row 9): field value: invalid ip")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(sellerlink.IngestError, match="junk.parquet: not a readable Parquet file"):
        sellerlink.build(tmp_path / "junk.parquet")


def test_unknown_lookups(index):
    with pytest.raises(sellerlink.UnknownAccountError, match='unknown account "nobody"'):
        index.cluster_of("nobody")
    with pytest.raises(KeyError):
        index.shares("nobody", "device")
    with pytest.raises(ValueError, match="level"):
        index.clusters(level="rings")
    assert "nobody" not in index and len(index) == index.account_count


def test_threads_share_an_index(index, ring):
    """Lookups from several threads at once, while another thread runs a long call."""
    _, members = ring
    errors = []
    expected = index.cluster_of(members[0])

    def lookups():
        try:
            for _ in range(200):
                assert index.cluster_of(members[0]) == expected
                assert members[1] in index.members(expected)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=lookups) for _ in range(4)]
    threads.append(threading.Thread(target=lambda: index.clusters()))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
