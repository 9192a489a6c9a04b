//! The fault suite (issue 9): drift against a hostile or unlucky environment, loopback only, bounded in time.
//! Each module owns one kind of fault; `.ci/run` runs this target with the rest of `cargo test`.
//!
//! | module | what it proves |
//! |---|---|
//! | `identifiers` | bad names and versions from flags and configs stop drift with exit 2 before any request carries them |

#[path = "../common/mod.rs"]
mod common;

mod identifiers;
