//! The fault suite (issue 9): drift against a hostile or unlucky environment, loopback only, bounded in time.
//! Each module owns one kind of fault; `.ci/run` runs this target with the rest of `cargo test`.
//!
//! | module | what it proves |
//! |---|---|
//! | `answers` | 400 UserError and a missing workspace are exit 2, an unwritable task-values file 6; a foreign cancel Location is not followed |
//! | `identifiers` | bad names and versions from flags and configs stop drift with exit 2 before any request carries them |
//! | `kill` | `kill -9` at every request of both pipelines, then a rerun: converges, no duplicates |
//! | `signals` | SIGTERM/SIGINT at every request: exit 143/130 within seconds, nothing sent after, rerun converges |
//! | `deadlines` | hung, trickling and broken answers at every request: bounded by the timeouts; refreshTimeout is a deadline |
//! | `concurrency` | two runs of each pipeline at once: one data version per Delta version, one job per group, true reports |

#[path = "../common/mod.rs"]
mod common;

mod answers;
mod concurrency;
mod deadlines;
mod identifiers;
mod kill;
mod setup;
mod signals;
