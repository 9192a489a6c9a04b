//! Where a config lives (local path, Databricks `dbfs:`/`/Volumes`/`/Workspace` paths, `abfss://` URLs) and
//! reading a local one safely: bounded size, clear messages for missing files, directories and permissions.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, rules};

/// Largest config file drift reads. Real ones are a few hundred bytes; the bound keeps a wrong path (a data
/// file, a log) from being read whole into memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Where a config lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file on this machine, including Databricks' `/dbfs`, `/Volumes` and `/Workspace` mounts.
    Local(PathBuf),
    /// `abfss://{container}@{account}.dfs.{endpoint_suffix}/{path}`, read by the storage client.
    Abfss { account: String, container: String, path: String, endpoint_suffix: String },
}

impl ConfigSource {
    /// Classifies `origin`. `dbfs:/X` is read from `/dbfs/X` (the cluster's FUSE mount), except
    /// `dbfs:/Volumes/X`, which Unity Catalog serves at `/Volumes/X`.
    pub fn parse(origin: &str) -> Result<ConfigSource, ConfigError> {
        if origin.trim().is_empty() {
            return Err(ConfigError::file(origin, "the config location is empty; pass --config PATH"));
        }
        if let Some(rest) = strip_scheme(origin, "dbfs:") {
            // `dbfs:/x` and `dbfs:///x` both name the DBFS root path `/x`.
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let Some(path) = rest.strip_prefix('/').filter(|p| !p.trim_matches('/').is_empty()) else {
                return Err(ConfigError::file(
                    origin,
                    "a DBFS location is written dbfs:/path/to/config.yaml (absolute, with a file name)",
                ));
            };
            if path == "Volumes" || path.starts_with("Volumes/") {
                return Ok(ConfigSource::Local(PathBuf::from(format!("/{path}"))));
            }
            return Ok(ConfigSource::Local(Path::new("/dbfs").join(path)));
        }
        if let Some(rest) = strip_scheme(origin, "abfss://") {
            return parse_abfss(origin, rest);
        }
        if let Some(rest) = strip_scheme(origin, "file://") {
            // `file:///etc/x.yaml` → `/etc/x.yaml`; a host part is not supported.
            if rest.starts_with('/') {
                return Ok(ConfigSource::Local(PathBuf::from(rest)));
            }
            return Err(ConfigError::file(origin, "a file URL is written file:///absolute/path.yaml"));
        }
        if let Some(scheme) = url_scheme(origin) {
            let hint = match scheme.to_ascii_lowercase().as_str() {
                "abfs" | "wasb" | "wasbs" => {
                    "; write the ADLS Gen2 location as abfss://container@account.dfs.core.windows.net/path"
                }
                _ => "",
            };
            return Err(ConfigError::file(
                origin,
                format!(
                    "unsupported config location scheme `{scheme}://`; use a local path, dbfs:/…, /Volumes/…, \
                     /Workspace/… or abfss://…{hint}"
                ),
            ));
        }
        Ok(ConfigSource::Local(PathBuf::from(origin)))
    }
}

/// `origin` without `scheme` (matched case-insensitively, as URL schemes are).
fn strip_scheme<'a>(origin: &'a str, scheme: &str) -> Option<&'a str> {
    let head = origin.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme).then(|| &origin[scheme.len()..])
}

/// The scheme of `x://…`; a Windows drive (`C:\`, `C:/`) is not one.
fn url_scheme(origin: &str) -> Option<&str> {
    let (scheme, _) = origin.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && scheme.len() > 1).then_some(scheme)
}

fn parse_abfss(origin: &str, rest: &str) -> Result<ConfigSource, ConfigError> {
    let shape =
        "an ADLS Gen2 location is written abfss://<container>@<account>.dfs.core.windows.net/<path/to/config.yaml>";
    let bad = |detail: &str| ConfigError::file(origin, format!("{detail}; {shape}"));
    let (authority, path) = rest.split_once('/').ok_or_else(|| bad("the file path is missing"))?;
    let (container, host) = authority.split_once('@').ok_or_else(|| bad("the container is missing"))?;
    let (account, endpoint_suffix) =
        host.split_once(".dfs.").ok_or_else(|| bad("the host is not <account>.dfs.<suffix>"))?;
    if endpoint_suffix.is_empty() || endpoint_suffix.contains(['/', ':', '@']) {
        return Err(bad("the endpoint suffix after `.dfs.` is missing or malformed"));
    }
    rules::container(container).map_err(|rule| bad(&format!("container {container:?} is not valid: {rule}")))?;
    rules::storage_account(account).map_err(|rule| bad(&format!("account {account:?} is not valid: {rule}")))?;
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with('/') {
        return Err(bad("the location names a folder, not a file"));
    }
    if path.split('/').any(|segment| segment == "..") {
        return Err(bad("'..' is not allowed in the path"));
    }
    Ok(ConfigSource::Abfss {
        account: account.to_string(),
        container: container.to_string(),
        path: path.to_string(),
        endpoint_suffix: endpoint_suffix.to_string(),
    })
}

/// Reads a local config file of at most [`MAX_CONFIG_BYTES`]. `origin` is the location as the user wrote it.
pub fn read_local(origin: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let fail = |e: std::io::Error| ConfigError::file(origin, io_message(origin, path, &e));
    let meta = std::fs::metadata(path).map_err(fail)?;
    if meta.is_dir() {
        return Err(fail(std::io::Error::from(std::io::ErrorKind::IsADirectory)));
    }
    let too_big = |what: String| {
        ConfigError::file(
            origin,
            format!(
                "{what} larger than the {MAX_CONFIG_BYTES} bytes (1 MiB) a config may have; is this the right file?"
            ),
        )
    };
    // Regular files announce their size; pipes and devices do not, so the read below is bounded as well.
    if meta.is_file() && meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big(format!("the file is {} bytes,", meta.len())));
    }
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big("the input is".to_string()));
    }
    Ok(bytes)
}

/// The message for a failed read of `path`, naming the mapped path when `origin` was written differently (the
/// message already starts with `origin`).
fn io_message(origin: &str, path: &Path, e: &std::io::Error) -> String {
    let mapped = if Path::new(origin) == path { String::new() } else { format!(" (read from {})", path.display()) };
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            let databricks = ["/dbfs", "/Volumes", "/Workspace"].iter().any(|root| path.starts_with(root));
            let hint = if databricks { "; Databricks paths exist only on a cluster" } else { "" };
            format!("file not found{mapped}{hint}")
        }
        std::io::ErrorKind::PermissionDenied => format!("permission denied{mapped}"),
        std::io::ErrorKind::IsADirectory => format!("this is a directory{mapped}, expected a YAML file"),
        _ => format!("cannot read the file{mapped}: {e}"),
    }
}

/// Reads and validates a local config. An `abfss://` location needs storage credentials: the caller reads it
/// with the storage client and calls [`super::parse`] itself.
pub fn load_local(origin: &str) -> Result<Config, ConfigError> {
    match ConfigSource::parse(origin)? {
        ConfigSource::Local(path) => super::parse(origin, &read_local(origin, &path)?),
        ConfigSource::Abfss { .. } => Err(ConfigError::file(
            origin,
            "an abfss:// config is read from storage with credentials, not as a local file",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_messages() {
        use std::io::{Error, ErrorKind};
        let cases = [
            ("c.yaml", "c.yaml", ErrorKind::NotFound, "file not found"),
            (
                "dbfs:/c.yaml",
                "/dbfs/c.yaml",
                ErrorKind::NotFound,
                "file not found (read from /dbfs/c.yaml); Databricks",
            ),
            ("c.yaml", "c.yaml", ErrorKind::PermissionDenied, "permission denied"),
            ("dbfs:/c", "/dbfs/c", ErrorKind::PermissionDenied, "permission denied (read from /dbfs/c)"),
            ("conf", "conf", ErrorKind::IsADirectory, "this is a directory, expected a YAML file"),
            ("c.yaml", "c.yaml", ErrorKind::InvalidData, "cannot read the file: boom"),
        ];
        for (origin, path, kind, want) in cases {
            let message = io_message(origin, Path::new(path), &Error::new(kind, "boom"));
            assert!(message.starts_with(want), "{message}");
        }
    }
}
