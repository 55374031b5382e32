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
pub(crate) fn market(accounts: u64) -> (Vec<u8>, RecordBatch) {
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

pub(crate) fn write_parquet(path: &std::path::Path, batch: &RecordBatch, row_group: usize) {
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

/// Shares of a Parquet file by row group (every n-th group, as the distributed backend reads
/// them) hold every row of the file once, as `read_csv_rows` reads the same rows from CSV, each
/// numbered by its row in the whole file.
#[test]
fn parquet_shares_by_row_group_hold_every_row_once() {
    use sellerlink::ingest::read_csv_rows;
    use sellerlink::kind::Kinds;
    use sellerlink::parquet::read_parquet_rows;
    let (csv, batch) = market(300);
    // The CSV reader's rows, each with its line turned into a 0-based row.
    let mut kinds = Kinds::new();
    let mut expected = Vec::new();
    read_csv_rows(&csv[..], "market.csv", &CsvOptions::lenient(), &mut kinds, |r| {
        // Line 1 is the header: line 2 is row 0.
        expected.push((r.line - 2, r.account.to_string(), r.value.to_string(), r.raw.to_string(), r.time));
    })
    .unwrap();
    let path = temp("shares.parquet");
    // (The writer recurses once per row group of a batch: small groups overflow a test stack.)
    for group_rows in [13, 100, 10_000] {
        write_parquet(&path, &batch, group_rows);
        for peers in [1, 2, 3] {
            let mut got = Vec::new();
            let mut records = 0;
            for index in 0..peers {
                let mut kinds = Kinds::new();
                let report = read_parquet_rows(
                    &path,
                    |g| g % peers == index,
                    &ArrowOptions::lenient(),
                    &mut kinds,
                    |r| {
                        got.push((
                            r.line,
                            r.account.to_string(),
                            r.value.to_string(),
                            r.raw.to_string(),
                            r.time,
                        ));
                    },
                )
                .unwrap();
                records += report.records;
            }
            got.sort_by_key(|r| r.0);
            assert_eq!(records as usize, batch.num_rows(), "{group_rows} rows a group, {peers} shares");
            assert_eq!(got, expected, "{group_rows} rows a group, {peers} shares");
        }
    }
    let _ = std::fs::remove_file(&path);
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

/// A batch of `account,kind,value` text columns.
fn text_batch(rows: &[(&str, &str, &str)]) -> RecordBatch {
    let col = |f: fn(&(&str, &str, &str)) -> String| {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    RecordBatch::try_from_iter([
        ("account", col(|r| r.0.to_string())),
        ("kind", col(|r| r.1.to_string())),
        ("value", col(|r| r.2.to_string())),
    ])
    .unwrap()
}

fn strict_table_err(batch: &RecordBatch, options: ArrowOptions) -> String {
    read_batches([Ok(batch.clone())], "t", &options, &mut IndexBuilder::new()).unwrap_err().to_string()
}

// Kinds: as for CSV (tests/hostile.rs, "Kind names"), with 0-based rows where CSV has lines.

#[test]
fn a_misspelt_kind_in_a_table_is_reported_with_a_suggestion() {
    let batch = text_batch(&[
        ("s1", "device", "fp-1"),
        ("s2", "devcie", "fp-1"),
        ("s3", "devcie", "fp-2"),
        ("s4", "tax_id", "DE-1"),
    ]);
    let r = read_batches([Ok(batch)], "t", &ArrowOptions::lenient(), &mut IndexBuilder::new()).unwrap();
    assert_eq!((r.lines_read, r.records, r.accepted), (4, 4, 4));
    let new: Vec<_> =
        r.new_kinds.iter().map(|k| (k.name.as_str(), k.line, k.suggestion.as_deref())).collect();
    assert_eq!(new, vec![("devcie", 1, Some("device")), ("tax_id", 3, None)]);
}

#[test]
fn declared_kinds_gate_tables_as_csv() {
    let batch = text_batch(&[("s1", "tax_id", "DE-1"), ("s2", "devcie", "fp-1")]);
    assert_eq!(
        strict_table_err(&batch, ArrowOptions::strict().declare_kinds(["TAX_ID"])),
        "t: row 1: field kind: undeclared kind \"devcie\" (did you mean device?)"
    );
    assert_eq!(
        strict_table_err(&batch, ArrowOptions::strict().declare_kinds(Vec::<String>::new())),
        "t: row 0: field kind: undeclared kind \"tax_id\" (declare custom kinds, or fix the kind column)"
    );
    // The same message as the CSV reader's, after the place.
    let csv = "account,kind,value\ns1,tax_id,DE-1\ns2,devcie,fp-1\n";
    let csv_err = read_csv(
        csv.as_bytes(),
        "q.csv",
        &CsvOptions::strict().declare_kinds(["tax_id"]),
        &mut IndexBuilder::new(),
    )
    .unwrap_err()
    .to_string();
    let arrow_err = strict_table_err(&batch, ArrowOptions::strict().declare_kinds(["tax_id"]));
    assert_eq!(csv_err.strip_prefix("q.csv:3: "), arrow_err.strip_prefix("t: row 1: "));
    // Lenient with declared kinds: the row is rejected and counted, its place the row.
    let options = ArrowOptions::lenient().declare_kinds(["tax_id"]);
    let r = read_batches([Ok(batch.clone())], "t", &options, &mut IndexBuilder::new()).unwrap();
    assert_eq!((r.accepted, r.rejected), (1, 1));
    assert_eq!(r.by_reason.get("undeclared kind"), Some(&1));
    assert_eq!(
        r.examples,
        vec![(1, "t: row 1: field kind: undeclared kind \"devcie\" (did you mean device?)".to_string())]
    );
    // tax_id, declared, is registered as a new kind; devcie is not.
    let new: Vec<_> = r.new_kinds.iter().map(|k| (k.name.as_str(), k.line)).collect();
    assert_eq!(new, vec![("tax_id", 0)]);
    // Without declared kinds the misspelling is let in as a new kind (and reported).
    let r =
        read_batches([Ok(batch.clone())], "t", &ArrowOptions::strict(), &mut IndexBuilder::new()).unwrap();
    assert_eq!(r.accepted, 2);
    assert_eq!(r.new_kinds.len(), 2);
    // A kind registered with the builder counts as declared.
    let mut b = IndexBuilder::new();
    b.register_kind("devcie", sellerlink::normalize::Normalizer::Text).unwrap();
    let options = ArrowOptions::strict().declare_kinds(["tax_id"]);
    assert_eq!(read_batches([Ok(batch)], "t", &options, &mut b).unwrap().accepted, 2);
}

#[test]
fn declared_kinds_gate_parquet_and_name_the_row_group() {
    let rows: Vec<(String, &str, String)> = (0..10)
        .map(|i| (format!("s{i}"), if i == 6 { "tax_idd" } else { "tax_id" }, format!("DE-{i}")))
        .collect();
    let rows: Vec<(&str, &str, &str)> = rows.iter().map(|(a, k, v)| (a.as_str(), *k, v.as_str())).collect();
    let path = temp("kinds.parquet");
    write_parquet(&path, &text_batch(&rows), 4);
    let options = ArrowOptions::strict().declare_kinds(["tax_id"]);
    let err = read_parquet_path(&path, &options, &mut IndexBuilder::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row group 1, row 2 (input row 6): field kind: undeclared kind \"tax_idd\" (declare custom kinds, or fix the kind column)",
            path.display()
        )
    );
    let options = ArrowOptions::lenient().declare_kinds(["tax_id"]);
    let r = read_parquet_path(&path, &options, &mut IndexBuilder::new()).unwrap();
    assert_eq!((r.lines_read, r.accepted, r.rejected), (10, 9, 1));
    assert_eq!(r.examples[0].0, 6);
    // An update starts from the index's kinds: tax_id is known, tax_idd still refused.
    let mut b = IndexBuilder::new();
    b.add("s0", "tax_id", "DE-0", None).unwrap();
    let index = b.build().unwrap();
    let mut u = index.updater();
    let err =
        u.read_parquet_path(&path, &ArrowOptions::strict().declare_kinds(Vec::<String>::new())).unwrap_err();
    assert!(err.to_string().contains("(input row 6): field kind: undeclared kind \"tax_idd\""), "{err}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn swapped_kind_and_value_columns_in_a_table_are_a_likely_mix_up() {
    // The columns are named kind,value but hold value,kind: every value becomes a kind.
    let rows: Vec<(String, String)> = (0..40).map(|i| (format!("s{i}"), format!("fp-{i:04}"))).collect();
    let rows: Vec<(&str, &str, &str)> =
        rows.iter().map(|(a, v)| (a.as_str(), v.as_str(), "device")).collect();
    let batch = text_batch(&rows);
    let r =
        read_batches([Ok(batch.clone())], "t", &ArrowOptions::lenient(), &mut IndexBuilder::new()).unwrap();
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].0, 16, "the 17th new kind name is in row 16");
    assert!(r.warnings[0].1.contains("likely a column mix-up"), "{:?}", r.warnings);
    let err = strict_table_err(&batch, ArrowOptions::strict());
    assert!(err.starts_with("t: row 16: field kind: more than 16 new kind names"), "{err}");
    // The same in several batches: the count runs over the whole input.
    let batches: Vec<_> = (0..40).step_by(5).map(|o| Ok(batch.slice(o, 5))).collect();
    let r = read_batches(batches, "t", &ArrowOptions::lenient(), &mut IndexBuilder::new()).unwrap();
    assert_eq!(r.warnings.iter().map(|w| w.0).collect::<Vec<_>>(), vec![16]);
    // A few custom kinds are no mix-up.
    let few = text_batch(&[("s1", "tax_id", "1"), ("s2", "dob_name", "x"), ("s3", "loyalty", "7")]);
    let r = read_batches([Ok(few)], "t", &ArrowOptions::lenient(), &mut IndexBuilder::new()).unwrap();
    assert!(r.warnings.is_empty());
    assert_eq!(r.new_kinds.len(), 3);
}
