//! Two `sellerlink-dist` processes on loopback give the partition of one library build.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Command;

use sellerlink::{IndexBuilder, Level, shard};

/// A free port on loopback (bound, then released for the process to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn partition(rows: impl IntoIterator<Item = (String, String)>) -> BTreeSet<BTreeSet<String>> {
    let mut by_label: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (account, label) in rows {
        by_label.entry(label).or_default().insert(account);
    }
    by_label.into_values().collect()
}

/// A small market: rings sharing devices and payment accounts, café PCs, an IP used by everyone
/// (a hub under the test's ceiling of 100), and a batch that joins two rings through a shared
/// phone. After it, an epoch removes two accounts (one of them the phone's), and one expires
/// the IP uses of the first ten hours.
fn market() -> (String, String) {
    let mut first = String::from("account,kind,value,timestamp\n");
    for ring in 0..30 {
        for s in 0..5 {
            let a = format!("r{ring:02}s{s}");
            first += &format!("{a},device,dev-{ring}-{},\n", s / 2);
            first += &format!("{a},payment,DE89370400440532{ring:06},{}\n", 1_700_000_000 + s * 60);
            first += &format!("{a},ip,10.1.1.1,{}\n", 1_700_000_000 + ring * 3600);
            if s == 0 {
                first += &format!("{a},device,cafe-pc-{},\n", ring % 7);
            }
            first += &format!("{a},shoe_size,{ring}-{},\n", s % 2);
        }
    }
    let batch = "account,kind,value,timestamp\nr00s1,phone,+49 151 12345678,\nr01s1,phone,+49 151 12345678,\nr01s2,phone,+49 151 12345678,\nnew1,device,dev-5-0,\n".to_string();
    (first, batch)
}

#[test]
fn two_processes_on_loopback() {
    let dir = std::env::temp_dir().join(format!("sellerlink-dist-procs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (first, batch) = market();
    let input = dir.join("obs.csv");
    let more = dir.join("batch.csv");
    std::fs::write(&input, &first).unwrap();
    std::fs::write(&more, &batch).unwrap();
    let removed = dir.join("closed.csv");
    std::fs::write(&removed, "closed_on,account\n2026-12-01,r01s1\n2026-12-01, r02s0 \n").unwrap();
    let cutoff = 1_700_000_000 + 10 * 3600;
    let policy = sellerlink::policy::LinkPolicy::new().ceiling(100);
    let policy_file = dir.join("policy.json");
    std::fs::write(&policy_file, serde_json::to_string(&policy).unwrap()).unwrap();
    for level in [Level::Components, Level::Operators] {
        let hosts = dir.join("hosts.txt");
        let mut f = std::fs::File::create(&hosts).unwrap();
        writeln!(f, "127.0.0.1:{}\n127.0.0.1:{}", free_port(), free_port()).unwrap();
        let out = dir.join(format!("out-{level:?}"));
        let level_arg = if level == Level::Components { "components" } else { "operators" };
        let children: Vec<_> = (0..2)
            .map(|p| {
                Command::new(env!("CARGO_BIN_EXE_sellerlink-dist"))
                    .args(["--input", input.to_str().unwrap(), "--output", out.to_str().unwrap()])
                    .args(["--batch", more.to_str().unwrap(), "--level", level_arg])
                    .args(["--remove", removed.to_str().unwrap(), "--expire-before", &cutoff.to_string()])
                    .args(["--policy", policy_file.to_str().unwrap()])
                    .args(if level == Level::Operators { &["--cut-incoherent"][..] } else { &[][..] })
                    .args(["-w", "1", "-n", "2", "-p", &p.to_string(), "-h", hosts.to_str().unwrap()])
                    .output_spawn()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        }
        let mut rows = Vec::new();
        let mut per_part = Vec::new();
        for p in 0..2 {
            let text = std::fs::read_to_string(out.join(format!("part-{p}.csv"))).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some("account,cluster"));
            let part: Vec<(String, String)> = lines
                .map(|l| {
                    let (a, c) = l.split_once(',').unwrap();
                    (a.to_string(), c.to_string())
                })
                .collect();
            per_part.push(part.len());
            rows.extend(part);
        }
        assert!(per_part.iter().all(|&n| n > 0), "each process owns some accounts: {per_part:?}");
        let accounts: BTreeSet<&String> = rows.iter().map(|(a, _)| a).collect();
        assert_eq!(accounts.len(), rows.len(), "an account in two parts");

        // The library: one build of the input, the batch, the removals and the expiry as
        // updates.
        let mut b = IndexBuilder::new().policy(policy.clone());
        if level == Level::Components {
            b = b.operators(None);
        }
        sellerlink::ingest::read_csv(
            first.as_bytes(),
            "obs.csv",
            &sellerlink::ingest::CsvOptions::lenient(),
            &mut b,
        )
        .unwrap();
        let index = b.build().unwrap();
        let mut u = index.updater();
        u.read_csv(batch.as_bytes(), "batch.csv", &sellerlink::ingest::CsvOptions::lenient()).unwrap();
        let index = u.finish().unwrap().0;
        let mut u = index.updater();
        assert!(u.remove_account("r01s1") && u.remove_account("r02s0"));
        let index = u.finish().unwrap().0;
        let mut u = index.updater();
        u.expire_before(cutoff);
        let index = u.finish().unwrap().0;
        assert!(index.account("r01s1").is_none() && index.account("r01s2").is_some());
        assert_eq!(partition(rows), partition(shard::labels(&index, level)), "{level:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `Command::spawn` with its output captured.
trait OutputSpawn {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl OutputSpawn for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    }
}
