//! Jobs through HTTP: the filtered, paged list; GET shaped like the real pipeline job; PUT (id pattern,
//! x-azureml-token, spec validation, input resolution, 201/200, immutability); the lifecycle under every script;
//! cancel with 202 + Location.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::*;
use drift_sandbox::{JobScript, JobSeed, Sandbox, WorkspaceRef};
use serde_json::{Map, Value, json};

fn fixture() -> Value {
    let path = format!(
        "{}/../tests/contracts/azureml/sdk-fixtures/Azure/azure-sdk-for-python/sdk/ml/azure-ai-ml/tests/test_configs/pipeline_jobs/rest_non_string_input_pipeline.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A workspace with data asset `sales` versions 1 and 2 (2 is the latest).
async fn setup() -> (Sandbox, WorkspaceRef, Arm) {
    let (sandbox, ws) = ml_sandbox();
    for version in ["1", "2"] {
        sandbox.add_data_version(
            &ws,
            "sales",
            version,
            json!({"dataType": "mltable",
            "dataUri": format!("azureml://datastores/workspaceblobstore/paths/sales/{version}")}),
        );
    }
    let arm = Arm::new(&sandbox, &ws).await;
    (sandbox, ws, arm)
}

fn sales_id(ws: &WorkspaceRef, version: &str) -> String {
    format!("{}/data/sales/versions/{version}", ws.arm_id())
}

async fn status_of(arm: &Arm, id: &str) -> String {
    let (status, body) = arm.get(&format!("/jobs/{id}"), &[]).await;
    assert_eq!(status, 200, "{body}");
    body["properties"]["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn get_looks_like_the_real_pipeline_job() {
    let (sandbox, ws, arm) = setup().await;
    let real = fixture();
    let mut extra: Map<String, Value> = real["properties"].as_object().unwrap().clone();
    let inputs = extra.remove("inputs").unwrap().as_object().unwrap().clone();
    sandbox.add_job(
        &ws,
        JobSeed {
            id: "1d072f27-fcb5-4c63-9eeb-bc0573548ecc".into(),
            display_name: Some("red_shampoo_ybk2gdnd7z".into()),
            status: "Completed".into(),
            inputs,
            extra,
            ..JobSeed::default()
        },
    );
    let (status, ours) = arm.get("/jobs/1d072f27-fcb5-4c63-9eeb-bc0573548ecc", &[]).await;
    assert_eq!(status, 200, "{ours}");
    assert_eq!(ours["type"], real["type"]);
    assert_eq!(ours["id"], format!("{}/jobs/1d072f27-fcb5-4c63-9eeb-bc0573548ecc", ws.arm_id()));
    for key in real["properties"].as_object().unwrap().keys() {
        assert!(ours["properties"].get(key).is_some(), "missing properties.{key}: {ours}");
    }
    for key in real["properties"]["services"]["Studio"].as_object().unwrap().keys() {
        assert!(ours["properties"]["services"]["Studio"].get(key).is_some(), "missing services.Studio.{key}");
    }
    for key in real["systemData"].as_object().unwrap().keys() {
        assert!(ours["systemData"].get(key).is_some(), "missing systemData.{key}");
    }
    assert_eq!(ours["properties"]["inputs"], real["properties"]["inputs"]);
    assert_eq!(ours["properties"]["jobs"], real["properties"]["jobs"]);
    assert_eq!(ours["properties"]["status"], "Completed", "seeded jobs keep their status");
    assert_eq!(status_of(&arm, "1d072f27-fcb5-4c63-9eeb-bc0573548ecc").await, "Completed");

    // What drift does with it: drop the read-only members, point the input at a version here, PUT a new id.
    let mut body = json!({"properties": ours["properties"].clone()});
    let props = body["properties"].as_object_mut().unwrap();
    props.remove("status");
    for service in props["services"].as_object_mut().unwrap().values_mut() {
        let service = service.as_object_mut().unwrap();
        service.remove("status");
        service.remove("errorMessage");
    }
    props["inputs"]["my_training_data"]["uri"] = json!(sales_id(&ws, "2"));
    props["inputs"]["my_test_data"]["uri"] = json!(sales_id(&ws, "2"));
    let (status, created) = arm.put_job("red_shampoo_retrained", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["properties"]["status"], "NotStarted");
}

#[tokio::test]
async fn list_filters_and_pages_with_stable_tokens() {
    let (sandbox, ws, arm) = setup().await;
    sandbox.set_jobs_page_size(4);
    let base = 1_767_225_600u64;
    for i in 0..10u64 {
        sandbox.add_job(
            &ws,
            JobSeed {
                id: format!("job{i:02}"),
                display_name: Some(format!("churn_2026010100{i:02}00_abc")),
                created_at: Some(UNIX_EPOCH + Duration::from_secs(base + i)),
                job_type: if i == 3 { "Command".into() } else { "Pipeline".into() },
                archived: i == 5,
                tags: if i % 2 == 0 { [("even".to_string(), "yes".to_string())].into() } else { Default::default() },
                ..JobSeed::default()
            },
        );
    }
    let query = [("jobType", "Pipeline"), ("listViewType", "ActiveOnly")];
    let ids = |page: &Value| {
        page["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let (status, first) = arm.get("/jobs", &query).await;
    assert_eq!(status, 200, "{first}");
    let mut all = ids(&first);
    let mut links = Vec::new();
    let mut next = first["nextLink"].as_str().map(str::to_string);
    while let Some(link) = next {
        assert!(
            link.contains("jobType=Pipeline") && link.contains("listViewType=ActiveOnly") && link.contains("$skip="),
            "{link}"
        );
        links.push(link.clone());
        let (status, page) = status_json(arm.follow(&link).await).await;
        assert_eq!(status, 200, "{page}");
        all.extend(ids(&page));
        next = page["nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(all, ["job09", "job08", "job07", "job06", "job04", "job02", "job01", "job00"]);
    assert_eq!(links.len(), 1);
    // A job submitted between pages does not shift them, and a token can be replayed.
    let (status, _) = arm.put_job("late", &pipeline_body("churn_20991231000000_zz", &sales_id(&ws, "1"))).await;
    assert_eq!(status, 201);
    let (_, replay) = status_json(arm.follow(&links[0]).await).await;
    assert_eq!(ids(&replay), ["job04", "job02", "job01", "job00"]);
    assert!(replay.get("nextLink").is_none());

    let (_, archived) = arm.get("/jobs", &[("listViewType", "ArchivedOnly")]).await;
    assert_eq!(ids(&archived), ["job05"]);
    let (_, everything) = arm.get("/jobs", &[("listViewType", "All")]).await;
    assert_eq!(everything["value"].as_array().unwrap().len(), 4);
    let (_, tagged) = arm.get("/jobs", &[("tag", "even"), ("jobType", "Pipeline")]).await;
    assert_eq!(ids(&tagged), ["job08", "job06", "job04", "job02"]);
    // List items leave out the graph; GET has it.
    assert!(first["value"][0]["properties"].get("jobs").is_none());
    for bad in ["garbage", "j1.zz.1", "o1.4"] {
        let (status, body) = arm.get("/jobs", &[("$skip", bad)]).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = arm.get("/jobs", &[("listViewType", "Active")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn put_needs_a_valid_id_and_the_azureml_token() {
    let (sandbox, ws, arm) = setup().await;
    let body = pipeline_body("churn_20260101000000_aaaaaa", &sales_id(&ws, "1"));
    for bad in ["-starts-with-dash", "has.dot", &"x".repeat(256)] {
        let (status, answer) = arm.put_job(bad, &body).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    let (status, answer) = arm.put("/jobs/no-token", &body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("x-azureml-token"), "{answer}");
    let send = |token: String| {
        client()
            .put(format!("{}/jobs/wrong-token", arm.base))
            .query(&[("api-version", ARM_API)])
            .bearer_auth(&arm.token)
            .header("x-azureml-token", token)
            .json(&body)
            .send()
    };
    // An ARM token where the Azure ML one belongs.
    let (status, answer) = status_json(send(arm.token.clone()).await.unwrap()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationTokenAudience")),
        "{answer}"
    );
    let (status, _) = status_json(send("sbx.never-issued".into()).await.unwrap()).await;
    assert_eq!(status, 401);
    // The right token with the `Bearer ` scheme drift once added: azure-ai-ml sends the bare token.
    let (status, answer) = status_json(send(format!("Bearer {}", arm.ml_token)).await.unwrap()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("without a 'Bearer ' prefix"), "{answer}");
    let (status, answer) = status_json(send(arm.ml_token.clone()).await.unwrap()).await;
    assert_eq!(status, 201, "the bare token is accepted: {answer}");
    let ml_token = sp_token(&sandbox, ML_SCOPE).await;
    sandbox.expire_all_tokens();
    let (status, answer) = status_json(send(ml_token).await.unwrap()).await;
    assert_eq!(status, 401, "{answer}");
}

#[tokio::test]
async fn put_validates_against_the_spec_and_resolves_inputs() {
    let (_sandbox, ws, arm) = setup().await;
    let mut with_status = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    with_status["properties"]["status"] = json!("Completed");
    let mut unknown = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    unknown["properties"]["priority"] = json!(1);
    let mut service_status = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    service_status["properties"]["services"] = json!({"Studio": {"jobServiceType": "Studio", "status": null}});
    let mut no_type = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    no_type["properties"].as_object_mut().unwrap().remove("jobType");
    let mut command = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    command["properties"]["jobType"] = json!("Command");
    let mut bad_mode = pipeline_body("churn_20260101000000_a", &sales_id(&ws, "1"));
    bad_mode["properties"]["inputs"]["training_data"]["mode"] = json!("ro_mount");
    let cases = [
        ("status is read-only", with_status, "read-only"),
        ("unknown member", unknown, "could not find member 'priority'"),
        ("services.*.status is read-only", service_status, "read-only"),
        ("jobType is required", no_type, "jobType"),
        ("only pipelines are faked", command, "Pipeline"),
        ("input modes are an enum", bad_mode, "mode"),
        ("missing version", pipeline_body("churn_20260101000000_a", &sales_id(&ws, "9")), "training_data"),
        ("missing asset", pipeline_body("churn_20260101000000_a", "azureml:nope:1"), "'nope'"),
    ];
    for (why, body, expected) in cases {
        let (status, answer) = arm.put_job("job-x", &body).await;
        assert_eq!(status, 400, "{why}: {answer}");
        assert_eq!(answer["error"]["code"], "UserError", "{why}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(expected), "{why}: {answer}");
    }
    // Every reference form resolves to the bare ARM id, as GET then shows it.
    let forms = [
        sales_id(&ws, "2"),
        format!("azureml:{}", sales_id(&ws, "2")),
        "azureml:sales:2".to_string(),
        "azureml:sales@latest".to_string(),
        format!("azureml://subscriptions/{SUB}/resourcegroups/{RG}/workspaces/{WS}/data/sales/versions/2"),
    ];
    for (i, uri) in forms.iter().enumerate() {
        let (status, answer) = arm.put_job(&format!("form{i}"), &pipeline_body("churn_20260101000000_a", uri)).await;
        assert_eq!(status, 201, "{uri}: {answer}");
        assert_eq!(answer["properties"]["inputs"]["training_data"]["uri"], sales_id(&ws, "2"), "{uri}");
        assert_eq!(answer["properties"]["inputs"]["learning_rate"]["value"], "0.1");
    }
    // Datastore paths and other workspaces' assets are kept as sent.
    let path = "azureml://datastores/workspaceblobstore/paths/raw/";
    let (_, answer) = arm.put_job("form-path", &pipeline_body("churn_20260101000000_a", path)).await;
    assert_eq!(answer["properties"]["inputs"]["training_data"]["uri"], path);
}

#[tokio::test]
async fn an_existing_id_changes_only_mutable_members() {
    let (_sandbox, ws, arm) = setup().await;
    let body = pipeline_body("churn_20260101000000_aaaaaa", &sales_id(&ws, "1"));
    assert_eq!(arm.put_job("churn-1", &body).await.0, 201);
    // The same body again (even with the input in another form): 200.
    let same = pipeline_body("churn_20260101000000_aaaaaa", "azureml:sales:1");
    assert_eq!(arm.put_job("churn-1", &same).await.0, 200);
    let mut retagged = body.clone();
    retagged["properties"]["tags"] = json!({"drift.baseJob": "x"});
    retagged["properties"]["displayName"] = json!("renamed");
    retagged["properties"]["isArchived"] = json!(true);
    let (status, answer) = arm.put_job("churn-1", &retagged).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["properties"]["tags"], json!({"drift.baseJob": "x"}));
    assert_eq!(answer["properties"]["displayName"], "renamed");
    assert_eq!(answer["properties"]["isArchived"], true);

    let moved = pipeline_body("renamed", &sales_id(&ws, "2"));
    let (status, answer) = arm.put_job("churn-1", &moved).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "UserError");
    assert_eq!(answer["error"]["innerError"]["innerError"]["code"], "JobPropertyImmutable");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("A job with this name already exists."), "{message}");
    assert!(
        message.contains("Inputs")
            && message.contains("Only description, tags, displayName, properties, and isArchived can be updated."),
        "{message}"
    );
    let mut recomputed = body.clone();
    recomputed["properties"]["computeId"] = json!("/other");
    let (status, answer) = arm.put_job("churn-1", &recomputed).await;
    assert_eq!(status, 400);
    assert!(answer["error"]["message"].as_str().unwrap().contains("ComputeId"), "{answer}");
}

#[tokio::test]
async fn submitted_jobs_walk_one_step_per_get() {
    let (_sandbox, ws, arm) = setup().await;
    let (status, created) = arm.put_job("walker", &pipeline_body("churn_20260101000000_w", &sales_id(&ws, "1"))).await;
    assert_eq!(status, 201);
    assert_eq!(created["properties"]["status"], "NotStarted");
    // Listing does not move it.
    let (_, page) = arm.get("/jobs", &[("jobType", "Pipeline")]).await;
    assert_eq!(page["value"][0]["properties"]["status"], "NotStarted");
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(status_of(&arm, "walker").await);
    }
    assert_eq!(seen, ["Queued", "Running", "Completed", "Completed", "Completed"]);
}

#[tokio::test]
async fn every_script_shapes_the_walk() {
    let (sandbox, ws, arm) = setup().await;
    let scripts = [
        ("complete_", JobScript::Complete, vec!["Queued", "Running", "Completed", "Completed"]),
        ("fail_", JobScript::Fail, vec!["Queued", "Running", "Failed", "Failed"]),
        ("cancel_", JobScript::Cancel, vec!["Queued", "Running", "Canceled", "Canceled"]),
        ("silent_", JobScript::NotResponding, vec!["Queued", "Running", "NotResponding", "NotResponding"]),
        ("hang_", JobScript::Hang, vec!["Queued", "Running", "Running", "Running"]),
        ("future_", JobScript::Status("Hibernating".into()), vec!["Queued", "Running", "Hibernating", "Hibernating"]),
        (
            "custom_",
            JobScript::Steps(vec!["Preparing".into(), "Finalizing".into(), "Paused".into()]),
            vec!["Finalizing", "Paused", "Paused", "Paused"],
        ),
    ];
    for (prefix, script, _) in &scripts {
        sandbox.script_job(prefix, script.clone());
    }
    for (prefix, script, expected) in &scripts {
        let id = format!("{prefix}job");
        let (status, created) =
            arm.put_job(&id, &pipeline_body(&format!("{prefix}20260101000000_x"), &sales_id(&ws, "1"))).await;
        assert_eq!(status, 201, "{created}");
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(status_of(&arm, &id).await);
        }
        assert_eq!(&seen, expected, "{script:?}");
    }
    // A script by id beats an earlier one by prefix.
    sandbox.script_job("fail_by_id", JobScript::Complete);
    arm.put_job("fail_by_id", &pipeline_body("fail_20260101000000_y", &sales_id(&ws, "1"))).await;
    for _ in 0..3 {
        status_of(&arm, "fail_by_id").await;
    }
    assert_eq!(status_of(&arm, "fail_by_id").await, "Completed");
}

#[tokio::test]
async fn seeded_jobs_keep_their_status_unless_scripted_and_steps_are_configurable() {
    let (sandbox, ws, arm) = setup().await;
    sandbox.add_job(&ws, JobSeed { id: "running".into(), status: "Running".into(), ..JobSeed::default() });
    assert_eq!(status_of(&arm, "running").await, "Running");
    assert_eq!(status_of(&arm, "running").await, "Running");
    sandbox.script_job("running", JobScript::Fail);
    assert_eq!(status_of(&arm, "running").await, "Failed");

    sandbox.set_job_steps(&["Starting", "Completed"]);
    arm.put_job("short", &pipeline_body("x", &sales_id(&ws, "1"))).await;
    assert_eq!(status_of(&arm, "short").await, "Completed");
    assert_eq!(sandbox.job(&ws, "short").unwrap()["properties"]["status"], "Completed");
}

/// NotResponding and Paused are not final (spec `JobStatus`: "A run can go from NotResponding to any of the previous
/// states"; Paused is set by users and resumable): a job can leave them, and a cancel still applies.
#[tokio::test]
async fn not_responding_and_paused_are_not_final() {
    let (sandbox, ws, arm) = setup().await;
    let walk = ["Running", "NotResponding", "Running", "Paused", "Running", "Completed"];
    sandbox.script_job("recovers_", JobScript::Steps(walk.iter().map(|s| s.to_string()).collect()));
    arm.put_job("recovers", &pipeline_body("recovers_20260101000000_r", &sales_id(&ws, "1"))).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(status_of(&arm, "recovers").await);
    }
    assert_eq!(seen, ["NotResponding", "Running", "Paused", "Running", "Completed", "Completed"]);
    for (prefix, script) in [("silent_", JobScript::NotResponding), ("held_", JobScript::Status("Paused".into()))] {
        sandbox.script_job(prefix, script);
        let id = format!("{prefix}job");
        arm.put_job(&id, &pipeline_body(&format!("{prefix}20260101000000_x"), &sales_id(&ws, "1"))).await;
        for _ in 0..4 {
            status_of(&arm, &id).await;
        }
        let response = arm.post(&format!("/jobs/{id}/cancel")).await;
        assert_eq!(response.status().as_u16(), 202, "{id}: a cancel applies to a job that is not final");
        assert_eq!(status_of(&arm, &id).await, "Canceled");
    }
}

#[tokio::test]
async fn cancel_answers_202_with_a_location_that_completes() {
    let (sandbox, ws, arm) = setup().await;
    sandbox.script_job("hang_", JobScript::Hang);
    arm.put_job("stuck", &pipeline_body("hang_20260101000000_s", &sales_id(&ws, "1"))).await;
    assert_eq!(status_of(&arm, "stuck").await, "Queued");
    let response = arm.post("/jobs/stuck/cancel").await;
    assert_eq!(response.status().as_u16(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/arm{}/", sandbox.url(), ws.arm_id())), "{location}");
    assert!(location.contains("api-version="), "{location}");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(sandbox.job(&ws, "stuck").unwrap()["properties"]["status"], "CancelRequested");
    let first = arm.follow(&location).await;
    assert_eq!(first.status().as_u16(), 202);
    assert_eq!(arm.follow(&location).await.status().as_u16(), 200);
    assert_eq!(arm.follow(&location).await.status().as_u16(), 200);
    assert_eq!(status_of(&arm, "stuck").await, "Canceled");

    // Without following the Location, the job's next GET shows it canceled.
    arm.put_job("stuck2", &pipeline_body("hang_20260101000000_t", &sales_id(&ws, "1"))).await;
    assert_eq!(arm.post("/jobs/stuck2/cancel").await.status().as_u16(), 202);
    assert_eq!(status_of(&arm, "stuck2").await, "Canceled");
    // Cancelling a finished job is a no-op.
    let again = arm.post("/jobs/stuck2/cancel").await;
    assert_eq!(again.status().as_u16(), 200);
    assert!(again.headers().get("location").is_none());
    assert_eq!(arm.post("/jobs/nope/cancel").await.status().as_u16(), 404);
    let missing = format!("{}/operationResults/00000000-0000-4000-8000-000000000000?api-version={ARM_API}", arm.base);
    assert_eq!(arm.follow(&missing).await.status().as_u16(), 404);
}
