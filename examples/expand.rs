//! `expand`: from confirmed counterfeit storefronts, who else is most likely in the ring?
//!
//! ```text
//! cargo run --release --example expand -- --input OBS.csv --seeds SEEDS.txt --top K
//! ```
//!
//! SEEDS.txt holds one account per line (blank lines and `#` comments are skipped). Prints
//! `account,score,nearest_seed,path_length` for the top K accounts, best first: the score is
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
    /// Observations CSV: account,kind,value[,timestamp].
    #[arg(long)]
    input: PathBuf,
    /// One seed account per line.
    #[arg(long)]
    seeds: PathBuf,
    /// How many accounts to print.
    #[arg(long, default_value_t = 20)]
    top: usize,
}

fn main() {
    let args = Args::parse();
    let index = common::build_index(&args.input);

    // Read the seeds; an unknown seed is an error (a typo would silently weaken the ranking).
    let text = std::fs::read_to_string(&args.seeds)
        .unwrap_or_else(|e| common::fail(format!("{}: {e}", args.seeds.display())));
    let mut seeds = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        match index.account(name) {
            Some(a) => seeds.push(a),
            None => common::fail(format!("{}:{}: unknown account {name:?}", args.seeds.display(), i + 1)),
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
    println!("account,score,nearest_seed,path_length");
    for r in &ranked {
        let seed = r.nearest_seed.map(|s| index.account_name(s)).unwrap_or("");
        println!("{},{:.6e},{},{}", index.account_name(r.account), r.score, seed, r.path.len());
    }
}
