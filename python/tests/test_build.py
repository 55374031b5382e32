"""Building from every input the package takes gives the `cluster` example's clusters."""

from __future__ import annotations

import warnings

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import sellerlink
from conftest import partition, read_clusters_csv, rows, run_cluster

TEXT = {c: pa.string() for c in ("account", "kind", "value")}


def sample_table(sample) -> pa.Table:
    """The sample as Arrow: text columns, timestamps int64 with nulls."""
    opts = pacsv.ConvertOptions(column_types={**TEXT, "timestamp": pa.int64()}, strings_can_be_null=False)
    return pacsv.read_csv(sample, convert_options=opts)


@pytest.mark.parametrize("level", ["operators", "components"])
def test_csv_path_equals_cluster_example(sample, reference, level):
    index = sellerlink.build(sample, operators=(level == "operators"))
    table = index.clusters(level=level)
    assert table.column_names == ["account", "cluster"]
    assert rows(table) == reference[level]


@pytest.mark.parametrize("level", ["operators", "components"])
def test_default_build_serves_both_levels(index, reference, level):
    assert rows(index.clusters(level)) == reference[level]
    assert index.cluster_count(level) == len({c for _, c in reference[level]})


def test_str_and_pathlike(sample, index):
    assert rows(sellerlink.build(str(sample)).clusters()) == rows(index.clusters())


def test_pyarrow_table(sample, reference):
    table = sample_table(sample)
    index = sellerlink.build(table)
    assert rows(index.clusters()) == reference["operators"]
    assert index.ingest_report["records"] == table.num_rows


def test_pyarrow_record_batch_reader_and_batches(sample, reference):
    table = sample_table(sample)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1000))
    assert rows(sellerlink.build(reader).clusters()) == reference["operators"]
    batch = table.combine_chunks().to_batches()[0]
    assert rows(sellerlink.build(batch).clusters()) == reference["operators"]


def test_other_arrow_encodings(sample, reference):
    """Large and view strings, dictionaries, timestamp types and RFC 3339 text all read alike."""
    t = sample_table(sample)
    ts = t.column("timestamp")
    variants = [
        t.set_column(0, "account", t.column("account").cast(pa.large_string())),
        t.set_column(1, "kind", t.column("kind").dictionary_encode()),
        t.set_column(2, "value", t.column("value").cast(pa.string_view())),
        t.set_column(3, "timestamp", ts.cast(pa.timestamp("s"))),
        t.set_column(3, "timestamp", ts.cast(pa.timestamp("s")).cast(pa.timestamp("ns", tz="UTC"))),
        t.set_column(3, "timestamp", ts.cast(pa.float64())),
        t.set_column(3, "timestamp", ts.cast(pa.string())),
        # other column order and extra columns, as for CSV
        t.select(["value", "timestamp", "kind", "account"]).append_column("note", pa.array(["x"] * t.num_rows)),
    ]
    for v in variants:
        assert rows(sellerlink.build(v).clusters()) == reference["operators"], v.schema


def test_pandas_dataframe(sample, reference):
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(sample)  # timestamps come as float64 with NaN
    assert rows(sellerlink.build(df).clusters()) == reference["operators"]
    assert rows(sellerlink.build(df, operators=False).clusters("components")) == reference["components"]


def test_polars_dataframe(sample, reference):
    pl = pytest.importorskip("polars")
    df = pl.read_csv(sample, schema_overrides={"value": pl.Utf8})
    assert rows(sellerlink.build(df).clusters()) == reference["operators"]
    cat = df.with_columns(pl.col("kind").cast(pl.Categorical))
    assert rows(sellerlink.build(cat).clusters()) == reference["operators"]
    # and the clusters go straight into polars through the same interface
    out = pl.DataFrame(sellerlink.build(df).clusters())
    assert out.columns == ["account", "cluster"]


def test_parquet_path(sample, reference, tmp_path):
    t = sample_table(sample)
    plain = tmp_path / "obs.parquet"
    pq.write_table(t, plain, row_group_size=4000)
    assert rows(sellerlink.build(plain).clusters()) == reference["operators"]
    # a timestamp type, dictionary pages, zstd
    typed = tmp_path / "typed.parquet"
    t2 = t.set_column(3, "timestamp", t.column("timestamp").cast(pa.timestamp("s")).cast(pa.timestamp("ms")))
    pq.write_table(t2, typed, compression="zstd", use_dictionary=True)
    assert rows(sellerlink.build(typed).clusters()) == reference["operators"]


def test_cluster_example_reads_and_writes_parquet(sample, reference, tmp_path):
    obs = tmp_path / "obs.parquet"
    pq.write_table(sample_table(sample), obs, row_group_size=3000)
    out = run_cluster(tmp_path, obs, "operators", extension="parquet")
    written = pq.read_table(out)
    assert written.column_names == ["account", "cluster"]
    assert rows(written) == reference["operators"]
    csv_out = run_cluster(tmp_path, obs, "components", extension="csv")
    assert read_clusters_csv(csv_out) == reference["components"]


def test_lenient_by_default_with_a_warning(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("account,kind,value,timestamp\ns1,ip,1.2.3.4,\ns2,ip,not an ip,\ns3,device,d1,\ns4,device,D1,\n")
    with pytest.warns(sellerlink.SellerlinkWarning, match="skipped 1 of 4 rows"):
        index = sellerlink.build(path)
    report = index.ingest_report
    assert (report["records"], report["accepted"], report["rejected"]) == (4, 3, 1)
    assert report["by_reason"] == {"invalid ip: not an IPv4 or IPv6 address": 1}
    assert report["examples"][0][0] == 3
    assert index.cluster_of("s3") == index.cluster_of("s4")


def test_null_typed_timestamp_column():
    t = pa.table({"account": ["a", "b"], "kind": ["device"] * 2, "value": ["x", "x"], "timestamp": pa.nulls(2)})
    assert sellerlink.build(t, strict=True).cluster_count() == 1


def test_no_warning_when_clean(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sellerlink.SellerlinkWarning)
        sellerlink.build(pa.table({"account": ["a", "b"], "kind": ["device"] * 2, "value": ["x", "x"]}))


def test_partition_helper_sanity(reference):
    assert len(partition(reference["operators"])) >= len(partition(reference["components"]))
