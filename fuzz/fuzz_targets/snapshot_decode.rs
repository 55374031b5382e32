//! Arbitrary bytes through `snapshot::load` (what loads must save and load again with the same
//! clustering); input not starting with the magic label is also applied as (offset, xor)
//! mutations to a small valid snapshot, checksum resealed, so the payload validators are reached.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live in the crate's replay test, so that `cargo test` replays the corpus through
// exactly the code fuzzed here.
#[path = "../../tests/fuzz_replay.rs"]
#[allow(dead_code)]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_snapshot(data));
