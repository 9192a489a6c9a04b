//! File-level cases through `load_local`/`read_local`: fixtures for each kind of bad file, a generated 10 MB
//! file, a directory, a missing path, unreadable files and unbounded streams, plus the shipped examples.

use super::fixture;
use crate::config::{ConfigError, MAX_CONFIG_BYTES, PipelineKind, load_local, read_local};

fn load(name: &str) -> Result<crate::config::Config, ConfigError> {
    load_local(fixture(name).to_str().unwrap())
}

/// (fixture, words the message must contain). Every one is a file-level error (no key path).
#[test]
fn bad_fixture_files() {
    let cases: &[(&str, &[&str])] = &[
        ("empty.yaml", &["the file is empty"]),
        ("only_comments.yaml", &["only comments"]),
        ("top_level_list.yaml", &["top level must be a mapping", "found a list"]),
        (
            "latin1.yaml",
            &["not valid UTF-8", "invalid byte 0xE4 at byte offset 101 (line 5, column 39)", "save it as UTF-8"],
        ),
        ("utf16.yaml", &["UTF-16", "save it as UTF-8"]),
        ("tab_indented.yaml", &["invalid YAML at line 2", "tab"]),
        ("two_documents.yaml", &["more than one YAML document"]),
        ("alias_bomb.yaml", &["too complex", "anchors and aliases expand too much"]),
        (
            "missing_space_after_colon.yaml",
            &["invalid YAML at line 10, column 5", "`containerName:<container_name>` is missing a space after ':'?"],
        ),
    ];
    for (name, words) in cases {
        let err = load(name).unwrap_err();
        println!("{err}");
        assert_eq!(err.key, None, "{err}");
        assert!(err.file.ends_with(name));
        for word in *words {
            assert!(err.message.contains(word), "{err}\nlacks {word:?}");
        }
    }
}

#[test]
fn duplicate_key_fixture_names_the_key() {
    let err = load("duplicate_keys.yaml").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("Processing.parameters.containerName"));
    assert!(err.message.contains("duplicate key (lines 9 and 11)"), "{err}");
}

#[test]
fn legacy_fixtures_and_bom_parse() {
    assert_eq!(load("legacy_registrator.yaml").unwrap().params.kind(), PipelineKind::Registrator);
    assert_eq!(load("legacy_retrainer.yaml").unwrap().params.kind(), PipelineKind::Retrainer);
    assert_eq!(load("bom.yaml").unwrap().params.kind(), PipelineKind::Registrator);
}

#[test]
fn shipped_examples_parse_without_warnings() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (name, kind) in [("registrator.yaml", PipelineKind::Registrator), ("retrainer.yaml", PipelineKind::Retrainer)] {
        let config = load_local(root.join(name).to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.params.kind(), kind);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }
}

#[test]
fn missing_file_and_directory() {
    let missing = fixture("does-not-exist.yaml");
    let err = load_local(missing.to_str().unwrap()).unwrap_err();
    println!("{err}");
    assert_eq!(err.key, None);
    assert!(err.message.contains("file not found"), "{err}");

    let err = load_local("dbfs:/drift-tests/none/config.yaml").unwrap_err();
    println!("{err}");
    assert!(err.message.contains("file not found (read from /dbfs/drift-tests/none/config.yaml)"), "{err}");
    assert!(err.message.contains("only on a cluster"), "{err}");

    let dir = fixture("");
    let err = load_local(dir.to_str().unwrap()).unwrap_err();
    println!("{err}");
    assert!(err.message.contains("this is a directory, expected a YAML file"), "{err}");
}

#[test]
fn ten_megabyte_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let file = std::fs::File::create(&path).unwrap();
    // A sparse 10 MB file: the size check must come from the metadata, not from reading it.
    file.set_len(10 * 1024 * 1024).unwrap();
    let err = load_local(path.to_str().unwrap()).unwrap_err();
    println!("{err}");
    assert_eq!(err.key, None);
    assert!(err.message.contains("the file is 10485760 bytes, larger than the 1048576 bytes (1 MiB)"), "{err}");

    // Exactly at the limit is read (and then fails as YAML, which proves it was read).
    let at_limit = dir.path().join("limit.yaml");
    std::fs::write(&at_limit, vec![b'#'; MAX_CONFIG_BYTES as usize]).unwrap();
    assert_eq!(read_local("limit.yaml", &at_limit).unwrap().len() as u64, MAX_CONFIG_BYTES);
}

#[cfg(unix)]
#[test]
fn endless_stream_is_bounded() {
    // Not a regular file: no size in the metadata, so the bounded read is what stops it.
    let err = read_local("/dev/zero", std::path::Path::new("/dev/zero")).unwrap_err();
    println!("{err}");
    assert!(err.message.contains("the input is larger than the 1048576 bytes"), "{err}");
}

#[cfg(unix)]
#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.yaml");
    std::fs::write(&path, "Processing: {}\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        // Running as root: permissions do not apply, nothing to test.
        return;
    }
    let err = load_local(path.to_str().unwrap()).unwrap_err();
    println!("{err}");
    assert!(err.message.contains("permission denied"), "{err}");
}
