//! `investigate`: a guided tour of sellerlink on the sample marketplace that ships in `data/`.
//!
//! ```text
//! cargo run --release --example investigate [-- --input OBS.csv|OBS.parquet --top 5 \
//!     --strict --kind NAME --policy POLICY.json]
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! Read it top to bottom: it loads observations, links storefronts under the default policy,
//! detects operators, and prints the largest suspected rings with the evidence that holds each
//! together, then the hubs that were suppressed because they would have linked strangers.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sellerlink::policy::Strength;
use sellerlink::report::{KindEvidence, RingReport};
use sellerlink::{Index, IndexBuilder};

#[derive(Parser, Debug)]
#[command(about = "Tour: the largest suspected rings in a marketplace, with their evidence")]
struct Args {
    /// Observations, CSV or Parquet (by the extension .parquet): account,kind,value[,timestamp].
    #[arg(long, default_value = "data/sample.csv")]
    input: PathBuf,
    #[command(flatten)]
    read: common::ReadArgs,
    /// How many rings to report (at least 1).
    #[arg(long, default_value_t = 5, value_parser = common::check::at_least_one)]
    top: usize,
}

fn main() {
    let args = Args::parse();

    // Step 1. Load observations. Each line says that a storefront used an artifact (a device,
    // a router, an IP, a document, a phone, an email, a payment account, an address) and
    // maybe when. Values are normalised per kind, so `A4-2B-B0-12-34-56` and `a42bb0123456`
    // are one router. Bad lines are skipped and counted, never silently dropped.
    let started = Instant::now();
    let (builder, report, _) =
        common::read_input(&args.input, &args.read, IndexBuilder::new()).unwrap_or_else(|e| common::fail(e));

    // Step 2. Build: link storefronts that share evidence (hubs suppressed, IPs only within a
    // day of each other, weak evidence only when corroborated), then split each linked
    // component into operators with Leiden community detection.
    let index = builder.build().unwrap_or_else(|e| common::fail(e));
    println!(
        "Loaded {} observations ({} rejected) for {} storefronts and {} artifacts in {:.0} ms.",
        report.accepted,
        report.rejected,
        index.account_count(),
        index.artifact_count(),
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "Linking found {} components (largest {}); community detection found {} operators (largest {}).",
        index.components().len(),
        index.components().largest(),
        index.clustering().len(),
        index.clustering().largest()
    );
    println!("{} shared artifacts were set aside: they would have linked strangers.", index.hub_count());

    // Step 3. The evidence, as judged on this data: which kinds link on their own, which need
    // corroboration, and how many shared artifacts each set aside (too many accounts, or
    // accounts that share nothing else: a café PC, a mail drop).
    println!("\nThe evidence as judged on this data:");
    println!(
        "  {:<12} {:<7} {:>7} {:>12} {:>12}  learned",
        "kind", "links", "shared", "set aside", "incoherent"
    );
    for k in KindEvidence::all(&index).into_iter().filter(|k| k.shared > 0) {
        let learned = match &k.learned {
            Some(l) => format!("{:.0}% of its pairs share other evidence", l.corroborated * 100.0),
            None => String::new(),
        };
        let links = if k.strength == Strength::Strong { "alone" } else { "with" };
        let aside = k.set_aside_degree + k.set_aside_incoherent + k.set_aside_legitimate;
        println!(
            "  {:<12} {:<7} {:>7} {:>12} {:>12}  {learned}",
            k.kind, links, k.shared, aside, k.set_aside_incoherent
        );
    }
    println!("  (\"alone\": one shared artifact links; \"with\": it needs evidence of another kind)\n");

    // Step 4. The largest operators are the suspected rings. For each, a report: who is in
    // it, what they share (strongest evidence first), when they were active, and the
    // weakest joint, the one piece of evidence that, if wrong, would split the ring.
    let rings: Vec<_> = index
        .clustering()
        .by_size()
        .into_iter()
        .filter(|&c| index.clustering().size(c) >= 3)
        .take(args.top)
        .collect();
    if rings.is_empty() {
        println!("No operator runs three or more storefronts.");
    }
    for (rank, &ring) in rings.iter().enumerate() {
        print_ring(&index, rank + 1, &RingReport::new(&index, ring));
    }

    // Step 5. What was set aside: shared by too many accounts, or by accounts that share
    // nothing else, to mean anything alone. Such artifacts stay queryable
    // (`index.accounts_of(hub)`), and count in community detection only where the rest of the
    // evidence agrees.
    let mut hubs: Vec<_> = index.hubs().collect();
    hubs.sort_by_key(|h| (std::cmp::Reverse(h.accounts), h.artifact));
    if !hubs.is_empty() {
        println!("Largest artifacts set aside:");
        println!("  {:<12} {:>9}  {:<40} value", "kind", "accounts", "why");
        for h in hubs.iter().take(8) {
            println!(
                "  {:<12} {:>9}  {:<40} {}",
                index.kind_name(h.kind),
                h.accounts,
                h.reason.to_string(),
                index.artifact_value(h.artifact)
            );
        }
    }
}

fn date(t: i64) -> String {
    sellerlink::time::format_rfc3339(t).chars().take(10).collect()
}

fn print_ring(index: &Index, rank: usize, r: &RingReport) {
    let names: Vec<&str> = r.members.iter().map(|&a| index.account_name(a)).collect();
    let shown = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    let more = if names.len() > 8 { format!(" and {} more", names.len() - 8) } else { String::new() };
    // The representative (the smallest member name) names the ring stably across updates.
    let name = index.representative(r.cluster).unwrap_or("?");
    println!("#{rank}  operator {name}  ·  {} storefronts", r.members.len());
    println!("    members     {shown}{more}");
    if let (Some(first), Some(last)) = (r.first_seen, r.last_seen) {
        println!(
            "    active      {} to {} ({:.0} days)",
            date(first),
            date(last),
            (last - first) as f64 / 86_400.0
        );
    }
    if let Some(d) = r.density {
        println!("    density     {:.0}% of member pairs share evidence", d * 100.0);
    }
    if let Some(c) = r.confidence {
        println!("    confidence  {:.2} (how strongly its least-tied storefront is tied: 1 − e^−weight)", c);
    }
    let carried: Vec<String> = r.carried_by.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("    carried by  {}", carried.join(", "));
    println!("    held together by:");
    println!("      {:<12} {:>8} {:>8}  value", "kind", "members", "outside");
    for s in r.shared.iter().take(6) {
        let note = match s.set_aside {
            Some(why) => format!("  (set aside: {why})"),
            None => String::new(),
        };
        println!(
            "      {:<12} {:>8} {:>8}  {}{note}",
            s.kind,
            s.members,
            s.accounts as usize - s.members,
            s.value
        );
    }
    match &r.weakest_joint {
        Some(j) => println!(
            "    weakest joint: {} {} (shared by {} members); without it the ring splits",
            j.kind, j.value, j.members
        ),
        None => println!("    weakest joint: none; no single artifact holds the ring together"),
    }
    println!();
}
