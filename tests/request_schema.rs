//! The request-schema check (issue 8, oracle item 5) is itself tested: the spec's own example request bodies pass,
//! each of them broken one way fails with that exact violation, requests are matched to the right operation, every
//! reference behind the bodies drift sends resolves, and a test's sandbox fails the test when drift sent a broken
//! body. The check of drift's real bodies runs in every test that uses `common::sandbox()` (see `common/mod.rs`).

mod common;

use std::io::{Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, Instant};

use common::schema::openapi::{AZUREML_SPEC_DIR, Spec};
use serde_json::{Value, json};

const JOB: &str = "examples/Job/PipelineJob/createOrUpdate.json";
const DATASTORE: &str = "examples/Datastore/AzureDataLakeGen2WServicePrincipal/createOrUpdate.json";
const DATA: &str = "examples/Workspace/DataVersionBase/createOrUpdate.json";

/// An example file of the spec: its request body and the operation path filled with its parameters.
fn example(file: &str) -> (String, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(AZUREML_SPEC_DIR).join(file);
    let example: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let id = match file {
        JOB => "Jobs_CreateOrUpdate",
        DATASTORE => "Datastores_CreateOrUpdate",
        DATA => "DataVersions_CreateOrUpdate",
        other => panic!("no operation for {other}"),
    };
    let op = Spec::azureml().operation_by_id(id).unwrap();
    let mut url = op.template.clone();
    for (name, value) in example["parameters"].as_object().unwrap() {
        if let Some(text) = value.as_str() {
            url = url.replace(&format!("{{{name}}}"), text);
        }
    }
    (url, example["parameters"]["body"].clone())
}

/// (path, rule) of every violation of a PUT of `body` to `url`.
fn violations(url: &str, body: &Value) -> Vec<(String, &'static str)> {
    match Spec::azureml().check_request("PUT", url, body.to_string().as_bytes()) {
        Ok(_) => Vec::new(),
        Err(found) => found.into_iter().map(|v| (v.path, v.rule)).collect(),
    }
}

#[test]
fn the_spec_examples_and_drift_shaped_bodies_validate() {
    for file in [JOB, DATASTORE, DATA] {
        let (url, body) = example(file);
        assert_eq!(violations(&url, &body), vec![], "{file}");
    }
    // What drift writes: an mltable version with referencedUris and a null-able description, a pipeline job with
    // data inputs (description: null, as the GET returns them) beside literal ones.
    let (url, _) = example(DATA);
    let mltable = json!({"properties": {"dataType": "mltable", "dataUri": "azureml://datastores/workspaceblobstore/paths/LocalUpload/ab/x/",
        "referencedUris": ["azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/raw/paths/t/"],
        "tags": {"drift.deltaVersion": "6"}, "description": null, "isAnonymous": false}});
    assert_eq!(violations(&url, &mltable), vec![]);
    let (url, mut job) = example(JOB);
    job["properties"]["inputs"]["training_data"] =
        json!({"jobInputType": "mltable", "uri": "azureml:sales:1", "mode": "ReadOnlyMount", "description": null});
    job["properties"]["inputs"]["folder"] = json!({"jobInputType": "uri_folder", "uri": "azureml:sales-uri:1"});
    assert_eq!(violations(&url, &job), vec![]);
}

type Mutation = fn(&mut Value);

/// A broken example: what it is, which example, how it is broken, and every (path, rule) it must fail with.
type Case = (&'static str, &'static str, Mutation, &'static [(&'static str, &'static str)]);

#[test]
fn each_broken_example_fails_with_its_violation() {
    let cases: &[Case] = &[
        // additionalProperties: false
        ("unknown member of the envelope", JOB, |b| b["bogus"] = json!(1), &[("$.bogus", "additionalProperties")]),
        (
            "unknown member of PipelineJob",
            JOB,
            |b| b["properties"]["retries"] = json!(3),
            &[("$.properties.retries", "additionalProperties")],
        ),
        (
            "unknown member of ServicePrincipal credentials",
            DATASTORE,
            |b| b["properties"]["credentials"]["password"] = json!("x"),
            &[("$.properties.credentials.password", "additionalProperties")],
        ),
        // required
        (
            "credentials without tenantId",
            DATASTORE,
            |b| remove(&mut b["properties"]["credentials"], "tenantId"),
            &[("$.properties.credentials.tenantId", "required")],
        ),
        (
            "data version without dataUri",
            DATA,
            |b| remove(&mut b["properties"], "dataUri"),
            &[("$.properties.dataUri", "required")],
        ),
        (
            "job without its discriminator",
            JOB,
            |b| remove(&mut b["properties"], "jobType"),
            &[("$.properties.jobType", "required")],
        ),
        ("envelope without properties", DATA, |b| *b = json!({}), &[("$.properties", "required")]),
        // type
        (
            "isArchived as a string",
            JOB,
            |b| b["properties"]["isArchived"] = json!("yes"),
            &[("$.properties.isArchived", "type")],
        ),
        (
            "a tag that is not a string",
            JOB,
            |b| b["properties"]["tags"]["string"] = json!(1),
            &[("$.properties.tags.string", "type")],
        ),
        (
            "a literal input's value as a number",
            JOB,
            |b| b["properties"]["inputs"]["string"]["value"] = json!(5),
            &[("$.properties.inputs.string.value", "type")],
        ),
        (
            "a port with a fraction",
            JOB,
            |b| b["properties"]["services"]["string"]["port"] = json!(1.5),
            &[("$.properties.services.string.port", "type")],
        ),
        // enum (exact, also for modelAsString enums)
        (
            "an identity that is not one",
            DATASTORE,
            |b| b["properties"]["serviceDataAccessAuthIdentity"] = json!("Workspace"),
            &[("$.properties.serviceDataAccessAuthIdentity", "enum")],
        ),
        (
            "an input mode in the wrong case",
            JOB,
            |b| {
                b["properties"]["inputs"]["training_data"] =
                    json!({"jobInputType": "mltable", "uri": "azureml:sales:1", "mode": "readonlymount"})
            },
            &[("$.properties.inputs.training_data.mode", "enum")],
        ),
        // readOnly (and its x-ms-mutability form)
        ("a job status", JOB, |b| b["properties"]["status"] = json!("Running"), &[("$.properties.status", "readOnly")]),
        (
            "the envelope's id (common-types Resource)",
            DATA,
            |b| b["id"] = json!("/subscriptions/x"),
            &[("$.id", "readOnly")],
        ),
        (
            "a datastore's isDefault",
            DATASTORE,
            |b| b["properties"]["isDefault"] = json!(false),
            &[("$.properties.isDefault", "readOnly")],
        ),
        (
            "a job service's status",
            JOB,
            |b| b["properties"]["services"]["string"]["status"] = json!("Running"),
            &[("$.properties.services.string.status", "readOnly")],
        ),
        // discriminator: unknown values
        (
            "jobType Pipelines",
            JOB,
            |b| b["properties"]["jobType"] = json!("Pipelines"),
            &[("$.properties.jobType", "discriminator")],
        ),
        (
            "dataType delta",
            DATA,
            |b| b["properties"]["dataType"] = json!("delta"),
            &[("$.properties.dataType", "discriminator")],
        ),
        (
            "datastoreType AmazonS3",
            DATASTORE,
            |b| b["properties"]["datastoreType"] = json!("AmazonS3"),
            &[("$.properties.datastoreType", "discriminator")],
        ),
        (
            "credentialsType Password",
            DATASTORE,
            |b| b["properties"]["credentials"]["credentialsType"] = json!("Password"),
            &[("$.properties.credentials.credentialsType", "discriminator")],
        ),
        (
            "jobInputType table",
            JOB,
            |b| b["properties"]["inputs"]["string"]["jobInputType"] = json!("table"),
            &[("$.properties.inputs.string.jobInputType", "discriminator")],
        ),
        // discriminator: a member or a part of another subtype
        (
            "referencedUris on a uri_folder",
            DATA,
            |b| {
                b["properties"]["dataType"] = json!("uri_folder");
                b["properties"]["referencedUris"] = json!(["azureml://datastores/x/paths/y/"]);
            },
            &[("$.properties.referencedUris", "additionalProperties")],
        ),
        (
            "a uri on a literal input",
            JOB,
            |b| b["properties"]["inputs"]["string"]["uri"] = json!("azureml:sales:1"),
            &[("$.properties.inputs.string.uri", "additionalProperties")],
        ),
        (
            "account-key secrets in service-principal credentials",
            DATASTORE,
            |b| b["properties"]["credentials"]["secrets"] = json!({"secretsType": "AccountKey", "key": "k"}),
            &[("$.properties.credentials.secrets.secretsType", "discriminator")],
        ),
        // x-nullable
        (
            "a null experimentName",
            JOB,
            |b| b["properties"]["experimentName"] = Value::Null,
            &[("$.properties.experimentName", "x-nullable")],
        ),
        (
            "a null entry in referencedUris",
            DATA,
            |b| {
                b["properties"]["dataType"] = json!("mltable");
                b["properties"]["referencedUris"] = json!([null]);
            },
            &[("$.properties.referencedUris[0]", "x-nullable")],
        ),
        // pattern, minLength, format
        (
            "a dataUri of punctuation",
            DATA,
            |b| b["properties"]["dataUri"] = json!("://"),
            &[("$.properties.dataUri", "pattern")],
        ),
        (
            "an empty dataUri",
            DATA,
            |b| b["properties"]["dataUri"] = json!(""),
            &[("$.properties.dataUri", "minLength"), ("$.properties.dataUri", "pattern")],
        ),
        (
            "a tenantId that is no GUID",
            DATASTORE,
            |b| b["properties"]["credentials"]["tenantId"] = json!("tenant-1"),
            &[("$.properties.credentials.tenantId", "format")],
        ),
        (
            "a port beyond int32",
            JOB,
            |b| b["properties"]["services"]["string"]["port"] = json!(3_000_000_000u64),
            &[("$.properties.services.string.port", "format")],
        ),
    ];
    for (name, file, mutate, expected) in cases {
        let (url, mut body) = example(file);
        mutate(&mut body);
        let expected: Vec<(String, &str)> = expected.iter().map(|(p, r)| (p.to_string(), *r)).collect();
        assert_eq!(violations(&url, &body), expected, "{name}");
    }
}

fn remove(object: &mut Value, key: &str) {
    object.as_object_mut().unwrap().remove(key).unwrap_or_else(|| panic!("{key} was not there"));
}

#[test]
fn violations_say_what_was_expected() {
    let (url, mut body) = example(JOB);
    body["properties"]["jobType"] = json!("Pipelines");
    let found = Spec::azureml().check_request("PUT", &url, body.to_string().as_bytes()).unwrap_err();
    // The base's own name is a legal value (OpenAPI 2.0: "the name of this schema or any schema that inherits it");
    // for JobBase the JobType enum then refuses it.
    assert_eq!(
        found[0].to_string(),
        "$.properties.jobType: [discriminator] \"Pipelines\" is not a JobBase jobType; known: AutoML, Command, \
         JobBase, Pipeline, Spark, Sweep"
    );
    let (url, mut body) = example(DATA);
    body["properties"]["bogus"] = json!(1);
    let found = Spec::azureml().check_request("PUT", &url, body.to_string().as_bytes()).unwrap_err();
    assert!(found[0].message.starts_with("UriFileDataVersion has no member \"bogus\""), "{}", found[0]);
    let (url, mut body) = example(JOB);
    body["properties"]["jobType"] = json!("JobBase");
    assert_eq!(violations(&url, &body), vec![("$.properties.jobType".to_string(), "enum")]);
}

#[test]
fn requests_find_their_operation_and_body_rules() {
    let spec = Spec::azureml();
    let ws = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
    let op = |method, path: &str, body: &str| match spec.check_request(method, path, body.as_bytes()) {
        Ok(op) => Ok(op.id.clone()),
        Err(v) => Err(v.into_iter().map(|v| v.rule).collect::<Vec<_>>()),
    };
    assert_eq!(op("POST", &format!("{ws}/jobs/j1/cancel"), ""), Ok("Jobs_Cancel".into()));
    assert_eq!(op("POST", &format!("{ws}/datastores/d/listSecrets"), ""), Ok("Datastores_ListSecrets".into()));
    // ARM matches literal segments whatever their case.
    let lower = ws.to_ascii_lowercase().replace("/s/", "/S/");
    let (_, job) = example(JOB);
    assert_eq!(op("PUT", &format!("{lower}/JOBS/j1"), &job.to_string()), Ok("Jobs_CreateOrUpdate".into()));
    assert_eq!(op("POST", &format!("{ws}/jobs/j1/cancel"), "{}"), Err(vec!["body"]));
    assert_eq!(op("PUT", &format!("{ws}/jobs/j1"), ""), Err(vec!["body"]));
    assert_eq!(op("PUT", &format!("{ws}/jobs/j1"), "{not json"), Err(vec!["body"]));
    assert_eq!(op("PUT", &format!("{ws}/jobz/j1"), "{}"), Err(vec!["operation"]));
    assert_eq!(op("PATCH", &format!("{ws}/jobs/j1"), "{}"), Err(vec!["operation"]));
}

#[test]
fn every_reference_behind_drifts_operations_resolves() {
    let spec = Spec::azureml();
    for id in [
        "Jobs_CreateOrUpdate",
        "Jobs_Cancel",
        "DataVersions_CreateOrUpdate",
        "Datastores_CreateOrUpdate",
        "Datastores_ListSecrets",
    ] {
        assert_eq!(spec.unresolved_refs(id), Vec::<String>::new(), "{id}");
    }
    // The discriminators drift's bodies go through, with the wire values the spec gives them.
    let has = |root: &str, values: &[&str]| {
        let known = spec.discriminator_values(root);
        for v in values {
            assert!(known.iter().any(|k| k == v), "{root}: {v} not in {known:?}");
        }
    };
    has("JobBase", &["Pipeline", "Command"]);
    has("DataVersionBase", &["mltable", "uri_folder", "uri_file"]);
    has("Datastore", &["AzureDataLakeGen2", "AzureBlob"]);
    has("DatastoreCredentials", &["ServicePrincipal", "AccountKey", "Sas", "None"]);
    has("DatastoreSecrets", &["ServicePrincipal", "AccountKey", "Sas"]);
    has("JobInput", &["mltable", "uri_folder", "uri_file", "literal"]);
}

/// The hook: a sandbox whose recorded traffic holds a broken body from drift fails the test when it is dropped,
/// naming the violation; requests that are not drift's ARM writes are not checked.
#[test]
fn a_sandbox_that_received_a_broken_body_fails_the_test() {
    let sb = common::sandbox();
    let url = format!(
        "/arm/subscriptions/{}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/jobs/j1?api-version=2025-12-01",
        common::SUBSCRIPTION
    );
    let broken = r#"{"properties":{"jobType":"Pipeline","status":"Running"}}"#;
    send(&sb, "PUT", &url, "drift/0.1.0", broken);
    send(&sb, "PUT", &url, "curl/8.0", broken);
    send(&sb, "GET", &url, "drift/0.1.0", "");
    let deadline = Instant::now() + Duration::from_secs(10);
    while sb.requests().len() < 3 {
        assert!(Instant::now() < deadline, "the sandbox did not record the requests");
        std::thread::sleep(Duration::from_millis(20));
    }
    let checked = common::schema::check(&sb.requests());
    assert_eq!((checked.operations.len(), checked.failures.len()), (1, 1), "only drift's PUT is checked: {checked:?}");
    let panic = std::panic::catch_unwind(AssertUnwindSafe(move || drop(sb))).expect_err("the drop fails the test");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("1 of the 1 ARM writes drift sent"), "{message}");
    assert!(message.contains("$.properties.status: [readOnly] PipelineJob.status is read-only"), "{message}");
}

/// One HTTP/1.1 request straight to the sandbox (no token: it answers 401, and records it all the same).
fn send(sb: &common::Sandbox, method: &str, target: &str, user_agent: &str, body: &str) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", sb.port())).unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {user_agent}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}
