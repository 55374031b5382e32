//! Differential: a build followed by updates (additions, removals, expiry, snapshot round
//! trips) against one build from the surviving observations; the clusterings must agree.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live in the crate's replay test, so that `cargo test` replays the corpus through
// exactly the code fuzzed here.
#[path = "../../tests/fuzz_replay.rs"]
#[allow(dead_code)]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_update(data));
