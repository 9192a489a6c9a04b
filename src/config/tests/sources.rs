//! Config locations: local and Databricks paths, `dbfs:` mapping, `abfss://` URLs and the rejected forms.

use std::path::PathBuf;

use crate::config::{ConfigSource, load_local};

fn local(p: &str) -> ConfigSource {
    ConfigSource::Local(PathBuf::from(p))
}

#[test]
fn locations() {
    let abfss = |account: &str, container: &str, path: &str, suffix: &str| ConfigSource::Abfss {
        account: account.into(),
        container: container.into(),
        path: path.into(),
        endpoint_suffix: suffix.into(),
    };
    let cases = [
        ("config.yaml", local("config.yaml")),
        ("./conf/registrator.yaml", local("./conf/registrator.yaml")),
        ("C:\\drift\\config.yaml", local("C:\\drift\\config.yaml")),
        ("/dbfs/configs/x.yaml", local("/dbfs/configs/x.yaml")),
        ("/Volumes/main/mlops/configs/x.yaml", local("/Volumes/main/mlops/configs/x.yaml")),
        ("/Workspace/Users/a@b.c/x.yaml", local("/Workspace/Users/a@b.c/x.yaml")),
        ("dbfs:/configs/x.yaml", local("/dbfs/configs/x.yaml")),
        ("dbfs:///configs/x.yaml", local("/dbfs/configs/x.yaml")),
        ("DBFS:/configs/x.yaml", local("/dbfs/configs/x.yaml")),
        ("dbfs:/Volumes/main/mlops/x.yaml", local("/Volumes/main/mlops/x.yaml")),
        ("file:///etc/drift/x.yaml", local("/etc/drift/x.yaml")),
        (
            "abfss://configs@datalakeprod01.dfs.core.windows.net/drift/registrator.yaml",
            abfss("datalakeprod01", "configs", "drift/registrator.yaml", "core.windows.net"),
        ),
        (
            "abfss://configs@lake01.dfs.core.chinacloudapi.cn/x.yaml",
            abfss("lake01", "configs", "x.yaml", "core.chinacloudapi.cn"),
        ),
    ];
    for (origin, want) in cases {
        assert_eq!(ConfigSource::parse(origin).unwrap(), want, "{origin}");
    }
}

#[test]
fn rejected_locations() {
    let cases: &[(&str, &[&str])] = &[
        ("", &["empty", "--config"]),
        ("dbfs:", &["dbfs:/path/to/config.yaml"]),
        ("dbfs:/", &["dbfs:/path/to/config.yaml"]),
        ("dbfs:configs/x.yaml", &["absolute"]),
        ("s3://bucket/x.yaml", &["unsupported config location scheme `s3://`"]),
        ("wasbs://c@a.blob.core.windows.net/x.yaml", &["unsupported", "abfss://container@account"]),
        ("file://host/x.yaml", &["file:///absolute"]),
        ("abfss://datalakeprod01.dfs.core.windows.net/x.yaml", &["the container is missing"]),
        ("abfss://configs@datalakeprod01.dfs.core.windows.net", &["the file path is missing"]),
        ("abfss://configs@datalakeprod01.dfs.core.windows.net/", &["names a folder"]),
        ("abfss://configs@datalakeprod01.dfs.core.windows.net/drift/", &["names a folder"]),
        ("abfss://configs@datalakeprod01.blob.core.windows.net/x.yaml", &["<account>.dfs.<suffix>"]),
        ("abfss://Configs@datalakeprod01.dfs.core.windows.net/x.yaml", &["container \"Configs\" is not valid"]),
        ("abfss://configs@Data_Lake.dfs.core.windows.net/x.yaml", &["account \"Data_Lake\" is not valid"]),
        ("abfss://configs@lake01.dfs.core.windows.net/a/../x.yaml", &["'..'"]),
    ];
    for (origin, words) in cases {
        let err = ConfigSource::parse(origin).unwrap_err();
        println!("{err}");
        assert_eq!(err.file, *origin);
        assert_eq!(err.key, None);
        for word in *words {
            assert!(err.message.contains(word), "{err}\nlacks {word:?}");
        }
    }
}

#[test]
fn abfss_is_not_read_locally() {
    let err = load_local("abfss://configs@lake01.dfs.core.windows.net/x.yaml").unwrap_err();
    println!("{err}");
    assert!(err.message.contains("read from storage with credentials"), "{err}");
}

#[test]
fn error_display_names_file_and_key() {
    let err = crate::config::parse("conf/r.yaml", b"Processing: [1]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "config conf/r.yaml: Processing: expected a mapping with `type` and `parameters`, found a list (line 1)"
    );
    let err = crate::config::parse("conf/r.yaml", b"").unwrap_err();
    assert!(err.to_string().starts_with("config conf/r.yaml: the file is empty"), "{err}");
}
