//! Build metadata for `drift version` and the man page: the git commit (and its date), the build date and the
//! target triple, handed to the crate as `DRIFT_BUILD_*` variables read with `env!` (src/version.rs). Nothing here
//! touches the network, and every value degrades to "unknown" rather than failing the build, because drift is also
//! built where there is no git: from a source tarball, in a wheel's sdist, in a container without git installed.
//!
//! - Commit: `DRIFT_GIT_COMMIT` when set (a packager building from a tarball knows it), else `git rev-parse HEAD`,
//!   but only when the git work tree's top is this crate's directory: a tarball unpacked inside some other
//!   repository must not report that repository's commit. Uncommitted changes are not marked: telling would mean
//!   rerunning this script, and so recompiling the crate, on every edit of any file.
//! - Build date: `SOURCE_DATE_EPOCH` when set, else the clock. SOURCE_DATE_EPOCH is the reproducible-builds
//!   convention (https://reproducible-builds.org/docs/source-date-epoch/): tools use it instead of the current time
//!   so that two builds of the same source produce the same bytes; release scripts should set it (to the commit's
//!   date, `git log -1 --format=%ct`).
//! - Target: cargo's `TARGET`.
//!
//! The script reruns when HEAD or the branch it points to moves, or when those variables change; not on every
//! source edit (which would rebuild the crate for a README change).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["DRIFT_GIT_COMMIT", "SOURCE_DATE_EPOCH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let in_git = git(&manifest_dir, &["rev-parse", "--show-toplevel"])
        .is_some_and(|top| same_dir(Path::new(&top), &manifest_dir));
    if in_git {
        watch_head(&manifest_dir);
    }

    let commit = non_empty(std::env::var("DRIFT_GIT_COMMIT").ok())
        .or_else(|| if in_git { git(&manifest_dir, &["rev-parse", "HEAD"]) } else { None });
    // The commit's own date, when the commit is the checked-out one (an override may name any commit).
    let commit_epoch = match (&commit, in_git) {
        (Some(c), true) => git(&manifest_dir, &["log", "-1", "--format=%ct", c]),
        _ => None,
    };
    let build_epoch = non_empty(std::env::var("SOURCE_DATE_EPOCH").ok())
        .filter(|v| v.parse::<i64>().is_ok())
        .or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs().to_string()));

    // Empty means unknown; src/version.rs says so in words.
    println!("cargo:rustc-env=DRIFT_BUILD_GIT_COMMIT={}", commit.unwrap_or_default());
    println!("cargo:rustc-env=DRIFT_BUILD_GIT_EPOCH={}", commit_epoch.unwrap_or_default());
    println!("cargo:rustc-env=DRIFT_BUILD_EPOCH={}", build_epoch.unwrap_or_default());
    println!("cargo:rustc-env=DRIFT_BUILD_TARGET={}", std::env::var("TARGET").unwrap_or_default());
}

/// Reruns this script when HEAD moves: HEAD itself (a checkout, a detached commit), the branch file it names (a
/// commit) and packed-refs (where that branch lives after `git gc`). Only existing files are named, because cargo
/// reruns a script on every build when a named file is missing.
fn watch_head(dir: &Path) {
    let mut files = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(branch);
    }
    for file in files {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &file]) {
            let path = dir.join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}

/// One git command's trimmed output, or None if git is missing or the command fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    non_empty(String::from_utf8(out.stdout).ok().map(|s| s.trim().to_string()))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}
