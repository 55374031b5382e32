//! The examples as programs: every example that reads observations takes the same input flags
//! (`--strict`, `--kind NAME`, `--policy FILE`, CSV or Parquet by extension) with the same
//! meaning. These tests run the example binaries that `cargo test` builds beside the test
//! binary (`target/<profile>/examples/`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sellerlink::policy::{KindPolicy, LinkPolicy};

/// The built example `name`, run from the crate root.
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built: `cargo test` builds the examples (or run `cargo build --examples` first)",
        bin.display()
    );
    let mut c = Command::new(bin);
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(name: &str, args: &[&str]) -> Output {
    example(name).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh directory for one test.
fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sellerlink-examples-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// s1 and s2 share a device; s1 and s3 a custom `tax_id` (weak by default, so it needs
/// corroboration; a policy can make it strong).
const OK: &str =
    "account,kind,value,timestamp\ns1,device,fp-1,\ns2,device,FP-1,\ns3,tax_id,DE-1,\ns1,tax_id,DE-1,\n";

/// OK with a bad ip on line 4.
const BAD: &str = "account,kind,value,timestamp\ns1,device,fp-1,\ns2,device,FP-1,\ns3,ip,999.1.1.1,\ns3,tax_id,DE-1,\ns1,tax_id,DE-1,\n";

/// Each example that reads observations with its other arguments (their files in `d`).
fn invocations(d: &Path) -> Vec<(&'static str, Vec<String>)> {
    std::fs::write(d.join("seeds.txt"), "s1\n").unwrap();
    std::fs::write(d.join("truth.csv"), "account,operator\ns1,op1\ns2,op1\ns3,op1\n").unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        ("explain", v(&["s1", "s2"])),
        ("expand", vec!["--seeds".into(), p("seeds.txt"), "--top".into(), "3".into()]),
        ("evidence", vec!["--output".into(), p("edges.csv")]),
        (
            "export",
            vec![
                "--cluster-of".into(),
                "s1".into(),
                "--format".into(),
                "json".into(),
                "--output".into(),
                p("op.json"),
            ],
        ),
        ("evaluate", vec!["--truth".into(), p("truth.csv")]),
        ("investigate", Vec::new()),
        ("cluster", vec!["--output".into(), p("clusters.csv")]),
    ]
}

fn run_with(name: &str, input: &Path, flags: &[&str], rest: &[String]) -> Output {
    example(name).arg("--input").arg(input).args(flags).args(rest).output().unwrap()
}

#[test]
fn every_example_takes_strict() {
    let d = dir("strict");
    let bad = d.join("bad.csv");
    std::fs::write(&bad, BAD).unwrap();
    for (name, rest) in invocations(&d) {
        // Lenient (the default): the bad line is skipped, counted and reported on stderr.
        let out = run_with(name, &bad, &[], &rest);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("bad.csv: rejected 1 of 5 lines"), "{name}: {err}");
        // Strict: the bad line is an error naming file and line, exit 2.
        let out = run_with(name, &bad, &["--strict", "--kind", "tax_id"], &rest);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let want =
            format!("error: {}:4: field value: invalid ip: not an IPv4 or IPv6 address", bad.display());
        assert!(text(&out.stderr).contains(&want), "{name}: {}", text(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_example_takes_declared_kinds() {
    let d = dir("kinds");
    let ok = d.join("ok.csv");
    std::fs::write(&ok, OK).unwrap();
    let typo = d.join("typo.csv");
    std::fs::write(&typo, format!("{OK}s2,devcie,fp-9,\n")).unwrap();
    for (name, rest) in invocations(&d) {
        // Strict refuses an undeclared custom kind...
        let out = run_with(name, &ok, &["--strict"], &rest);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let want = format!("{}:4: field kind: undeclared kind \"tax_id\"", ok.display());
        assert!(text(&out.stderr).contains(&want), "{name}: {}", text(&out.stderr));
        // ...and takes a declared one.
        let out = run_with(name, &ok, &["--strict", "--kind", "tax_id"], &rest);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        // A misspelt built-in kind is refused with a suggestion.
        let out = run_with(name, &typo, &["--strict", "--kind", "TAX_ID"], &rest);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let want =
            format!("{}:6: field kind: undeclared kind \"devcie\" (did you mean device?)", typo.display());
        assert!(text(&out.stderr).contains(&want), "{name}: {}", text(&out.stderr));
        // Lenient with --kind: the line of an undeclared kind is rejected and counted.
        let out = run_with(name, &typo, &["--kind", "tax_id"], &rest);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("rejected 1 of 5 lines"), "{name}: {}", text(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_example_takes_a_policy_file() {
    let d = dir("policy");
    let ok = d.join("ok.csv");
    std::fs::write(&ok, OK).unwrap();
    let policy = d.join("policy.json");
    // tax_id DE-1 is a legitimately shared value (a marketplace's own, say): set aside.
    let set_aside = LinkPolicy::new().kind("tax_id", KindPolicy::strong()).legitimate("tax_id", "DE-1");
    std::fs::write(&policy, serde_json::to_string(&set_aside).unwrap()).unwrap();
    for (name, rest) in invocations(&d) {
        // The kinds the policy names count as declared.
        let out = run_with(name, &ok, &["--strict", "--policy", s(&policy)], &rest);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        // A file that is not a policy is an error naming it.
        let out = run_with(name, &ok, &["--policy", s(&ok)], &rest);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let want = format!("error: {}: not a linking policy", ok.display());
        assert!(text(&out.stderr).contains(&want), "{name}: {}", text(&out.stderr));
    }
    // The policy is applied: s1 and s3 share tax_id DE-1 only, which it sets aside.
    let out = run("explain", &["--input", s(&ok), "s1", "s3"]);
    assert!(text(&out.stdout).starts_with("LINKED"), "{}", text(&out.stdout));
    let out = run("explain", &["--input", s(&ok), "--policy", s(&policy), "s1", "s3"]);
    assert!(text(&out.stdout).starts_with("NOT LINKED"), "{}", text(&out.stdout));
    // cluster still refuses --policy with --load (a snapshot carries its own policy).
    let out = run("cluster", &["--load", "x.snap", "--policy", s(&policy), "--output", "o.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot be used with"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn parquet_input_reads_as_csv() {
    let d = dir("parquet");
    let (csv, batch) = crate::tables::market(300);
    let csv_path = d.join("market.csv");
    std::fs::write(&csv_path, &csv).unwrap();
    let pq = d.join("market.parquet");
    crate::tables::write_parquet(&pq, &batch, 500);

    // Two accounts that share an artifact, and two that (probably) do not.
    let mut rdr = csv::Reader::from_reader(&csv[..]);
    let mut first: std::collections::HashMap<(String, String), String> = Default::default();
    let mut pair = None;
    let mut accounts = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        accounts.push(r[0].to_string());
        let key = (r[1].to_string(), r[2].to_string());
        match first.get(&key) {
            Some(a) if *a != r[0] && pair.is_none() => pair = Some((a.clone(), r[0].to_string())),
            Some(_) => {}
            None => {
                first.insert(key, r[0].to_string());
            }
        }
    }
    let (a, b) = pair.unwrap();
    let (c, e) = (accounts[0].clone(), accounts[accounts.len() - 1].clone());
    for (x, y) in [(&a, &b), (&c, &e)] {
        let from_csv = run("explain", &["--input", s(&csv_path), x, y]);
        let from_parquet = run("explain", &["--input", s(&pq), x, y]);
        assert!(from_csv.status.success(), "{}", text(&from_csv.stderr));
        assert!(from_parquet.status.success(), "{}", text(&from_parquet.stderr));
        assert!(!from_csv.stdout.is_empty());
        assert_eq!(text(&from_parquet.stdout), text(&from_csv.stdout));
    }

    // The other examples too: the same files out.
    for (name, out) in [("evidence", "edges"), ("cluster", "clusters")] {
        let [from_csv, from_parquet] = [(&csv_path, "csv"), (&pq, "pq")].map(|(input, tag)| {
            let path = d.join(format!("{out}-{tag}.csv"));
            // The market's one custom kind, declared.
            let o = run(name, &["--input", s(input), "--output", s(&path), "--strict", "--kind", "dob_name"]);
            assert!(o.status.success(), "{name}: {}", text(&o.stderr));
            std::fs::read_to_string(&path).unwrap()
        });
        assert!(from_csv.lines().count() > 1, "{name}");
        assert_eq!(from_parquet, from_csv, "{name}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn parquet_input_is_gated_and_placed_by_row() {
    let d = dir("parquet-kinds");
    let col = |v: &[&str]| {
        std::sync::Arc::new(sellerlink::arrow::arrow_array::StringArray::from(v.to_vec()))
            as sellerlink::arrow::arrow_array::ArrayRef
    };
    let batch = sellerlink::arrow::arrow_array::RecordBatch::try_from_iter([
        ("account", col(&["s1", "s2", "s3", "s1"])),
        ("kind", col(&["device", "devcie", "tax_id", "tax_id"])),
        ("value", col(&["fp-1", "FP-1", "DE-1", "DE-1"])),
    ])
    .unwrap();
    let pq = d.join("typo.parquet");
    crate::tables::write_parquet(&pq, &batch, 2);
    let out = run("explain", &["--input", s(&pq), "--strict", "--kind", "tax_id", "s1", "s3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let want = format!(
        "error: {}: row group 0, row 1 (input row 1): field kind: undeclared kind \"devcie\" (did you mean device?)",
        pq.display()
    );
    assert!(text(&out.stderr).contains(&want), "{}", text(&out.stderr));
    // Lenient: the misspelling is read as a new kind and reported by row.
    let out = run("explain", &["--input", s(&pq), "s1", "s3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want = format!(
        "warning: {}: input row 1: field kind: new kind \"devcie\" (did you mean device?)",
        pq.display()
    );
    assert!(text(&out.stderr).contains(&want), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn investigate_runs_with_no_arguments() {
    let out = run("investigate", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Loaded "), "{}", text(&out.stdout));
}

/// `cluster --load S --remove F --expire-before T` removes the named accounts and the old
/// timestamped observations, as a build of what is left gives; a bad list names its line.
#[test]
fn cluster_removes_accounts_and_expires_observations() {
    let d = dir("remove");
    let all = "account,kind,value,timestamp\ns1,device,fp-1,100\ns2,device,fp-1,200\ns3,device,fp-1,5000\ns4,phone,+49 151 12345678,\ns5,phone,+49 151 12345678,\ns2,email,x@example.com,\ns6,email,x@example.com,\n";
    // What is left once s5 is removed and uses before 150 expire: s1 has nothing left.
    let left = "account,kind,value,timestamp\ns2,device,fp-1,200\ns3,device,fp-1,5000\ns4,phone,+49 151 12345678,\ns2,email,x@example.com,\ns6,email,x@example.com,\n";
    std::fs::write(d.join("all.csv"), all).unwrap();
    std::fs::write(d.join("left.csv"), left).unwrap();
    std::fs::write(d.join("closed.csv"), "note,account\nchargeback, s5 \nunknown,nobody\n").unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let o = run("cluster", &["--input", &p("all.csv"), "--output", &p("o.csv"), "--save", &p("s.snap")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(
        "cluster",
        &[
            "--load",
            &p("s.snap"),
            "--remove",
            &p("closed.csv"),
            "--expire-before",
            "150",
            "--output",
            &p("u.csv"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("\"removed_accounts\":2"), "{}", text(&o.stdout));
    let o = run("cluster", &["--input", &p("left.csv"), "--output", &p("b.csv")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let updated = std::fs::read_to_string(p("u.csv")).unwrap();
    assert_eq!(updated, std::fs::read_to_string(p("b.csv")).unwrap());
    assert!(!updated.contains("s1,") && !updated.contains("s5,") && updated.contains("s6,"), "{updated}");

    // An empty name is an error naming the file and line; --remove needs --load.
    std::fs::write(d.join("bad.csv"), "account\ns5\n\" \"\n").unwrap();
    let o = run("cluster", &["--load", &p("s.snap"), "--remove", &p("bad.csv"), "--output", &p("x.csv")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("bad.csv:3: field account: empty account"), "{}", text(&o.stderr));
    let o =
        run("cluster", &["--input", &p("all.csv"), "--remove", &p("closed.csv"), "--output", &p("x.csv")]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&d);
}
