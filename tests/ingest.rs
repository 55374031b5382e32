//! Every ingest error names the file, line and field; lenient mode counts what it skips.

use sellerlink::IndexBuilder;
use sellerlink::error::IngestError;
use sellerlink::ingest::{CsvOptions, read_csv};

fn strict(data: &[u8]) -> Result<IndexBuilder, String> {
    let mut b = IndexBuilder::new();
    read_csv(data, "obs.csv", &CsvOptions::strict(), &mut b).map(|_| b).map_err(|e| e.to_string())
}

#[test]
fn strict_errors_name_place_and_reason() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "obs.csv:1: header: empty file: expected account,kind,value[,timestamp]"),
        (
            b"account,kind\n",
            "obs.csv:1: header: missing column value: expected account,kind,value[,timestamp]",
        ),
        (b"account,kind,value,value\n", "obs.csv:1: header: column value appears twice"),
        (
            b"account,kind,value\ns1,ip,1.2.3.4\ns2,ip,1.2.3\n",
            "obs.csv:3: field value: invalid ip: not an IPv4 or IPv6 address",
        ),
        (b"account,kind,value\ns1,ip\n", "obs.csv:2: field value: missing"),
        (b"account,kind,value\n,ip,1.2.3.4\n", "obs.csv:2: field account: empty account"),
        (b"account,kind,value\ns1,,1.2.3.4\n", "obs.csv:2: field kind: empty kind name"),
        (
            b"account,kind,value\ns1,a b,x\n",
            "obs.csv:2: field kind: kind name must be at most 64 letters, digits, '_', '-' or '.'",
        ),
        (b"account,kind,value\ns1,email,unknown\n", "obs.csv:2: field value: invalid email: placeholder"),
        (
            b"account,kind,value,timestamp\ns1,ip,1.2.3.4,tuesday\n",
            "obs.csv:2: field timestamp: not unix seconds or an RFC 3339 date-time",
        ),
        (
            b"account,kind,value,timestamp\ns1,ip,1.2.3.4,99999999999999\n",
            "obs.csv:2: field timestamp: timestamp out of range",
        ),
        (b"account,kind,value\ns1,device,\xff\xfe\n", "obs.csv:2: field value: not valid UTF-8"),
    ];
    for (data, expected) in cases {
        let got =
            strict(data).err().unwrap_or_else(|| panic!("accepted {:?}", String::from_utf8_lossy(data)));
        assert_eq!(&got, expected);
    }
}

#[test]
fn unterminated_quote_swallows_no_lines_silently() {
    // A quote that does not close on its line rejects that line alone: reading resumes at the
    // next line, so the lines after it are read, not swallowed into one value.
    let mut b = IndexBuilder::new();
    let data = b"account,kind,value\ns1,device,\"unterminated\ns2,device,fp\ns3,device,fp\n";
    let r = read_csv(&data[..], "obs.csv", &CsvOptions::lenient(), &mut b).unwrap();
    assert_eq!((r.lines_read, r.accepted, r.rejected), (3, 2, 1));
    assert_eq!(
        r.examples,
        vec![(
            2,
            "obs.csv:2: field value: quoted field runs past the end of the line (a stray or unclosed quote)"
                .to_string()
        )]
    );
}

#[test]
fn lenient_counts_every_skip() {
    let data = b"account,kind,value,timestamp\n\
        s1,ip,1.2.3.4,1700000000\n\
        s2,ip,not-ip,\n\
        s3,phone,12,\n\
        s4,device,\xff,\n\
        s5,device,ok,later\n\
        s6,device\n\
        \n\
        s7,dob_name,Ann 1990-01-02,\n";
    let mut b = IndexBuilder::new();
    let r = read_csv(&data[..], "obs.csv", &CsvOptions::lenient(), &mut b).unwrap();
    assert_eq!((r.records, r.lines_read), (7, 7));
    assert_eq!(r.accepted, 2);
    assert_eq!(r.rejected, 5);
    assert_eq!(r.by_reason.values().sum::<u64>(), 5);
    assert_eq!(r.examples.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4, 5, 6, 7]);
    let index = b.build().unwrap();
    assert!(index.kinds().get("dob_name").is_some(), "unknown kinds become custom kinds");
}

#[test]
fn lenient_gives_up_past_the_limit() {
    let mut data = b"account,kind,value\n".to_vec();
    for i in 0..20 {
        data.extend_from_slice(format!("s{i},ip,bad\n").as_bytes());
    }
    let mut b = IndexBuilder::new();
    let err = read_csv(&data[..], "obs.csv", &CsvOptions::lenient().max_rejections(10), &mut b).unwrap_err();
    assert!(matches!(err, IngestError::TooManyRejections { limit: 10, .. }), "{err}");
}

#[test]
fn columns_in_any_order_and_rfc3339() {
    let data = b"timestamp,value,extra,kind,account\n2023-11-14T22:13:20Z,1.2.3.4,x,ip,s1\n1700000100,1.2.3.4,y,IP,s2\n";
    let b = strict(data).unwrap();
    assert_eq!(b.observation_count(), 2);
}

#[test]
fn huge_field_and_missing_newline() {
    let mut data = b"account,kind,value\ns1,device,".to_vec();
    data.extend(std::iter::repeat_n(b'x', 10 << 20));
    data.extend_from_slice(b"\ns2,device,fp");
    let mut b = IndexBuilder::new();
    let r = read_csv(&data[..], "big.csv", &CsvOptions::lenient(), &mut b).unwrap();
    assert_eq!((r.accepted, r.rejected), (1, 1));
    assert_eq!(
        r.by_reason.keys().next().map(String::as_str),
        Some("invalid device: value longer than 1024 bytes")
    );
    // A line over 16 MiB is refused before it is buffered whole.
    let mut data = b"account,kind,value\ns1,device,".to_vec();
    data.extend(std::iter::repeat_n(b'x', 17 << 20));
    let mut b = IndexBuilder::new();
    let err = read_csv(&data[..], "big.csv", &CsvOptions::lenient(), &mut b).unwrap_err();
    assert!(err.to_string().contains("line longer than 16 MiB"), "{err}");
}

mod chunking {
    use proptest::prelude::*;
    use sellerlink::IndexBuilder;
    use sellerlink::ingest::{CsvOptions, read_csv};

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9]{1,6}",
            "\"[a-z ,]{0,6}\"",
            "\"[a-z]{1,3}\n[a-z]{1,3}\"",
            "\"[a-z]{1,3}\"\"[a-z]{1,3}\"",
            Just(String::new()),
        ]
    }

    fn csv_text() -> impl Strategy<Value = String> {
        let kind = prop_oneof![Just("device"), Just("email"), Just("dob_name"), Just("ip"), Just("bad kind")];
        let row = (
            field(),
            kind,
            field(),
            prop_oneof![Just(String::new()), Just("17".to_string()), Just("x".to_string())],
        );
        prop::collection::vec(
            prop_oneof![row.prop_map(|(a, k, v, t)| format!("{a},{k},{v},{t}\n")), Just("\n".to_string())],
            0..25,
        )
        .prop_map(|rows| format!("account,kind,value,timestamp\n{}", rows.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn tiny_chunks_read_like_one(text in csv_text(), chunk in 1usize..48, lenient in any::<bool>()) {
            let base = if lenient { CsvOptions::lenient() } else { CsvOptions::strict() };
            let mut a = IndexBuilder::new();
            let mut b = IndexBuilder::new();
            let ra = read_csv(text.as_bytes(), "x.csv", &base.clone(), &mut a).map_err(|e| e.to_string());
            let rb = read_csv(text.as_bytes(), "x.csv", &base.chunk_size(chunk), &mut b).map_err(|e| e.to_string());
            prop_assert_eq!(&ra, &rb);
            prop_assert_eq!(a.observation_count(), b.observation_count());
            let (ia, ib) = (a.build().unwrap(), b.build().unwrap());
            prop_assert_eq!(ia.graph(), ib.graph());
            prop_assert_eq!(ia.account_count(), ib.account_count());
        }
    }
}
