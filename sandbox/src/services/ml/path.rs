//! ARM paths of Azure ML workspaces, matched the way ARM matches them: the literal segments
//! (`resourceGroups`, `providers`, `Microsoft.MachineLearningServices`, `workspaces`, ...) case-insensitively, each
//! segment percent-decoded.

use crate::wire::decode_segment;

/// `/arm/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/{rest}`
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct WorkspacePath {
    pub subscription: String,
    pub resource_group: String,
    pub workspace: String,
    /// The segments after the workspace name (`["jobs", "abc", "cancel"]`).
    pub rest: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    Workspace(WorkspacePath),
    /// Some other ARM path (no provider fakes it).
    Other,
    /// A segment that does not decode to UTF-8.
    BadEncoding,
}

/// Whether segment `i` is the literal `word` (case-insensitive).
fn is(segments: &[String], i: usize, word: &str) -> bool {
    segments.get(i).is_some_and(|s| s.eq_ignore_ascii_case(word))
}

pub(crate) fn parse(raw_path: &str) -> Parsed {
    let Some(rest) = raw_path.strip_prefix("/arm/") else { return Parsed::Other };
    let mut segments = Vec::new();
    for segment in rest.split('/') {
        match decode_segment(segment) {
            Some(s) => segments.push(s),
            None => return Parsed::BadEncoding,
        }
    }
    // A trailing slash is ignored, as ARM does.
    if segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    let shaped = is(&segments, 0, "subscriptions")
        && is(&segments, 2, "resourceGroups")
        && is(&segments, 4, "providers")
        && is(&segments, 5, "Microsoft.MachineLearningServices")
        && is(&segments, 6, "workspaces")
        && segments.len() >= 8
        && segments[..8].iter().all(|s| !s.is_empty());
    if !shaped {
        return Parsed::Other;
    }
    Parsed::Workspace(WorkspacePath {
        subscription: segments[1].clone(),
        resource_group: segments[3].clone(),
        workspace: segments[7].clone(),
        rest: segments[8..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse(
            "/arm/subscriptions/s1/resourcegroups/rg%201/providers/microsoft.machinelearningservices/workspaces/ws/jobs/j1/",
        );
        assert_eq!(
            p,
            Parsed::Workspace(WorkspacePath {
                subscription: "s1".into(),
                resource_group: "rg 1".into(),
                workspace: "ws".into(),
                rest: vec!["jobs".into(), "j1".into()],
            })
        );
        assert_eq!(parse("/arm/subscriptions/s1/resourceGroups/rg"), Parsed::Other);
        assert_eq!(parse("/arm/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/x/y"), Parsed::Other);
        assert_eq!(parse("/arm/subscriptions/%FF/resourceGroups"), Parsed::BadEncoding);
    }
}
