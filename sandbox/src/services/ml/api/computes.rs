//! `computes/{name}` (GET only): what azure-ai-ml reads before it submits a job. `JobOperations.create_or_update`
//! resolves the job's compute to an ARM id by fetching it (`_job_operations.py`, `_try_get_compute_arm_id`:
//! `self._compute_operations.get(compute_name).id`), and its validation fails the submission when the compute is
//! missing. drift never reads computes; they exist here so the official SDK can resubmit a fetched pipeline job.
//! The answer follows `ComputeResource` with an `AmlCompute` (machineLearningServices.json, 2025-12-01).

use axum::http::StatusCode;
use axum::response::Response;

use super::Call;
use crate::services::ml::errors::{LOCATION, MlError, MlResult};
use crate::services::ml::store::{Compute, system_data};
use crate::state::lock;
use crate::wire::{json, ml_timestamp};

pub(crate) fn get(call: &Call<'_>, name: &str) -> MlResult<Response> {
    let ml = lock(&call.state.ml.inner);
    let ws = &ml.workspaces[ml.resolve(&call.path)?];
    let compute = ws
        .compute(name)
        .ok_or_else(|| MlError::not_found(format!("Compute '{name}' was not found in workspace '{}'.", ws.name)))?;
    Ok(json(StatusCode::OK, &to_json(compute, &ws.arm_id())))
}

fn to_json(compute: &Compute, workspace_id: &str) -> serde_json::Value {
    let created = ml_timestamp(compute.created);
    serde_json::json!({
        "id": format!("{workspace_id}/computes/{}", compute.name),
        "name": compute.name,
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": LOCATION,
        "tags": {},
        "properties": {
            "computeType": "AmlCompute",
            "computeLocation": LOCATION,
            "provisioningState": "Succeeded",
            "description": null,
            "createdOn": created,
            "modifiedOn": created,
            "resourceId": null,
            "provisioningErrors": null,
            "isAttachedCompute": false,
            "disableLocalAuth": true,
            "properties": {
                "osType": "Linux",
                "vmSize": "STANDARD_DS3_V2",
                "vmPriority": "Dedicated",
                "isolatedNetwork": false,
                "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT120S"},
                "remoteLoginPortPublicAccess": "Disabled",
                "allocationState": "Steady",
                "allocationStateTransitionTime": created,
                "errors": null,
                "currentNodeCount": 0,
                "targetNodeCount": 0,
                "nodeStateCounts": {"idleNodeCount": 0, "runningNodeCount": 0, "preparingNodeCount": 0,
                    "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0},
                "enableNodePublicIp": true,
            },
        },
        "systemData": system_data(compute.created, "drift-sandbox", compute.created, "drift-sandbox"),
    })
}
