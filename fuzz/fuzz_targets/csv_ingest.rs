//! Arbitrary bytes as a CSV file through `ingest::read_csv`, strict and lenient, then `build()`:
//! never panics, and lenient mode accounts for every record (`records == accepted + rejected`).

#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live in the crate's replay test, so that `cargo test` replays the corpus through
// exactly the code fuzzed here.
#[path = "../../tests/fuzz_replay.rs"]
#[allow(dead_code)]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_csv(data));
