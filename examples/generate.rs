//! Generates a synthetic marketplace as CSV: observations plus ground truth.
//!
//! ```text
//! cargo run --release --example generate -- --accounts 20000 --seed 7 \
//!     --output obs.csv --truth truth.csv [--no-traps] [--ring-share 0.15] \
//!     [--hostile [--hostility 1.0]]
//! ```
//!
//! `--hostile` generates the hostile market (off by default, so the default output never
//! changes): on top of the usual traps, internet-café PCs, co-working routers and addresses,
//! mail drops and SMS-activation numbers each shared by 10–30 strangers (below the default hub
//! caps), ID brokers selling each document to 2–4 rings, households of 2–4 honest sellers
//! sharing a router, IP leases, home address and family PC, and residential IPs re-leased to the
//! next home within hours. Every rate is per account, so the trap density is the same at 20 000
//! or 20 million accounts; `--hostility F` multiplies every rate by `F`. With the default link
//! policy the largest component then holds ≈ 15 % of the accounts at any size (≈ 9 % with
//! `--hostility 0.5`). See the `Hostile` docs in `sellerlink-synth` for the rates.
//!
//! Prints one JSON line with what was written and how long it took, e.g.
//! `{"accounts":20000,"observations":104873,"operators":15840,"rings":281,...}`.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use sellerlink_synth::{Hostile, Marketplace, write_csv};

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Generate a seeded synthetic marketplace (observations + ground truth)")]
struct Args {
    /// Number of storefronts (accounts) to generate.
    #[arg(long, default_value_t = 10_000)]
    accounts: u64,
    /// Seed: the same seed and options always give the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Fraction of accounts run by counterfeit rings (0 to 1).
    #[arg(long, default_value_t = 0.15, value_parser = common::check::share)]
    ring_share: f64,
    /// Leave out the adversarial traps (evasive rings, sold documents, value noise, ...).
    #[arg(long)]
    no_traps: bool,
    /// Generate the hostile market: shared artifacts below the hub caps, ID brokers,
    /// households, re-leased IPs (see the crate docs).
    #[arg(long)]
    hostile: bool,
    /// With --hostile: multiply every hostile rate by this factor (finite, at least 0).
    #[arg(long, default_value_t = 1.0, requires = "hostile", value_parser = common::check::factor)]
    hostility: f64,
    /// With --hostile: leave one trap out (repeatable): cafe-pcs, coworking, mail-drops,
    /// sms-numbers, id-brokers, households, recycled-ips.
    #[arg(long = "without", requires = "hostile", value_parser = ["cafe-pcs", "coworking", "mail-drops", "sms-numbers", "id-brokers", "households", "recycled-ips"])]
    without: Vec<String>,
    /// Observation CSV to write (`account,kind,value,timestamp`).
    #[arg(long)]
    output: PathBuf,
    /// Ground-truth CSV to write (`account,operator,role`).
    #[arg(long)]
    truth: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<String, String> {
    // Describe the world; nothing is generated until the records are pulled.
    let market = Marketplace::new()
        .accounts(args.accounts)
        .seed(args.seed)
        .ring_share(args.ring_share)
        .traps(!args.no_traps);
    let market = if args.hostile { market.hostility(hostility(args)) } else { market };

    // Open both outputs up front so a bad path fails before any work is done: temporary files
    // beside them, renamed over them only when both are written whole (a failure leaves the
    // previous files as they were, and no temporary file).
    let create = |path: &PathBuf| {
        let tmp = sellerlink::fs::TempPath::beside(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = File::create(tmp.path()).map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
        Ok::<_, String>((tmp, BufWriter::with_capacity(1 << 20, file)))
    };
    let (obs_tmp, obs) = create(&args.output)?;
    let (truth_tmp, truth) = create(&args.truth)?;

    // Stream records straight into the two CSV files: memory stays flat however many accounts.
    let start = Instant::now();
    let stats = write_csv(market.records(), obs, truth)
        .map_err(|e| format!("writing {} / {}: {e}", args.output.display(), args.truth.display()))?;
    for (tmp, path) in [(obs_tmp, &args.output), (truth_tmp, &args.truth)] {
        tmp.commit().map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let elapsed = start.elapsed();

    // One JSON line for scripts: counts plus throughput.
    let secs = elapsed.as_secs_f64().max(1e-9);
    Ok(serde_json::json!({
        "accounts": stats.accounts,
        "observations": stats.observations,
        "operators": stats.operators,
        "rings": stats.rings,
        "evasive_rings": stats.evasive_rings,
        "seed": args.seed,
        "traps": !args.no_traps,
        "hostile": args.hostile.then_some(args.hostility),
        "without": args.without,
        "elapsed_ms": elapsed.as_millis() as u64,
        "records_per_sec": (stats.observations as f64 / secs).round() as u64,
    })
    .to_string())
}

/// The hostile rates the flags ask for.
fn hostility(args: &Args) -> Hostile {
    let mut h = Hostile::default().scaled(args.hostility);
    for trap in &args.without {
        let rate = match trap.as_str() {
            "cafe-pcs" => &mut h.cafe_pcs,
            "coworking" => &mut h.coworking,
            "mail-drops" => &mut h.mail_drops,
            "sms-numbers" => &mut h.sms_numbers,
            "id-brokers" => &mut h.id_brokers,
            "households" => &mut h.households,
            _ => &mut h.recycled_ips,
        };
        *rate = 0.0;
    }
    h
}
