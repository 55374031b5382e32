//! `explain`: why two storefronts belong to one operator, or why they do not.
//!
//! ```text
//! cargo run --release --example explain -- --input OBS.csv ACCOUNT_A ACCOUNT_B
//! ```
//!
//! Prints the chain of evidence between the two accounts, each step naming the shared artifact
//! (kind and value as first written), how many accounts share it, and when each of the two used
//! it. When they are not linked, it prints the nearest chain and marks each step that does not
//! link (a suppressed hub, uses outside the time window, uncorroborated weak evidence), or says
//! that no evidence joins them at all. Exits 0 either way; 2 for bad input or an unknown account.

mod common;

use std::path::PathBuf;

use clap::Parser;
use sellerlink::Index;
use sellerlink::explain::{Explanation, Step, explain};

#[derive(Parser, Debug)]
#[command(about = "Explain the evidence between two storefront accounts")]
struct Args {
    /// Observations CSV: account,kind,value[,timestamp].
    #[arg(long)]
    input: PathBuf,
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

    // Ask for the explanation and print it step by step.
    match explain(&index, a, b) {
        Explanation::Same => println!("{} and {} are the same account.", args.a, args.b),
        Explanation::Linked { path, operators } => {
            println!("LINKED: {} and {} are joined by {} step(s) of evidence:", args.a, args.b, path.len());
            print_path(&index, &path);
            match operators {
                Some((x, y)) if x == y => println!("Community detection puts both in operator {x}."),
                Some((x, y)) => println!(
                    "Community detection splits them: {} is in operator {x}, {} in operator {y} (the chain is thin).",
                    args.a, args.b
                ),
                None => {}
            }
        }
        why @ Explanation::NotLinked { .. } => {
            let Explanation::NotLinked { path } = &why else { return };
            match path {
                None => println!("NOT LINKED: {} and {} share no evidence at any distance.", args.a, args.b),
                Some(path) => {
                    let reasons: Vec<&str> = why.reasons().iter().map(|r| r.describe()).collect();
                    println!(
                        "NOT LINKED: {} and {} connect only through {}.",
                        args.a,
                        args.b,
                        reasons.join(" and ")
                    );
                    println!("The nearest chain, with the steps that do not link marked:");
                    print_path(&index, path);
                }
            }
        }
        _ => {}
    }
}

fn times(ts: &[i64]) -> String {
    match ts {
        [] => "untimed".to_string(),
        [t] => common::rfc3339(*t),
        [first, .., last] => {
            format!("{} … {} ({} uses)", common::rfc3339(*first), common::rfc3339(*last), ts.len())
        }
    }
}

fn print_path(index: &Index, path: &[Step]) {
    for (i, s) in path.iter().enumerate() {
        let mark = match s.blocked {
            Some(b) => format!("  ✗ {}", b.describe()),
            None => String::new(),
        };
        println!(
            "  {}. {}  —{}: {}—  {}{mark}",
            i + 1,
            index.account_name(s.from),
            s.kind,
            s.value,
            index.account_name(s.to)
        );
        println!(
            "       shared by {} account(s); {} used it {}; {} used it {}",
            s.accounts,
            index.account_name(s.from),
            times(&s.from_times),
            index.account_name(s.to),
            times(&s.to_times)
        );
        if s.group_corroborated {
            println!("       corroborated as a group: most of its accounts are tied by other evidence");
        }
        if !s.corroborated_by.is_empty() {
            let c: Vec<String> = s
                .corroborated_by
                .iter()
                .map(|&f| {
                    format!("{} {}", index.kind_name(index.artifact_kind(f)), index.artifact_first_written(f))
                })
                .collect();
            println!("       corroborated by: {}", c.join(", "));
        }
    }
}
