//! Azure ML contents: workspaces (found by subscription, resource group and name, case-insensitively as ARM
//! does), each holding datastores, data assets with versions and a job table; plus the sandbox-wide job settings
//! (list page size, default lifecycle, scripts) and pending cancel operations.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::data::DataAsset;
use super::datastores::Datastore;
use super::errors::{MlError, MlResult};
use super::jobs::lifecycle::{DEFAULT_STEPS, JobScript};
use super::jobs::table::JobTable;
use super::path::WorkspacePath;
use crate::wire::ml_timestamp;

/// A workspace as the library API names it. Made by [`crate::Sandbox::add_workspace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRef {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl WorkspaceRef {
    pub fn new(subscription_id: &str, resource_group: &str, name: &str) -> WorkspaceRef {
        WorkspaceRef {
            subscription_id: subscription_id.to_string(),
            resource_group: resource_group.to_string(),
            name: name.to_string(),
        }
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`
    pub fn arm_id(&self) -> String {
        arm_id(&self.subscription_id, &self.resource_group, &self.name)
    }
}

pub(crate) fn arm_id(subscription: &str, resource_group: &str, workspace: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
    )
}

/// A cancel in progress: its operation URL answers 202 once, then 200.
pub(crate) struct CancelOperation {
    pub workspace: usize,
    pub job_id: String,
    pub polled: bool,
}

#[derive(Default)]
pub(crate) struct MlState {
    pub inner: Mutex<Ml>,
}

pub(crate) struct Ml {
    pub workspaces: Vec<Workspace>,
    /// Jobs per list page: 100 unless configured (paging tests use small pages).
    pub jobs_page_size: usize,
    /// The lifecycle a submitted job follows when no script matches it.
    pub default_steps: Vec<String>,
    /// `(display-name prefix or id, script)`; the last match wins.
    pub scripts: Vec<(String, JobScript)>,
    pub operations: HashMap<String, CancelOperation>,
    seq: u64,
}

impl Default for Ml {
    fn default() -> Ml {
        Ml {
            workspaces: Vec::new(),
            jobs_page_size: 100,
            default_steps: DEFAULT_STEPS.iter().map(|s| s.to_string()).collect(),
            scripts: Vec::new(),
            operations: HashMap::new(),
            seq: 0,
        }
    }
}

pub(crate) struct Workspace {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub created: i64,
    pub datastores: Vec<Datastore>,
    pub data: BTreeMap<String, DataAsset>,
    pub jobs: JobTable,
    /// Compute clusters, only so that clients which look a job's compute up before submitting find it.
    pub computes: Vec<Compute>,
}

/// A compute cluster: a name and when it was added; answered as an idle `AmlCompute` (see `api::computes`).
#[derive(Debug, Clone)]
pub(crate) struct Compute {
    pub name: String,
    pub created: i64,
}

impl Workspace {
    pub fn new(subscription: &str, resource_group: &str, name: &str, created: i64) -> Workspace {
        Workspace {
            subscription: subscription.to_string(),
            resource_group: resource_group.to_string(),
            name: name.to_string(),
            created,
            datastores: Vec::new(),
            data: BTreeMap::new(),
            jobs: JobTable::default(),
            computes: Vec::new(),
        }
    }

    pub fn arm_id(&self) -> String {
        arm_id(&self.subscription, &self.resource_group, &self.name)
    }

    pub fn reference(&self) -> WorkspaceRef {
        WorkspaceRef::new(&self.subscription, &self.resource_group, &self.name)
    }

    pub fn is(&self, subscription: &str, resource_group: &str, name: &str) -> bool {
        self.subscription.eq_ignore_ascii_case(subscription)
            && self.resource_group.eq_ignore_ascii_case(resource_group)
            && self.name.eq_ignore_ascii_case(name)
    }

    /// Datastore names compare case-insensitively, like other ARM child names.
    pub fn datastore(&self, name: &str) -> Option<&Datastore> {
        self.datastores.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// Compute names compare case-insensitively, like other ARM child names.
    pub fn compute(&self, name: &str) -> Option<&Compute> {
        self.computes.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The minimal workspace resource a GET of the workspace itself returns.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.arm_id(),
            "name": self.name,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "location": super::errors::LOCATION,
            "kind": "Default",
            "properties": {"friendlyName": self.name, "provisioningState": "Succeeded", "storageHnsEnabled": false},
            "systemData": system_data(self.created, "drift-sandbox", self.created, "drift-sandbox"),
        })
    }
}

impl Ml {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Reserves `count` sequence numbers for a bulk insert; they are the ones after the returned value.
    pub fn reserve_seq(&mut self, count: u64) -> u64 {
        let first = self.seq;
        self.seq += count;
        first
    }

    pub fn find(&self, subscription: &str, resource_group: &str, name: &str) -> Option<usize> {
        self.workspaces.iter().position(|w| w.is(subscription, resource_group, name))
    }

    /// The workspace a path names, or the error ARM gives when it (or its parents) do not exist.
    pub fn resolve(&self, path: &WorkspacePath) -> MlResult<usize> {
        if let Some(at) = self.find(&path.subscription, &path.resource_group, &path.workspace) {
            return Ok(at);
        }
        if !self.workspaces.iter().any(|w| w.subscription.eq_ignore_ascii_case(&path.subscription)) {
            return Err(MlError::arm(
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                format!("The subscription '{}' could not be found.", path.subscription),
            ));
        }
        let group_known = self.workspaces.iter().any(|w| {
            w.subscription.eq_ignore_ascii_case(&path.subscription)
                && w.resource_group.eq_ignore_ascii_case(&path.resource_group)
        });
        if !group_known {
            return Err(MlError::arm(
                StatusCode::NOT_FOUND,
                "ResourceGroupNotFound",
                format!("Resource group '{}' could not be found.", path.resource_group),
            ));
        }
        if path.rest.is_empty() {
            return Err(MlError::arm(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.MachineLearningServices/workspaces/{}' under resource group '{}' was not \
                     found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    path.workspace, path.resource_group
                ),
            ));
        }
        Err(MlError::arm(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                path.workspace
            ),
        ))
    }
}

/// ARM `systemData`. Callers are service principals (`Application`) unless the sandbox made the item itself.
pub(crate) fn system_data(created: i64, created_by: &str, modified: i64, modified_by: &str) -> Value {
    let kind = |who: &str| if super::schema::is_guid(who) { "Application" } else { "User" };
    json!({
        "createdAt": ml_timestamp(created),
        "createdBy": created_by,
        "createdByType": kind(created_by),
        "lastModifiedAt": ml_timestamp(modified),
        "lastModifiedBy": modified_by,
        "lastModifiedByType": kind(modified_by),
    })
}
