//! `service`: sellerlink embedded in a long-running service, without the HTTP.
//!
//! ```text
//! cargo run --release --example service -- [--input OBS.csv] [--days N] [--readers R] [--snapshot PATH]
//! ```
//!
//! The pattern of the README's "Use it in a service": the index is built once (or loaded from
//! its snapshot on a restart), shared through an [`arc_swap::ArcSwap`], and replaced whole by
//! each daily update while reader threads keep answering lookups from whichever index is
//! current. A reader never waits for an update and never sees a half-applied one.
//!
//! To have daily batches from one file, the observations of the last `--days` days (by
//! timestamp; untimed observations belong to the base) are held back and applied one day at a
//! time, in an in-process loop. Each update prints its change set; at the end the readers report
//! how many lookups they served and which index generations they saw.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use clap::Parser;
use sellerlink::ingest::CsvOptions;
use sellerlink::{Index, IndexBuilder};

#[derive(Parser, Debug)]
#[command(about = "Apply daily batches to a shared index while threads serve lookups")]
struct Args {
    /// Observations CSV: account,kind,value[,timestamp].
    #[arg(long, default_value = "data/sample.csv")]
    input: PathBuf,
    /// How many trailing days of observations to apply as daily updates.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Reader threads serving lookups during the updates.
    #[arg(long, default_value_t = 3)]
    readers: usize,
    /// Where the service keeps its snapshot (default: a file in the temp directory).
    #[arg(long)]
    snapshot: Option<PathBuf>,
}

/// One generation of the served index.
struct Served {
    index: Index,
    generation: u32,
}

fn main() {
    let args = Args::parse();
    let (base, days) = split_by_day(&args.input, args.days);
    let snapshot = args.snapshot.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sellerlink-service-{}.snapshot", std::process::id()))
    });

    // 1. Start: build from the base observations (a restart would load the snapshot instead).
    let t = Instant::now();
    let mut builder = IndexBuilder::new();
    let report =
        sellerlink::ingest::read_csv(base.as_bytes(), &args.input, &CsvOptions::lenient(), &mut builder)
            .unwrap_or_else(|e| fail(e));
    let index = builder.build().unwrap_or_else(|e| fail(e));
    println!(
        "built generation 0: {} accounts, {} operators from {} observations in {:.0} ms",
        index.account_count(),
        index.clustering().len(),
        report.accepted,
        t.elapsed().as_secs_f64() * 1e3
    );
    sellerlink::snapshot::save_path(&index, &snapshot).unwrap_or_else(|e| fail(e));
    let names: Arc<Vec<String>> =
        Arc::new(index.accounts_by_name().map(|a| index.account_name(a).to_string()).collect());
    let shared = Arc::new(ArcSwap::from_pointee(Served { index, generation: 0 }));

    // 2. Readers: lookups against whatever index is current, never blocked by an update.
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..args.readers)
        .map(|r| {
            let (shared, stop, served, names) = (shared.clone(), stop.clone(), served.clone(), names.clone());
            std::thread::spawn(move || {
                let mut seen = BTreeMap::<u32, u64>::new();
                let mut i = r * 7919;
                while !stop.load(Ordering::Relaxed) {
                    // One consistent generation for the whole request.
                    let current = shared.load();
                    let name = &names[i % names.len()];
                    if let Some(a) = current.index.account(name) {
                        let mates = current.index.cluster_mates(a);
                        std::hint::black_box(mates.len());
                    }
                    *seen.entry(current.generation).or_insert(0) += 1;
                    served.fetch_add(1, Ordering::Relaxed);
                    i = i.wrapping_add(104_729);
                }
                seen
            })
        })
        .collect();

    // 3. The daily loop: update from the current index, print the change set, swap.
    for (day, batch) in days.iter().enumerate() {
        std::thread::sleep(Duration::from_millis(50)); // the readers serve the old index meanwhile
        let t = Instant::now();
        let current = shared.load_full();
        let mut updater = current.index.updater();
        let name = format!("day-{}.csv", batch.0);
        let report =
            updater.read_csv(batch.1.as_bytes(), &name, &CsvOptions::lenient()).unwrap_or_else(|e| fail(e));
        let (next, changes) = updater.finish().unwrap_or_else(|e| fail(e));
        let took = t.elapsed();
        let generation = current.generation + 1;
        println!(
            "\n{name}: {} observations -> generation {generation}: {} accounts, {} operators ({:.0} ms)",
            report.accepted,
            next.account_count(),
            next.clustering().len(),
            took.as_secs_f64() * 1e3
        );
        println!(
            "  change set: {} appeared, {} merged, {} split, {} joined; {} accounts relinked, {} components recomputed, {} kept",
            changes.appeared.len(),
            changes.merged.len(),
            changes.split.len(),
            changes.joined.len(),
            changes.relinked_accounts,
            changes.recomputed_components,
            changes.kept_components
        );
        for r in changes.appeared.iter().take(3) {
            println!("  appeared: a new ring around {r}");
        }
        for (new, old) in changes.merged.iter().take(3) {
            println!("  merged:   {} -> {new}", old.join(" + "));
        }
        for (old, new) in changes.split.iter().take(3) {
            println!("  split:    {old} -> {}", new.join(" | "));
        }
        for j in changes.joined.iter().take(3) {
            let by = j.evidence.as_ref().map_or(String::new(), |s| format!(" by {} {}", s.kind, s.value));
            println!("  joined:   {} joined the ring of {}{by}", j.account, j.cluster);
        }
        // Keep the snapshot current (a restart loads it), then publish: one atomic pointer swap.
        sellerlink::snapshot::save_path(&next, &snapshot).unwrap_or_else(|e| fail(e));
        shared.store(Arc::new(Served { index: next, generation }));
        let _ = day;
    }

    // 4. A restart: the snapshot holds the last generation.
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    let mut by_generation = BTreeMap::<u32, u64>::new();
    for r in readers {
        for (g, n) in r.join().unwrap_or_default() {
            *by_generation.entry(g).or_insert(0) += n;
        }
    }
    let t = Instant::now();
    let restarted = sellerlink::snapshot::load_path(&snapshot).unwrap_or_else(|e| fail(e));
    let last = shared.load();
    assert_eq!(restarted.clustering().len(), last.index.clustering().len());
    println!(
        "\nreaders served {} lookups during {} updates, by generation: {by_generation:?}",
        served.load(Ordering::Relaxed),
        days.len()
    );
    println!(
        "restart: the snapshot ({} bytes) loads in {:.0} ms with the last generation's {} operators",
        std::fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0),
        t.elapsed().as_secs_f64() * 1e3,
        restarted.clustering().len()
    );
    if args.snapshot.is_none() {
        let _ = std::fs::remove_file(&snapshot);
    }
}

/// The CSV's rows as a base (header included) and one CSV text per trailing day, oldest first.
fn split_by_day(path: &PathBuf, days: u32) -> (String, Vec<(String, String)>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let headers = reader.headers().unwrap_or_else(|e| fail(format!("{}: {e}", path.display()))).clone();
    let time_col = headers.iter().position(|h| h.trim().eq_ignore_ascii_case("timestamp"));
    let rows: Vec<csv::StringRecord> =
        reader.records().map(|r| r.unwrap_or_else(|e| fail(format!("{}: {e}", path.display())))).collect();
    let day_of = |r: &csv::StringRecord| {
        time_col
            .and_then(|i| r.get(i))
            .and_then(|t| sellerlink::time::parse_timestamp(t).ok())
            .map(|t| t.div_euclid(86_400))
    };
    let last = rows.iter().filter_map(day_of).max().unwrap_or(0);
    let first_update = last - i64::from(days) + 1;
    let write = |rows: &[&csv::StringRecord]| {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&headers);
        for r in rows {
            let _ = w.write_record(*r);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    };
    let base: Vec<&csv::StringRecord> =
        rows.iter().filter(|r| day_of(r).is_none_or(|d| d < first_update)).collect();
    let batches = (first_update..=last)
        .map(|d| {
            let day: Vec<&csv::StringRecord> = rows.iter().filter(|r| day_of(r) == Some(d)).collect();
            (sellerlink::time::format_rfc3339(d * 86_400)[..10].to_string(), write(&day))
        })
        .collect();
    (write(&base), batches)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}
