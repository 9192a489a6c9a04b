//! The Azure ML provider's front: ARM's errors for missing subscriptions, resource groups and workspaces, the
//! workspace resource, unknown resource types and methods, api-version and grants on provider paths.

mod common;

use common::*;

#[tokio::test]
async fn missing_parents_get_arm_errors() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let base = |sub: &str, rg: &str, name: &str| {
        format!(
            "{}/arm/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{name}",
            sandbox.url()
        )
    };
    let cases = [
        (
            base("11111111-0000-4000-8000-000000000000", RG, WS),
            "/datastores",
            "SubscriptionNotFound",
            "could not be found",
        ),
        (
            base(SUB, "rg-missing", WS),
            "/datastores",
            "ResourceGroupNotFound",
            "Resource group 'rg-missing' could not be found.",
        ),
        (
            base(SUB, RG, "ws-missing"),
            "/jobs",
            "ParentResourceNotFound",
            "Can not perform requested operation on nested resource. Parent resource 'ws-missing' not found.",
        ),
        (base(SUB, RG, "ws-missing"), "", "ResourceNotFound", "workspaces/ws-missing' under resource group"),
    ];
    for (url, suffix, code, message) in cases {
        let response = client()
            .get(format!("{url}{suffix}"))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&arm.token)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(response).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(message), "{body}");
    }
}

#[tokio::test]
async fn workspace_paths_are_case_insensitive_and_the_workspace_answers() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let url = format!(
        "{}/arm/SUBSCRIPTIONS/{SUB}/resourcegroups/RG-DRIFT/providers/microsoft.machinelearningservices/Workspaces/WS-DRIFT",
        sandbox.url()
    );
    let response = client().get(&url).query(&[("api-version", ARM_API)]).bearer_auth(&arm.token).send().await.unwrap();
    let (status, body) = status_json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], ws.arm_id());
    assert_eq!(body["type"], "Microsoft.MachineLearningServices/workspaces");
    let (status, _) = arm.get("/DataStores", &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_types_and_methods_and_api_version() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    let (status, body) = arm.get("/models", &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("InvalidResourceType")), "{body}");
    let response = client()
        .delete(format!("{}/datastores/workspaceblobstore", arm.base))
        .query(&[("api-version", ARM_API)])
        .bearer_auth(&arm.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = client().get(format!("{}/jobs", arm.base)).bearer_auth(&arm.token).send().await.unwrap();
    let (status, body) = status_json(response).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("MissingApiVersionParameter")));
    // A body that is not JSON is ARM's InvalidRequestContent.
    let response = client()
        .put(format!("{}/datastores/x", arm.base))
        .query(&[("api-version", ARM_API)])
        .bearer_auth(&arm.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(response).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidRequestContent")), "{body}");
}

#[tokio::test]
async fn grants_cover_provider_paths_and_provider_errors_have_the_service_shape() {
    let (sandbox, ws) = ml_sandbox();
    let arm = Arm::new(&sandbox, &ws).await;
    sandbox.grant(CLIENT, &format!("arm/subscriptions/{SUB}/resourceGroups/other"));
    let (status, body) = arm.get("/jobs", &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("AuthorizationFailed")));
    sandbox.grant(CLIENT, &format!("arm{}", ws.arm_id()));
    let (status, body) = arm.get("/jobs/nope", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "UserError");
    assert_eq!(body["error"]["innerError"]["code"], "NotFound");
    let info = body["error"]["additionalInfo"].as_array().unwrap();
    assert!(info.iter().any(|i| i["type"] == "ComponentName" && i["info"]["value"] == "managementfrontend"), "{body}");
}

#[test]
fn add_workspace_is_idempotent_and_library_readers_answer() {
    let (sandbox, ws) = ml_sandbox();
    let before = sandbox.datastore(&ws, "workspaceblobstore").unwrap();
    assert_eq!(sandbox.add_workspace(SUB, RG, WS), ws);
    assert_eq!(sandbox.datastore(&ws, "WorkspaceBlobStore").unwrap(), before, "the second call changes nothing");
    sandbox.add_data_version(
        &ws,
        "sales",
        "1",
        serde_json::json!({"dataType": "uri_folder", "dataUri": "https://x/y"}),
    );
    assert_eq!(sandbox.data_version(&ws, "sales", "1").unwrap()["properties"]["dataUri"], "https://x/y");
    assert!(sandbox.data_version(&ws, "sales", "2").is_none());
    assert!(sandbox.job(&ws, "nope").is_none());
}

#[test]
#[should_panic(expected = "does not match")]
fn add_workspace_enforces_the_name_pattern() {
    sandbox().add_workspace(SUB, RG, "w");
}

#[test]
#[should_panic(expected = "Asset paths cannot be updated")]
fn library_calls_follow_the_api_rules() {
    let (sandbox, ws) = ml_sandbox();
    sandbox.add_data_version(
        &ws,
        "sales",
        "1",
        serde_json::json!({"dataType": "uri_folder", "dataUri": "https://x/a"}),
    );
    sandbox.add_data_version(
        &ws,
        "sales",
        "1",
        serde_json::json!({"dataType": "uri_folder", "dataUri": "https://x/b"}),
    );
}

/// `GET computes/{name}`: an added compute answers as an idle AmlCompute `ComputeResource`
/// (machineLearningServices.json), because azure-ai-ml fetches a job's compute before it submits the job; unknown
/// names are the provider's 404, other methods are not faked.
#[tokio::test]
async fn added_computes_answer_a_get() {
    let (sandbox, ws) = ml_sandbox();
    sandbox.add_compute(&ws, "cpu-cluster");
    sandbox.add_compute(&ws, "CPU-cluster");
    let arm = Arm::new(&sandbox, &ws).await;
    let (status, body) = arm.get("/computes/Cpu-Cluster", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], format!("{}/computes/cpu-cluster", ws.arm_id()));
    assert_eq!(body["name"], "cpu-cluster");
    assert_eq!(body["type"], "Microsoft.MachineLearningServices/workspaces/computes");
    assert_eq!(body["properties"]["computeType"], "AmlCompute");
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(body["properties"]["properties"]["scaleSettings"]["maxNodeCount"], 4);

    let (status, body) = arm.get("/computes/gpu-cluster", &[]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["innerError"]["code"], "NotFound", "{body}");
    let response = arm
        .client
        .put(format!("{}/computes/cpu-cluster", arm.base))
        .query(&[("api-version", ARM_API)])
        .bearer_auth(&arm.token)
        .json(&serde_json::json!({"properties": {"computeType": "AmlCompute"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}
