//! Arbitrary bytes, if UTF-8, through every built-in `Normalizer`: an accepted value's canonical
//! form is non-empty and idempotent.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The checks live in the crate's replay test, so that `cargo test` replays the corpus through
// exactly the code fuzzed here.
#[path = "../../tests/fuzz_replay.rs"]
#[allow(dead_code)]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_normalize(data));
