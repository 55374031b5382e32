//! Hostile input: each item of the hardening issue replayed small, with its outcome asserted (an
//! error naming the place, or the documented behaviour). Memory and time are measured in the
//! benchmarks, never here.

use std::path::Path;

use sellerlink::IndexBuilder;
use sellerlink::error::IngestError;
use sellerlink::ingest::{CsvOptions, IngestReport, read_csv};
use sellerlink::kind::KindError;
use sellerlink::normalize::{InvalidValue, Normalizer};

/// The examples' checks and text plumbing, tested as the examples use them.
#[allow(dead_code)]
#[path = "../examples/common/check.rs"]
mod check;

fn lenient(data: &[u8]) -> IngestReport {
    read_csv(data, "q.csv", &CsvOptions::lenient(), &mut IndexBuilder::new()).unwrap()
}

fn strict_err(data: &[u8], options: CsvOptions) -> String {
    read_csv(data, "q.csv", &options, &mut IndexBuilder::new()).unwrap_err().to_string()
}

// 1. Silent loss ---------------------------------------------------------------------------

/// The issue's `q.csv`: a stray quote in an ignored column, then many good lines.
fn stray_quote_file(good: usize) -> Vec<u8> {
    let mut data = b"account,kind,value,timestamp,note\ns1,device,fp-1,,\"oops\n".to_vec();
    for i in 1..=good {
        data.extend_from_slice(format!("t{i},device,fp-{i},,\n").as_bytes());
    }
    data
}

#[test]
fn stray_quote_in_an_ignored_column_loses_no_line() {
    let data = stray_quote_file(200);
    let why = "field note: quoted field runs past the end of the line (a stray or unclosed quote)";
    let r = lenient(&data);
    assert_eq!((r.lines_read, r.accepted, r.rejected), (201, 200, 1));
    assert_eq!(r.examples, vec![(2, format!("q.csv:2: {why}"))]);
    assert_eq!(r.by_reason.get(why), Some(&1));
    // Strict: the first bad line is an error, naming it.
    assert_eq!(strict_err(&data, CsvOptions::strict()), format!("q.csv:2: {why}"));
    // The same in chunks of any size (the quote is rejected as soon as its line ends).
    for chunk in [1, 7, 64, 1000] {
        let mut b = IndexBuilder::new();
        let c = read_csv(&data[..], "q.csv", &CsvOptions::lenient().chunk_size(chunk), &mut b).unwrap();
        assert_eq!(c, r, "chunk {chunk}");
    }
}

#[test]
fn a_quote_closed_lines_later_rejects_only_its_first_line() {
    // The quote opened on line 2 closes on line 4; lines 3 and 4 are read as lines of their own.
    let data = b"account,kind,value,note\ns1,device,fp-1,\"a\ns2,device,fp-2,b\ns3,device,fp-3\",c\ns4,device,fp-4,\n";
    let r = lenient(data);
    assert_eq!((r.lines_read, r.accepted, r.rejected), (4, 3, 1));
    assert_eq!(r.examples[0].0, 2);
    // A quoted field with commas and doubled quotes on one line is fine.
    let ok = b"account,kind,value,note\ns1,device,fp-1,\"a, \"\"b\"\"\"\n";
    assert_eq!((lenient(ok).accepted, lenient(ok).rejected), (1, 0));
}

#[test]
fn line_numbers_count_cr_crlf_and_blank_lines() {
    let bad = "field value: invalid ip: not an IPv4 or IPv6 address";
    for (data, line) in [
        (&b"account,kind,value\rs1,ip,1.2.3.4\rs2,ip,bad\r"[..], 3),
        (&b"account,kind,value\r\ns1,ip,1.2.3.4\r\n\r\ns2,ip,bad\r\n"[..], 4),
        (&b"account,kind,value\n\n\ns1,ip,bad\n"[..], 4),
        (&b"account,kind,value\rs1,ip,1.2.3.4\r\r\rs2,ip,bad"[..], 5),
        (&b"\xef\xbb\xbfaccount,kind,value\ns1,ip,bad\n"[..], 2),
    ] {
        assert_eq!(strict_err(data, CsvOptions::strict()), format!("q.csv:{line}: {bad}"));
        for chunk in [1, 3, 5] {
            let r =
                read_csv(data, "q.csv", &CsvOptions::lenient().chunk_size(chunk), &mut IndexBuilder::new());
            assert_eq!(r.unwrap().examples[0].0, line, "{:?}", String::from_utf8_lossy(data));
        }
    }
}

#[test]
fn a_line_holding_only_a_byte_order_mark_is_blank_in_any_chunking() {
    // The parser drops a mark where it starts reading and skips the line as empty; elsewhere
    // the mark is a record of its own, dropped as blank. Either way the next line keeps its
    // number and is no multi-line record.
    let data = b"account,kind,value,note\ns1,wifi,a4:2b:b0:12:34:56\r\xef\xbb\xbf\n,,\"say \"\"hi\"\"\"\ns2,ip,bad\n";
    for chunk in [1, 2, 3, 4, 5, 40, 41, 42, 43, 44, 45, 46, 1 << 20] {
        let r =
            read_csv(&data[..], "q.csv", &CsvOptions::lenient().chunk_size(chunk), &mut IndexBuilder::new())
                .unwrap();
        let lines: Vec<u64> = r.examples.iter().map(|e| e.0).collect();
        assert_eq!((r.lines_read, r.rejected, lines), (3, 2, vec![4, 5]), "chunk {chunk}: {:?}", r.examples);
    }
    let mut data = b"account,kind,value\n".to_vec();
    data.extend_from_slice(b"\xef\xbb\xbf\ns1,device,\"fp\"\ns2,ip,bad\n");
    for chunk in [1, 19, 20, 21, 22, 23, 1 << 20] {
        let r =
            read_csv(&data[..], "q.csv", &CsvOptions::lenient().chunk_size(chunk), &mut IndexBuilder::new())
                .unwrap();
        assert_eq!((r.accepted, r.rejected, r.examples[0].0), (1, 1, 4), "chunk {chunk}: {:?}", r.examples);
    }
}

#[test]
fn a_byte_order_mark_at_a_line_start_is_dropped_in_any_chunking() {
    // As concatenating two files with marks leaves one inside: the account is `s2` either way.
    let data = b"\xef\xbb\xbfaccount,kind,value\ns1,device,fp-1\n\xef\xbb\xbfs2,device,fp-1\n\xef\xbb\xbf\n";
    for chunk in [1, 2, 3, 4, 17, 18, 19, 1 << 20] {
        let mut b = IndexBuilder::new();
        let r = read_csv(&data[..], "q.csv", &CsvOptions::strict().chunk_size(chunk), &mut b).unwrap();
        assert_eq!(r.lines_read, 2);
        let index = b.build().unwrap();
        assert!(index.account("s2").is_some(), "chunk {chunk}");
        assert_eq!(index.clustering().len(), 1);
    }
}

/// The lines after the header that are not blank, counted independently of the reader: lines
/// end at LF, CRLF or CR, a byte-order mark at the start of a line is dropped, and the header is
/// the first line that is not blank.
fn data_lines(data: &[u8]) -> u64 {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\n' || data[i] == b'\r' {
            lines.push(&data[start..i]);
            if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    lines.push(&data[start..]);
    let bom = "\u{feff}".as_bytes();
    let mut nonblank = lines
        .into_iter()
        .map(|l| l.strip_prefix(bom).unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    nonblank.next(); // the header
    nonblank.count() as u64
}

mod accounting {
    use proptest::prelude::*;

    use super::*;

    const VALID: &str = "account,kind,value,timestamp,note\n\
        s1,device,fp-1,1700000000,hello\n\
        s2,device,FP-1,,\"a, b\"\n\
        s3,ip,192.0.2.7,2023-11-14T22:13:20Z,\n\
        s3,email,A@example.com,,x\n\
        s4,phone,+44 20 7946 0958,,\n\
        s5,dob_name,Ann 1990-01-02,,\n\
        s6,wifi,a4:2b:b0:12:34:56,,\"say \"\"hi\"\"\"\n";

    #[derive(Clone, Debug)]
    enum Mutation {
        Insert(usize, &'static [u8]),
        Truncate(usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let piece = prop_oneof![
            Just(&b"\""[..]),
            Just(&b","[..]),
            Just(&b"\r"[..]),
            Just(&b"\n"[..]),
            Just(&b"\r\n"[..]),
            Just("\u{feff}".as_bytes()),
            Just(&b" "[..]),
            Just(&b"\"\n"[..]),
            Just(&b"\xff"[..]),
        ];
        prop_oneof![
            8 => (any::<usize>(), piece).prop_map(|(at, p)| Mutation::Insert(at, p)),
            1 => any::<usize>().prop_map(Mutation::Truncate),
        ]
    }

    fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
        let mut data = text.as_bytes().to_vec();
        for m in mutations {
            match *m {
                Mutation::Insert(at, piece) => {
                    let at = at % (data.len() + 1);
                    data.splice(at..at, piece.iter().copied());
                }
                Mutation::Truncate(at) => data.truncate(at % (data.len() + 1)),
            }
        }
        data
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Every data line of a mutated file is accepted or rejected, and `lines_read` is the
        /// number of data lines counted without the reader; the fuzz target's checks (chunk
        /// sizes, strict agreeing with lenient) hold too.
        #[test]
        fn every_data_line_is_accounted_for(mutations in prop::collection::vec(mutation(), 1..6)) {
            let data = apply(VALID, &mutations);
            crate::fuzz_replay::check_csv(&data);
            let mut b = IndexBuilder::new();
            match read_csv(&data[..], "m.csv", &CsvOptions::lenient(), &mut b) {
                Ok(r) => {
                    prop_assert_eq!(r.accepted + r.rejected, r.lines_read, "{:?}", r);
                    prop_assert_eq!(r.lines_read, data_lines(&data), "{:?}", String::from_utf8_lossy(&data));
                    prop_assert_eq!(r.accepted, b.observation_count() as u64);
                }
                Err(IngestError::Header { .. }) => {}
                Err(e) => prop_assert!(false, "lenient failed past the header: {}", e),
            }
        }
    }
}

// 6. Kind names ----------------------------------------------------------------------------

#[test]
fn a_misspelt_kind_is_reported_with_a_suggestion() {
    let r = lenient(b"account,kind,value\ns1,device,fp-1\ns2,devcie,fp-1\ns3,devcie,fp-2\ns4,tax_id,DE-1\n");
    assert_eq!(r.accepted, 4);
    let new: Vec<_> =
        r.new_kinds.iter().map(|k| (k.name.as_str(), k.line, k.suggestion.as_deref())).collect();
    assert_eq!(new, vec![("devcie", 3, Some("device")), ("tax_id", 5, None)]);
}

#[test]
fn strict_refuses_undeclared_custom_kinds() {
    let data = b"account,kind,value\ns1,tax_id,DE-1\ns2,devcie,fp-1\n";
    let declared = CsvOptions::strict().declare_kinds(["TAX_ID"]);
    assert_eq!(
        strict_err(data, declared),
        "q.csv:3: field kind: undeclared kind \"devcie\" (did you mean device?)"
    );
    assert_eq!(
        strict_err(data, CsvOptions::strict().declare_kinds(Vec::<String>::new())),
        "q.csv:2: field kind: undeclared kind \"tax_id\" (declare custom kinds, or fix the kind column)"
    );
    // Lenient with declared kinds: the line is rejected and counted.
    let r = read_csv(
        &data[..],
        "q.csv",
        &CsvOptions::lenient().declare_kinds(["tax_id"]),
        &mut IndexBuilder::new(),
    )
    .unwrap();
    assert_eq!((r.accepted, r.rejected), (1, 1));
    assert_eq!(r.by_reason.get("undeclared kind"), Some(&1));
    // A kind registered with the builder counts as declared.
    let mut b = IndexBuilder::new();
    b.register_kind("devcie", Normalizer::Text).unwrap();
    let options = CsvOptions::strict().declare_kinds(["tax_id"]);
    assert_eq!(read_csv(&data[..], "q.csv", &options, &mut b).unwrap().accepted, 2);
    assert!(matches!(
        KindError::Undeclared { name: "x".into(), suggestion: None }.to_string().as_str(),
        "undeclared kind \"x\" (declare custom kinds, or fix the kind column)"
    ));
}

#[test]
fn swapped_kind_and_value_columns_are_a_likely_mix_up() {
    // The header says kind,value but the lines hold value,kind: every value becomes a kind.
    let mut data = b"account,kind,value\n".to_vec();
    for i in 0..40 {
        data.extend_from_slice(format!("s{i},fp-{i:04},device\n").as_bytes());
    }
    let r = lenient(&data);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].0, 18, "the 17th new kind name is on line 18");
    assert!(r.warnings[0].1.contains("likely a column mix-up"), "{:?}", r.warnings);
    let err = strict_err(&data, CsvOptions::strict());
    assert!(err.starts_with("q.csv:18: field kind: more than 16 new kind names"), "{err}");
    // A few custom kinds are no mix-up.
    let few = b"account,kind,value\ns1,tax_id,1\ns2,dob_name,x\ns3,loyalty,7\n";
    assert!(lenient(few).warnings.is_empty());
}

// 7. Hash flooding -------------------------------------------------------------------------

#[test]
fn ids_do_not_depend_on_hash_keys() {
    // Each build hashes with new random keys; ids, clusters and the snapshot bytes agree.
    let build = || {
        let mut b = IndexBuilder::new();
        for i in 0..3_000u32 {
            let account = format!("store-{}", (i * 7_919) % 3_000);
            b.add(&account, "device", &format!("fp-{}", i % 1_100), None).unwrap();
            b.add(&account, "email", &format!("m{}@example.com", i % 2_900), None).unwrap();
        }
        b.build().unwrap()
    };
    let (a, b) = (build(), build());
    for name in ["store-0", "store-17", "store-2999"] {
        assert_eq!(a.account(name), b.account(name));
    }
    assert_eq!(a.clustering(), b.clustering());
    assert_eq!(sellerlink::snapshot::save(&a).unwrap(), sellerlink::snapshot::save(&b).unwrap());
}

// 8. Atomic files --------------------------------------------------------------------------

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sellerlink-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_failed_write_keeps_the_previous_file_and_leaves_no_temporary() {
    use std::io::Write;
    let dir = scratch_dir("atomic");
    let path = dir.join("o.csv");
    sellerlink::fs::write_atomic(&path, |w| writeln!(w, "account,cluster\na,0")).unwrap();
    let failed: std::io::Result<()> = sellerlink::fs::write_atomic(&path, |w| {
        writeln!(w, "account,cluster\npartial")?;
        Err(std::io::Error::other("disk full"))
    });
    assert_eq!(failed.unwrap_err().to_string(), "disk full");
    let panicked = std::panic::catch_unwind(|| {
        let _: std::io::Result<()> = sellerlink::fs::write_atomic(&path, |_| panic!("writer bug"));
    });
    assert!(panicked.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "account,cluster\na,0\n");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("o.csv")]);
    // A folder that does not exist: an error, nothing created.
    assert!(sellerlink::fs::write_atomic(dir.join("no/such/o.csv"), |w| writeln!(w, "x")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

// 9. CSV everywhere ------------------------------------------------------------------------

#[test]
fn exported_names_round_trip_through_a_csv_reader() {
    let mut b = IndexBuilder::new();
    for a in ["s1", "s2 \"q\"", "s3, ltd", "s4\u{e9}"] {
        b.add(a, "device", "fp-1", None).unwrap();
    }
    b.add("s1", "address", "1 \"Main\", St", None).unwrap();
    let index = b.build().unwrap();
    let cluster = index.cluster_of(index.account("s1").unwrap());
    let (mut nodes, mut rels) = (Vec::new(), Vec::new());
    sellerlink::export::write_neo4j_csv(&index, &[cluster], &mut nodes, &mut rels).unwrap();
    let mut names = Vec::new();
    for row in csv::Reader::from_reader(&nodes[..]).records() {
        let row = row.unwrap();
        assert_eq!(row.len(), 8, "{row:?}");
        names.push(row[1].to_string());
    }
    for a in ["s1", "s2 \"q\"", "s3, ltd", "s4\u{e9}"] {
        assert!(names.iter().any(|n| n == a), "{a} in {names:?}");
    }
    let (mut nodes, mut edges) = (Vec::new(), Vec::new());
    sellerlink::export::write_gephi_csv(&index, &[cluster], &mut nodes, &mut edges).unwrap();
    assert!(csv::Reader::from_reader(&nodes[..]).records().all(|r| r.unwrap().len() == 7));
    assert!(csv::Reader::from_reader(&edges[..]).records().all(|r| r.unwrap().len() == 5));
}

#[test]
fn seeds_and_example_csv_files_read_any_line_end_and_a_bom() {
    let text = "\u{feff}s1\r# comment\r\n\rs2 \"q\"\ns3";
    let lines: Vec<(u64, &str)> = check::numbered_lines(text);
    assert_eq!(lines, vec![(1, "s1"), (2, "# comment"), (3, ""), (4, "s2 \"q\""), (5, "s3")]);
    // The examples' csv input: lines placed right whatever their ends, blank lines skipped.
    let data = "\u{feff}source,target\rA,B\r\n\r\nC,D\r\rE,\"F\rG\"\rH,I";
    let input = check::Normalized::new(data.as_bytes());
    let lines = input.lines();
    let mut rdr = csv::Reader::from_reader(input);
    assert_eq!(rdr.headers().unwrap().get(0), Some("source"));
    let mut got = Vec::new();
    let mut row = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut row).unwrap() {
        got.push((lines.line_of(&row, rdr.position()), String::from_utf8_lossy(&row[0]).to_string()));
    }
    assert_eq!(got, vec![(2, "A".into()), (4, "C".into()), (6, "E".into()), (8, "H".into())]);
}

// 10. Numbers ------------------------------------------------------------------------------

#[test]
fn command_line_numbers_are_checked() {
    for bad in ["NaN", "-1", "inf", "-inf", "x", ""] {
        assert!(check::resolution(bad).is_err(), "{bad}");
    }
    assert_eq!(check::resolution("0.02"), Ok(0.02));
    assert_eq!(check::resolution("0"), Ok(0.0));
    assert_eq!(check::resolution("NaN").unwrap_err(), "must be a finite number of at least 0");
    assert!(check::share("2.5").is_err() && check::share("-0.1").is_err() && check::share("NaN").is_err());
    assert_eq!(check::share("0.15"), Ok(0.15));
    assert_eq!(check::at_least_one("0").unwrap_err(), "must be at least 1");
    assert_eq!(check::at_least_one("5"), Ok(5));
    assert!(check::factor("inf").is_err());
}

#[test]
fn edge_weights_that_would_overflow_the_quality_are_refused() {
    // Four edges of weight 1e308: the sums overflowed to a quality of null.
    let mut total = 0.0;
    assert!(check::add_weight(&mut total, 1e308).is_err());
    let mut total = 0.0;
    for _ in 0..4 {
        check::add_weight(&mut total, 1e149).unwrap();
    }
    assert!(check::add_weight(&mut total, 1e150).unwrap_err().contains("scale them down"));
    // Within the limit the quality stays finite.
    let g = sellerlink::leiden::WeightedGraph::from_edges(4, [(0, 1, 1e149), (1, 2, 1e149), (2, 3, 1e149)])
        .unwrap();
    assert!(sellerlink::leiden::Leiden::new().run(&g).quality().is_finite());
}

#[test]
fn a_nan_resolution_is_refused_at_build() {
    use sellerlink::leiden::Leiden;
    use sellerlink::operators::OperatorSettings;
    let build = |settings: OperatorSettings| {
        let mut b = IndexBuilder::new().operators(Some(settings));
        b.add("s1", "device", "fp-1", None).unwrap();
        b.build()
    };
    for (r, why) in
        [(f64::NAN, "NaN"), (-1.0, "negative"), (f64::NEG_INFINITY, "negative"), (f64::INFINITY, "infinite")]
    {
        let err = build(OperatorSettings::new().leiden(Leiden::new().resolution(r))).unwrap_err();
        assert!(matches!(err, sellerlink::Error::Settings(_)));
        assert_eq!(
            err.to_string(),
            format!("operator settings: resolution {why}: expected a finite number of at least 0")
        );
    }
    for r in [0.0, -0.0, 0.05, 1e6] {
        assert!(build(OperatorSettings::new().leiden(Leiden::new().resolution(r))).is_ok(), "{r}");
    }
    // Documented fallbacks elsewhere stay: a NaN randomness merges greedily.
    assert!(build(OperatorSettings::new().leiden(Leiden::new().randomness(f64::NAN))).is_ok());
}

// 11. API ----------------------------------------------------------------------------------

#[test]
fn a_panicking_custom_normaliser_is_an_error_naming_the_line() {
    let boom = Normalizer::custom("boom", |v: &str| -> Result<String, InvalidValue> {
        if v == "bad" {
            panic!("cannot normalise {v}");
        }
        Ok(v.to_string())
    });
    let data = b"account,kind,value\ns1,device,fp-1\ns2,sku,ok\ns3,sku,bad\ns4,device,fp-1\n";
    for options in [CsvOptions::strict(), CsvOptions::lenient()] {
        let mut b = IndexBuilder::new();
        b.register_kind("sku", boom.clone()).unwrap();
        b.register_kind("tax_id", Normalizer::Document).unwrap();
        let err = read_csv(&data[..], "x.csv", &options, &mut b).unwrap_err();
        assert!(matches!(err, IngestError::NormalizerPanic { .. }));
        assert_eq!(
            err.to_string(),
            "x.csv:4: field value: the normaliser of kind sku panicked: cannot normalise bad"
        );
        // The builder keeps its registered kinds and the observations before the line.
        assert_eq!(b.kinds().normalizer(b.kinds().get("tax_id").unwrap()).name(), "document");
        assert_eq!(b.kinds().normalizer(b.kinds().get("sku").unwrap()).name(), "boom");
        assert_eq!(b.observation_count(), 2);
        assert!(b.build().is_ok());
    }
}

// 12. Messages -----------------------------------------------------------------------------

#[test]
fn one_place_format_everywhere() {
    let p = Path::new("edges.csv");
    assert_eq!(
        check::place(p, 7, Some("weight"), "\"x\" is not a number"),
        "edges.csv:7: field weight: \"x\" is not a number"
    );
    assert_eq!(check::place(p, 3, None, "too many distinct nodes"), "edges.csv:3: too many distinct nodes");
    // Snapshot errors name the file: decode errors get it in front, I/O errors have it.
    let e = sellerlink::snapshot::load(b"nope").unwrap_err();
    assert_eq!(
        check::snapshot_error(Path::new("base.snap"), &e),
        "base.snap: truncated snapshot: 32 bytes needed, 4 present"
    );
    let missing = Path::new("/nonexistent/sellerlink/base.snap");
    let e = sellerlink::snapshot::load_path(missing).unwrap_err();
    assert!(check::snapshot_error(missing, &e).starts_with("/nonexistent/sellerlink/base.snap: "));
}

/// A byte-order mark at the start of a line is dropped, so a quote after it opens a quoted
/// field, wherever the line falls in the reader's chunks (the fuzzer found that a mark in the
/// middle of a chunk left the quote a literal character).
#[test]
fn a_quote_after_a_mid_file_byte_order_mark_opens_a_field() {
    let data =
        "account,kind,value\ns0,device,d1\n\u{feff}\"s,1\",device,d1\n\u{feff}\"s2,device,d2\n".as_bytes();
    for chunk in [None, Some(1), Some(7), Some(30), Some(64)] {
        let mut options = CsvOptions::lenient();
        if let Some(c) = chunk {
            options = options.chunk_size(c);
        }
        let mut b = IndexBuilder::new();
        let report = read_csv(data, "obs.csv", &options, &mut b).unwrap();
        assert_eq!((report.accepted, report.rejected), (2, 1), "chunk {chunk:?}");
        assert!(report.examples[0].1.starts_with("obs.csv:4:"), "chunk {chunk:?}: {:?}", report.examples);
        let index = b.build().unwrap();
        assert!(index.account("s,1").is_some(), "chunk {chunk:?}");
    }
}
