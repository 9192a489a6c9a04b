//! Every command-line value checked before drift does anything with it: a `{{…}}` Databricks reference that was
//! not resolved, and the rule each value must follow before it can become part of a request (a tenant in the token
//! URL path, a version in ARM ids and job inputs, a vault name in a host). All problems are reported at once, one
//! per line, with exit 2 and no request sent. Pure: the command line only, no environment, no I/O.
//!
//! `--config` is checked where it is parsed into a location (`config::ConfigSource`), also before any I/O.

use crate::auth::ids;
use crate::cli::{AuthCommand, Cli, Command, CredentialArgs, PipelineArgs};
use crate::config::rules;
use crate::error::Error;

/// Longest `--vault_name` the command line admits (see [`vault_or_scope_name`]).
const MAX_SCOPE_NAME_CHARS: usize = 128;

/// Checks every flag value of `cli`; the error lists each bad flag on its own line.
pub fn check(cli: &Cli) -> Result<(), Error> {
    let mut problems = Vec::new();
    for (flag, value) in flag_values(cli) {
        let Some(value) = value else { continue };
        if let Some(message) = crate::references::unresolved_message(flag, value) {
            problems.push(message);
            continue;
        }
        problems.extend(check_value(flag, value));
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Usage(problems.join("\n"))) }
}

/// The flags of the command `cli` runs, with their values as given.
fn flag_values(cli: &Cli) -> Vec<(&'static str, Option<&str>)> {
    fn credentials(c: &CredentialArgs) -> [(&'static str, Option<&str>); 2] {
        [("--tenant", c.tenant.as_deref()), ("--vault_name", c.vault_name.as_deref())]
    }
    fn run(a: &PipelineArgs) -> Vec<(&'static str, Option<&str>)> {
        let mut flags = vec![
            ("--config", a.config.as_deref()),
            ("--data_asset_version", a.data_asset_version.as_deref()),
            ("--model_name_prefix", a.model_name_prefix.as_deref()),
        ];
        flags.extend(credentials(&a.credentials));
        flags
    }
    match &cli.command {
        None => run(&cli.legacy.pipeline),
        Some(Command::Run(a)) => run(&a.pipeline),
        Some(Command::Plan(a)) => run(&a.pipeline),
        Some(Command::History(a)) => {
            let mut flags = vec![
                ("--config", a.config.as_deref()),
                ("--model_name_prefix", a.model_name_prefix.as_deref()),
                ("--since", a.since.as_deref()),
            ];
            flags.extend(credentials(&a.credentials));
            flags
        }
        Some(Command::Validate(a)) => vec![("--config", Some(a.config.as_str()))],
        Some(Command::Auth(AuthCommand::Describe(a))) => {
            let mut flags = vec![("--config", a.config.as_deref())];
            flags.extend(credentials(&a.credentials));
            flags
        }
        #[cfg(feature = "demo")]
        Some(Command::Demo(_)) => Vec::new(),
        // Answered while parsing; they take no values to check.
        Some(Command::Completions(_) | Command::Man(_) | Command::Version) => Vec::new(),
    }
}

/// The problems of one flag value. Values are used trimmed, and an empty one means "not given" (an unresolved
/// Databricks reference arrives empty), so both are checked that way.
fn check_value(flag: &str, value: &str) -> Vec<String> {
    let value = value.trim();
    if value.is_empty() {
        return Vec::new();
    }
    let invalid = |rule: String| format!("{flag} {} is not valid: {rule}", quoted(value));
    match flag {
        "--tenant" => ids::tenant(value).err().map(invalid).into_iter().collect(),
        "--vault_name" => vault_or_scope_name(value).err().map(invalid).into_iter().collect(),
        "--data_asset_version" => rules::data_version(value).err().map(invalid).into_iter().collect(),
        "--model_name_prefix" => model_name_prefixes(value),
        "--since" => rules::model_age(value).err().map(invalid).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `--model_name_prefix a,b`: each non-empty item by the prefix rule, and not too many of them.
fn model_name_prefixes(value: &str) -> Vec<String> {
    let items: Vec<&str> = value.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let mut problems: Vec<String> = items
        .iter()
        .filter_map(|item| {
            rules::model_name_prefix(item)
                .err()
                .map(|rule| format!("--model_name_prefix item {} is not valid: {rule}", quoted(item)))
        })
        .collect();
    if items.len() > rules::MAX_PREFIXES {
        problems.push(format!(
            "--model_name_prefix has {} items; at most {} are accepted",
            items.len(),
            rules::MAX_PREFIXES
        ));
    }
    problems
}

/// What `--vault_name` may be on the command line: a Key Vault name, or the name of a Databricks secret scope,
/// because drift's Databricks wrapper reads the principal from the scope of that name and hands it to drift in
/// the environment (then the vault is never contacted). Scope names "must consist of alphanumeric characters,
/// dashes, underscores, @, and periods, and may not exceed 128 characters" (Databricks docs, "Secret scopes",
/// docs.databricks.com/security/secrets/secret-scopes.html), a superset of Key Vault names. Everything outside it
/// (`:`, `/`, `#`, `?`, spaces, non-ASCII) is refused here; when the name is really used as a Key Vault, the
/// credential layer holds it to the Key Vault rule before the first request.
fn vault_or_scope_name(v: &str) -> Result<(), String> {
    let chars_ok = v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'@' | b'.'));
    if v.len() <= MAX_SCOPE_NAME_CHARS && chars_ok {
        Ok(())
    } else {
        Err(format!(
            "expected a Key Vault name (3-24 letters, digits and '-') or, on Databricks, a secret scope name (at \
             most {MAX_SCOPE_NAME_CHARS} letters, digits, '-', '_', '@' and '.')"
        ))
    }
}

/// A flag value quoted for a message, cut short so a huge one cannot flood the terminal.
fn quoted(v: &str) -> String {
    const MAX: usize = 80;
    if v.chars().count() > MAX {
        format!("{:?}… ({} characters)", v.chars().take(MAX).collect::<String>(), v.chars().count())
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(flag: &str, value: &str) -> Vec<String> {
        check_value(flag, value)
    }

    #[test]
    fn good_values_pass() {
        for (flag, value) in [
            ("--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("--tenant", "contoso.onmicrosoft.com"),
            ("--tenant", " "),
            ("--vault_name", "drift-test-kv"),
            ("--vault_name", "kv_prod.scope@team"),
            ("--data_asset_version", "20261128101500"),
            ("--data_asset_version", "1.0_rc-2"),
            ("--data_asset_version", ""),
            ("--data_asset_version", " 3 "),
            ("--model_name_prefix", "churn.v2+, fraud_model"),
            ("--model_name_prefix", ",,"),
            ("--config", "anything: checked where it is parsed"),
        ] {
            assert!(problems(flag, value).is_empty(), "{flag} {value:?}: {:?}", problems(flag, value));
        }
    }

    #[test]
    fn bad_values_are_named_with_the_rule() {
        let long = "1".repeat(300);
        for (flag, value, words) in [
            ("--tenant", "../x", "GUID"),
            ("--tenant", "a.com/x?", "domain"),
            ("--tenant", "..", "GUID"),
            ("--vault_name", "127.0.0.1:P/steal#", "Key Vault name"),
            ("--vault_name", "kv/../x", "secret scope"),
            ("--vault_name", "kvé", "Key Vault"),
            ("--data_asset_version", "../../x", "letters, digits"),
            ("--data_asset_version", "a b", "letters, digits"),
            ("--data_asset_version", "2026\n0101", "letters, digits"),
            ("--data_asset_version", "%2e%2e", "letters, digits"),
            ("--data_asset_version", "\u{200b}", "letters, digits"),
            ("--data_asset_version", long.as_str(), "1-100 characters"),
            ("--model_name_prefix", "churn,fr\naud", "control characters"),
        ] {
            let found = problems(flag, value);
            assert_eq!(found.len(), 1, "{flag} {value:?}: {found:?}");
            assert!(found[0].starts_with(flag) && found[0].contains(words), "{}", found[0]);
            assert!(!found[0].contains(&long), "a long value is shortened: {}", found[0]);
        }
        let many = vec!["p"; rules::MAX_PREFIXES + 1].join(",");
        assert!(problems("--model_name_prefix", &many)[0].contains("at most 100"));
    }
}
