//! nbtls's fuzz targets as a library: the binaries under fuzz_targets/ call into it, and
//! tests/fuzz_replay.rs in the main crate includes the same `targets.rs`.
pub mod targets;
