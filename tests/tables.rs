//! Arrow and Parquet: the same observations give the same clusters as from CSV, and errors name
//! the row group and row.

use std::sync::Arc;

use sellerlink::arrow::arrow_array::cast::AsArray;
use sellerlink::arrow::arrow_array::types::UInt32Type;
use sellerlink::arrow::arrow_array::{
    Array, ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringArray, StringViewArray,
    TimestampSecondArray, types::Int32Type,
};
use sellerlink::arrow::{ArrowOptions, TableError, clusters_batches, read_batches};
use sellerlink::ingest::{CsvOptions, read_csv};
use sellerlink::parquet::{read_parquet_path, write_clusters_path};
use sellerlink::{Index, IndexBuilder, Level};
use sellerlink_synth::{Marketplace, write_csv};

/// (account, cluster) rows, as the cluster example writes them.
fn rows(index: &Index, level: Level) -> Vec<(String, Option<u32>)> {
    let mut out = Vec::new();
    for b in clusters_batches(index, level, 1000) {
        let names = b.column(0).as_string::<i32>();
        let ids = b.column(1).as_primitive::<UInt32Type>();
        for i in 0..b.num_rows() {
            out.push((names.value(i).to_string(), (!ids.is_null(i)).then(|| ids.value(i))));
        }
    }
    out
}

/// A small synthetic market as CSV text and as Arrow columns.
fn market(accounts: u64) -> (Vec<u8>, RecordBatch) {
    let mut csv = Vec::new();
    write_csv(Marketplace::new().accounts(accounts).seed(11).records(), &mut csv, Vec::new()).unwrap();
    let mut rdr = csv::Reader::from_reader(&csv[..]);
    let (mut a, mut k, mut v, mut t) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rdr.records() {
        let r = r.unwrap();
        a.push(r[0].to_string());
        k.push(r[1].to_string());
        v.push(r[2].to_string());
        t.push(r[3].parse::<i64>().ok());
    }
    let batch = RecordBatch::try_from_iter([
        ("account", Arc::new(StringArray::from(a)) as ArrayRef),
        ("kind", Arc::new(StringArray::from(k)) as ArrayRef),
        ("value", Arc::new(StringArray::from(v)) as ArrayRef),
        ("timestamp", Arc::new(Int64Array::from(t)) as ArrayRef),
    ])
    .unwrap();
    (csv, batch)
}

fn from_csv(csv: &[u8]) -> Index {
    let mut b = IndexBuilder::new();
    read_csv(csv, "obs.csv", &CsvOptions::lenient(), &mut b).unwrap();
    b.build().unwrap()
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch, row_group: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group))
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sellerlink-tables-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn arrow_batches_give_the_csv_clusters() {
    let (csv, batch) = market(1500);
    let expected = from_csv(&csv);
    // in slices of 700 rows, so that the interning thread sees several
    let batches: Vec<_> = (0..batch.num_rows())
        .step_by(700)
        .map(|o| Ok(batch.slice(o, 700.min(batch.num_rows() - o))))
        .collect();
    let mut b = IndexBuilder::new();
    let report = read_batches(batches, "table", &ArrowOptions::strict(), &mut b).unwrap();
    assert_eq!(report.accepted as usize, batch.num_rows());
    let index = b.build().unwrap();
    for level in [Level::Operators, Level::Components] {
        assert_eq!(rows(&index, level), rows(&expected, level));
    }
}

#[test]
fn other_encodings_read_alike() {
    let (csv, batch) = market(400);
    let expected = rows(&from_csv(&csv), Level::Operators);
    let kinds: DictionaryArray<Int32Type> = batch.column(1).as_string::<i32>().iter().collect();
    let values: StringViewArray = batch.column(2).as_string::<i32>().iter().collect();
    let times: TimestampSecondArray =
        batch.column(3).as_primitive::<sellerlink::arrow::arrow_array::types::Int64Type>().iter().collect();
    let other = RecordBatch::try_from_iter([
        ("Value", Arc::new(values) as ArrayRef),
        ("KIND", Arc::new(kinds) as ArrayRef),
        ("account", batch.column(0).clone()),
        ("time", Arc::new(times.with_timezone("UTC")) as ArrayRef),
    ])
    .unwrap();
    let mut b = IndexBuilder::new();
    read_batches([Ok(other)], "table", &ArrowOptions::strict(), &mut b).unwrap();
    assert_eq!(rows(&b.build().unwrap(), Level::Operators), expected);
}

#[test]
fn parquet_gives_the_csv_clusters_and_writes_them() {
    let (csv, batch) = market(1500);
    let expected = from_csv(&csv);
    let path = temp("market.parquet");
    write_parquet(&path, &batch, 1000);
    let mut b = IndexBuilder::new();
    let report = read_parquet_path(&path, &ArrowOptions::strict(), &mut b).unwrap();
    assert_eq!(report.records as usize, batch.num_rows());
    let index = b.build().unwrap();
    assert_eq!(rows(&index, Level::Operators), rows(&expected, Level::Operators));

    // clusters out to Parquet and back
    let out = temp("clusters.parquet");
    write_clusters_path(&index, Level::Components, &out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&out).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let mut back = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let names = b.column(0).as_string::<i32>();
        let ids = b.column(1).as_primitive::<UInt32Type>();
        for i in 0..b.num_rows() {
            back.push((names.value(i).to_string(), Some(ids.value(i))));
        }
    }
    assert_eq!(back, rows(&expected, Level::Components));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn parquet_errors_name_the_row_group_and_row() {
    let n = 10;
    let values: Vec<String> =
        (0..n).map(|i| if i == 9 { "999.0.0.1".into() } else { format!("10.0.0.{i}") }).collect();
    let batch = RecordBatch::try_from_iter([
        (
            "account",
            Arc::new(StringArray::from((0..n).map(|i| format!("s{i}")).collect::<Vec<_>>())) as ArrayRef,
        ),
        ("kind", Arc::new(StringArray::from(vec!["ip"; n])) as ArrayRef),
        ("value", Arc::new(StringArray::from(values)) as ArrayRef),
    ])
    .unwrap();
    let path = temp("bad.parquet");
    write_parquet(&path, &batch, 4);
    let mut b = IndexBuilder::new();
    let err = read_parquet_path(&path, &ArrowOptions::strict(), &mut b).unwrap_err();
    assert!(matches!(err, TableError::Observation { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row group 2, row 1 (input row 9): field value: invalid ip: not an IPv4 or IPv6 address",
            path.display()
        )
    );
    // lenient: skipped, counted and reported like a CSV line
    let mut b = IndexBuilder::new();
    let report = read_parquet_path(&path, &ArrowOptions::lenient(), &mut b).unwrap();
    assert_eq!((report.records, report.accepted, report.rejected), (10, 9, 1));
    assert_eq!(report.examples[0].0, 9);
    assert_eq!(report.by_reason.get("invalid ip: not an IPv4 or IPv6 address"), Some(&1));
    // an error converts into the crate-wide one
    let e: sellerlink::Error =
        read_parquet_path(&path, &ArrowOptions::strict(), &mut IndexBuilder::new()).unwrap_err().into();
    assert!(e.to_string().contains("row group 2"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn columns_are_checked() {
    let batch = RecordBatch::try_from_iter([
        ("account", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("kind", Arc::new(StringArray::from(vec!["ip"])) as ArrayRef),
    ])
    .unwrap();
    let err = read_batches([Ok(batch)], "t", &ArrowOptions::lenient(), &mut IndexBuilder::new()).unwrap_err();
    assert_eq!(err.to_string(), "t: columns: missing column value: expected account,kind,value[,timestamp]");
    let missing = temp("missing.parquet");
    let err = read_parquet_path(&missing, &ArrowOptions::strict(), &mut IndexBuilder::new()).unwrap_err();
    assert!(matches!(err, TableError::Io { .. }));
}

#[test]
fn updates_read_tables() {
    let (csv, batch) = market(600);
    let expected = from_csv(&csv);
    let half = batch.num_rows() / 2;
    let mut b = IndexBuilder::new();
    read_batches([Ok(batch.slice(0, half))], "day1", &ArrowOptions::strict(), &mut b).unwrap();
    let first = b.build().unwrap();
    let path = temp("day2.parquet");
    write_parquet(&path, &batch.slice(half, batch.num_rows() - half), 500);
    let mut u = first.updater();
    u.read_parquet_path(&path, &ArrowOptions::strict()).unwrap();
    let (next, _) = u.finish().unwrap();
    assert_eq!(rows(&next, Level::Operators), rows(&expected, Level::Operators));
    let _ = std::fs::remove_file(&path);
}
