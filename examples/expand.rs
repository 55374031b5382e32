//! `expand`: from confirmed counterfeit storefronts, who else is most likely in the ring?
//!
//! ```text
//! cargo run --release --example expand -- --input OBS.csv|OBS.parquet --seeds SEEDS.txt --top K \
//!     [--strict] [--kind NAME]... [--policy POLICY.json]
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! SEEDS.txt holds one account per line (blank lines and `#` comments are skipped; a leading
//! byte-order mark is dropped, and lines may end in LF, CRLF or CR). Prints
//! `account,score,nearest_seed,path_length` as CSV (quoted where a name needs it) for the top K
//! accounts (at least 1), best first: the score is
//! the personalised PageRank mass from the seeds over the account ↔ artifact graph (hubs
//! damped), and the path is the evidence chain to the nearest seed (0 when none was found).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use sellerlink::expand::Expand;

#[derive(Parser, Debug)]
#[command(about = "Rank accounts by association with confirmed seed accounts")]
struct Args {
    #[command(flatten)]
    input: common::InputArgs,
    /// One seed account per line.
    #[arg(long)]
    seeds: PathBuf,
    /// How many accounts to print (at least 1).
    #[arg(long, default_value_t = 20, value_parser = common::check::at_least_one)]
    top: usize,
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);

    // Read the seeds; an unknown seed is an error (a typo would silently weaken the ranking).
    let text = std::fs::read_to_string(&args.seeds)
        .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.seeds.display())));
    let mut seeds = Vec::new();
    for (line, text) in common::check::numbered_lines(&text) {
        let name = text.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        match index.account(name) {
            Some(a) => seeds.push(a),
            None => common::fail(common::check::place(
                &args.seeds,
                line,
                Some("account"),
                format_args!("unknown account {name:?}"),
            )),
        }
    }
    if seeds.is_empty() {
        common::fail(format!("{}: no seed accounts", args.seeds.display()));
    }

    // Rank, and print one CSV row per account, best first.
    let started = Instant::now();
    let ranked = Expand::new().top(args.top).run(&index, &seeds);
    eprintln!(
        "ranked {} accounts from {} seeds in {:.1} ms",
        ranked.len(),
        seeds.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    let rows = std::iter::once(["account", "score", "nearest_seed", "path_length"].map(String::from)).chain(
        ranked.iter().map(|r| {
            let seed = r.nearest_seed.map(|s| index.account_name(s)).unwrap_or("");
            [
                index.account_name(r.account).to_string(),
                format!("{:.6e}", r.score),
                seed.to_string(),
                r.path.len().to_string(),
            ]
        }),
    );
    for row in rows {
        out.write_record(&row).unwrap_or_else(|e| common::fail(format!("stdout: {e}")));
    }
    out.flush().unwrap_or_else(|e| common::fail(format!("stdout: {e}")));
}
