//! `explain`: why two storefronts belong to one operator, or why they do not.
//!
//! ```text
//! cargo run --release --example explain -- --input OBS.csv|OBS.parquet [--strict] \
//!     [--kind NAME]... [--policy POLICY.json] ACCOUNT_A ACCOUNT_B
//! ```
//!
//! `--input` is CSV or Parquet (by the extension `.parquet`); `--strict`, `--kind NAME` and
//! `--policy FILE` mean what they mean for every example that reads observations (see
//! `cluster`): fail on the first bad line, declare a custom kind, build with a saved policy.
//!
//! Prints the chain of evidence between the two accounts, each step naming the shared artifact
//! (kind and value as first written), how many accounts share it, and when each of the two used
//! it. When they are not linked, it prints the nearest chain and marks each step that does not
//! link (a suppressed hub, uses outside the time window, uncorroborated weak evidence), or says
//! that no evidence joins them at all. Exits 0 either way; 2 for bad input or an unknown account.

mod common;

use clap::Parser;
use sellerlink::explain::{Explanation, explain};

#[derive(Parser, Debug)]
#[command(about = "Explain the evidence between two storefront accounts")]
struct Args {
    #[command(flatten)]
    input: common::InputArgs,
    /// The first account.
    a: String,
    /// The second account.
    b: String,
}

fn main() {
    let args = Args::parse();

    // Build the index from the observations, then look both accounts up by name.
    let index = common::build_index(&args.input);
    let a = common::account_or_fail(&index, &args.a);
    let b = common::account_or_fail(&index, &args.b);

    // Ask for the explanation and print it: its text names every step and why it links.
    match explain(&index, a, b) {
        Explanation::Same => println!("{} and {} are the same account.", args.a, args.b),
        Explanation::NotLinked { path: None } => {
            println!("NOT LINKED: {} and {} share no evidence at any distance.", args.a, args.b)
        }
        why => print!("{why}"),
    }
}
