"""Sandbox conformance: azure-ai-ml performs every operation drift performs against drift-sandbox, unchanged, and
the sandbox accepts each and gives back what was stored. A rejection here is a sandbox bug (what the SDK sends is
what the service is known to accept)."""

from __future__ import annotations

import json
import re

import peer
import pytest
from azure.ai.ml import Input
from azure.ai.ml._utils._asset_utils import get_object_hash
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import (
    AzureBlobDatastore,
    AzureDataLakeGen2Datastore,
    Data,
    PipelineJob,
    ServicePrincipalConfiguration,
)
from azure.ai.ml.exceptions import MlException

WS = peer.WORKSPACE_ID
LONG_PREFIX = (
    f"azureml://subscriptions/{peer.SUBSCRIPTION}/resourcegroups/{peer.RESOURCE_GROUP}"
    f"/workspaces/{peer.WORKSPACE}/datastores"
)
FOLDER_URI = f"{LONG_PREFIX}/{peer.DATASTORE}/paths/{peer.TABLE_PATH}"


def only(requests: list[peer.Request], method: str, pattern: str, query=...) -> peer.Request:
    """The one request with this method whose path matches `pattern` (a regex searched in the path) and, when
    `query` is given, whose raw query is exactly that (None: no query)."""
    found = [
        r for r in requests if r.method == method and re.search(pattern, r.path) and (query is ... or r.query == query)
    ]
    assert len(found) == 1, f"expected one {method} {pattern}, got:\n" + "\n".join(map(str, requests))
    return found[0]


def no_rejections(requests: list[peer.Request], allowed_404: tuple[str, ...] = ()) -> None:
    """Every request was accepted (2xx), except 404s on paths the SDK probes on purpose."""
    bad = [r for r in requests if r.status >= 300 and not (r.status == 404 and r.path.endswith(allowed_404))]
    assert not bad, "the sandbox rejected what the SDK sent:\n" + "\n".join(map(str, bad))


def arm_get(sdk, suffix: str) -> dict:
    """The sandbox's own answer to a GET, read with the SDK's credential (what the service stored)."""
    import requests

    token = sdk.credential.get_token("https://management.azure.com/.default").token
    response = requests.get(
        f"{sdk.sandbox.url}/arm{WS}{suffix}",
        params={"api-version": "2025-12-01"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def write_mltable(folder, text: str):
    folder.mkdir(parents=True)
    (folder / "MLTable").write_text(text)
    return folder


def mltable_text(version: int) -> str:
    return (
        f"paths:\n- folder: {FOLDER_URI}\ntransformations:\n- read_delta_lake:\n"
        f"    include_path_column: false\n    version_as_of: {version}\ntype: mltable\n"
    )


def test_adls_gen2_datastore_with_service_principal_is_stored_and_returned(sdk):
    ml = sdk.client
    sdk.sandbox.mark()
    created = ml.datastores.create_or_update(
        AzureDataLakeGen2Datastore(
            name=peer.DATASTORE,
            account_name=peer.LAKE_ACCOUNT,
            filesystem=peer.LAKE_CONTAINER,
            description="the curated lake",
            tags={"owner": "oracle"},
            credentials=ServicePrincipalConfiguration(
                tenant_id=peer.TENANT, client_id=peer.CLIENT_ID, client_secret=peer.CLIENT_SECRET
            ),
        )
    )
    put = only(sdk.sandbox.since_mark(), "PUT", r"/datastores/curated$")
    assert put.status == 201
    sent = put.json()["properties"]
    assert sent["credentials"]["secrets"] == {"secretsType": "ServicePrincipal", "clientSecret": peer.CLIENT_SECRET}

    stored = arm_get(sdk, "/datastores/curated")["properties"]
    expected = json.loads(json.dumps(sent))
    # Write-only: sent in the PUT, answered as its type only (the spec's examples/Datastore/get.json).
    expected["credentials"]["secrets"] = {"secretsType": "ServicePrincipal"}
    for key, value in expected.items():
        assert stored[key] == value, f"{key}: sent {value!r}, stored {stored.get(key)!r}"
    assert stored["isDefault"] is False

    fetched = ml.datastores.get(peer.DATASTORE)
    assert isinstance(fetched, AzureDataLakeGen2Datastore)
    assert (fetched.account_name, fetched.filesystem, fetched.endpoint) == (
        peer.LAKE_ACCOUNT,
        peer.LAKE_CONTAINER,
        "core.windows.net",
    )
    assert fetched.credentials.tenant_id == peer.TENANT and fetched.credentials.client_id == peer.CLIENT_ID
    assert fetched.credentials.client_secret is None
    assert fetched.description == created.description == "the curated lake"
    assert fetched.tags == {"owner": "oracle"}
    no_rejections(sdk.sandbox.since_mark())


def test_workspaceblobstore_get_with_secrets(sdk):
    sdk.sandbox.mark()
    store = sdk.client.datastores.get("workspaceblobstore", include_secrets=True)
    assert isinstance(store, AzureBlobDatastore)
    assert (store.account_name, store.container_name) == (peer.ML_ACCOUNT, peer.ML_CONTAINER)
    # The seed's account key, handed out by listSecrets.
    assert store.credentials.account_key == "ZHJpZnQtb3JhY2xlLW1sLWtleQ=="
    requests = sdk.sandbox.since_mark()
    only(requests, "GET", r"/datastores/workspaceblobstore$")
    secrets = only(requests, "POST", r"/datastores/workspaceblobstore/listSecrets$")
    assert secrets.json() == {"expirableSecret": True, "expireAfterHours": 1}, "the SDK's body, accepted"
    no_rejections(requests)
    default = sdk.client.datastores.get_default()
    assert default.name == "workspaceblobstore"


def test_local_mltable_folder_is_validated_uploaded_and_registered(sdk, tmp_path):
    folder = write_mltable(tmp_path / peer.MLTABLE_ASSET, mltable_text(6))
    digest = get_object_hash(folder)
    blob_path = f"LocalUpload/{digest}/{peer.MLTABLE_ASSET}/MLTable"
    before = len(sdk.schema.paths)
    sdk.sandbox.mark()
    data = sdk.client.data.create_or_update(
        Data(
            name=peer.MLTABLE_ASSET,
            version="20261204000000",
            type=AssetTypes.MLTABLE,
            path=str(folder),
            description="from a local folder",
            tags={"k": "v"},
        )
    )
    assert sdk.schema.paths[before:] == ["/latest/MLTable.schema.json"], "the SDK validated against the schema"
    requests = sdk.sandbox.since_mark()
    blob = f"/blob/{peer.ML_ACCOUNT}/{peer.ML_CONTAINER}/{blob_path}"
    head = only(requests, "HEAD", re.escape(blob) + "$")
    assert head.status == 404
    upload = only(requests, "PUT", re.escape(blob) + "$", query=None)
    assert upload.status == 201
    assert upload.body == (folder / "MLTable").read_bytes()
    assert upload.header("x-ms-blob-type") == "BlockBlob" and upload.header("if-none-match") == "*"
    assert upload.header("authorization").startswith(f"SharedKey {peer.ML_ACCOUNT}:")
    metadata = only(requests, "PUT", re.escape(blob) + "$", query="comp=metadata")
    assert metadata.status == 200
    assert {k: v for k, v in metadata.headers if k.startswith("x-ms-meta-")} == {
        "x-ms-meta-upload_status": "completed",
        "x-ms-meta-name": peer.MLTABLE_ASSET,
        "x-ms-meta-version": "20261204000000",
    }
    put = only(requests, "PUT", r"/data/curated-delta-sales-daily-mltable/versions/20261204000000$")
    assert put.status == 201
    assert (
        put.json()["properties"]["dataUri"]
        == f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{digest}/{peer.MLTABLE_ASSET}"
    )
    assert put.json()["properties"]["referencedUris"] == [FOLDER_URI]
    no_rejections(requests, allowed_404=("/MLTable",))

    long_path = f"{LONG_PREFIX}/workspaceblobstore/paths/LocalUpload/{digest}/{peer.MLTABLE_ASSET}/"
    assert data.path == long_path, "the service normalises dataUri to the long form with a trailing /"
    stored = arm_get(sdk, f"/data/{peer.MLTABLE_ASSET}/versions/20261204000000")["properties"]
    assert stored["dataUri"] == long_path and stored["referencedUris"] == [FOLDER_URI]
    assert (stored["dataType"], stored["description"], stored["tags"]) == ("mltable", "from a local folder", {"k": "v"})
    fetched = sdk.client.data.get(peer.MLTABLE_ASSET, version="20261204000000")
    assert (fetched.type, fetched.path, fetched.version) == ("mltable", long_path, "20261204000000")


def test_an_uploaded_folder_is_not_uploaded_again(sdk, tmp_path):
    """The "already uploaded" contract drift relies on: a blob with upload_status=completed is reused."""
    folder = write_mltable(tmp_path / peer.MLTABLE_ASSET, mltable_text(6))
    for version in ("1", "2"):
        sdk.sandbox.mark()
        sdk.client.data.create_or_update(
            Data(name=peer.MLTABLE_ASSET, version=version, type=AssetTypes.MLTABLE, path=str(folder))
        )
        uploads = [r for r in sdk.sandbox.since_mark() if r.path.startswith("/blob/") and r.method == "PUT"]
        assert len(uploads) == (2 if version == "1" else 0), "\n".join(map(str, uploads))
    assert {v.version for v in sdk.client.data.list(name=peer.MLTABLE_ASSET)} == {"1", "2", peer.OLD_VERSION}


def test_an_mltable_that_breaks_the_schema_is_refused_before_any_request(sdk, tmp_path):
    """Proves the served schema is used: this file passes the SDK's own marshmallow schema and fails only the JSON
    schema; without the schema the SDK would skip that check silently and upload it."""
    folder = write_mltable(tmp_path / "broken", mltable_text(6).replace("version_as_of: 6", "version_as_of: six"))
    sdk.sandbox.mark()
    with pytest.raises(MlException, match="version_as_of: 'six' is not of type 'integer'"):
        sdk.client.data.create_or_update(Data(name="broken", version="1", type=AssetTypes.MLTABLE, path=str(folder)))
    assert not [r for r in sdk.sandbox.since_mark() if r.method == "PUT"]


def test_uri_folder_on_the_adls_datastore(sdk):
    sdk.client.datastores.create_or_update(
        AzureDataLakeGen2Datastore(
            name=peer.DATASTORE,
            account_name=peer.LAKE_ACCOUNT,
            filesystem=peer.LAKE_CONTAINER,
            credentials=ServicePrincipalConfiguration(
                tenant_id=peer.TENANT, client_id=peer.CLIENT_ID, client_secret=peer.CLIENT_SECRET
            ),
        )
    )
    sdk.sandbox.mark()
    data = sdk.client.data.create_or_update(
        Data(name=peer.URI_ASSET, version="20261204000000", type=AssetTypes.URI_FOLDER, path=FOLDER_URI)
    )
    put = only(sdk.sandbox.since_mark(), "PUT", r"/data/curated-delta-sales-daily-uri/versions/20261204000000$")
    assert put.status == 201 and put.json()["properties"]["dataUri"] == FOLDER_URI
    assert data.path == FOLDER_URI + "/"
    stored = arm_get(sdk, f"/data/{peer.URI_ASSET}/versions/20261204000000")["properties"]
    assert (stored["dataType"], stored["dataUri"]) == ("uri_folder", FOLDER_URI + "/")
    no_rejections(sdk.sandbox.since_mark())


def test_data_versions_list_get_and_latest(sdk, tmp_path):
    folder = write_mltable(tmp_path / peer.MLTABLE_ASSET, mltable_text(6))
    sdk.client.data.create_or_update(
        Data(name=peer.MLTABLE_ASSET, version="20261204000000", type=AssetTypes.MLTABLE, path=str(folder))
    )
    sdk.sandbox.mark()
    versions = [d.version for d in sdk.client.data.list(name=peer.MLTABLE_ASSET)]
    assert sorted(versions) == [peer.OLD_VERSION, "20261204000000"]
    latest = sdk.client.data.get(peer.MLTABLE_ASSET, label="latest")
    assert latest.version == "20261204000000"
    old = sdk.client.data.get(peer.MLTABLE_ASSET, version=peer.OLD_VERSION)
    assert old.type == "mltable"
    no_rejections(sdk.sandbox.since_mark())


def test_pipeline_jobs_list_and_get(sdk):
    sdk.sandbox.mark()
    listed = list(sdk.client.jobs.list())
    assert [j.name for j in listed] == [peer.TEMPLATE_JOB]
    job = sdk.client.jobs.get(peer.TEMPLATE_JOB)
    assert isinstance(job, PipelineJob)
    assert job.display_name == "forecast_20261101080000_aaaaaa" and job.status == "Completed"
    # The SDK turns the stored bare ARM ids into `name:version` (its `_resolve_azureml_id`).
    training, raw = job.inputs.training_data.result(), job.inputs.raw_folder.result()
    assert (training.type, training.path, training.mode) == (
        AssetTypes.MLTABLE,
        f"{peer.MLTABLE_ASSET}:{peer.OLD_VERSION}",
        "ro_mount",
    )
    assert (raw.type, raw.path) == (AssetTypes.URI_FOLDER, f"{peer.URI_ASSET}:{peer.OLD_VERSION}")
    assert job.compute == "cpu-cluster"
    assert set(job.jobs) == {"train"}
    no_rejections(sdk.sandbox.since_mark())


def test_a_fetched_pipeline_job_resubmitted_with_one_input_replaced(sdk, tmp_path):
    folder = write_mltable(tmp_path / peer.MLTABLE_ASSET, mltable_text(6))
    sdk.client.data.create_or_update(
        Data(name=peer.MLTABLE_ASSET, version="20261204000000", type=AssetTypes.MLTABLE, path=str(folder))
    )
    job = sdk.client.jobs.get(peer.TEMPLATE_JOB)
    # `job.inputs["training_data"] = Input(...)` breaks the SDK's own serialiser (AttributeError: 'Input' object has
    # no attribute '_to_job_input'); attribute assignment is its way to rebind a pipeline input.
    job.inputs.training_data = Input(type=AssetTypes.MLTABLE, path=f"azureml:{peer.MLTABLE_ASSET}:20261204000000")
    job.name = "forecast-oracle-resubmission"
    sdk.sandbox.mark()
    submitted = sdk.client.jobs.create_or_update(job)
    requests = sdk.sandbox.since_mark()
    put = only(requests, "PUT", r"/jobs/forecast-oracle-resubmission$")
    assert put.status == 201
    token = put.header("x-azureml-token")
    assert token and not token.startswith("Bearer "), f"the SDK sends the bare token: {token[:20]}"
    assert peer.jwt_claims(token)["aud"] == "https://ml.azure.com"
    # Probes on the way: the new name must not exist yet, the compute must.
    assert only(requests, "GET", r"/jobs/forecast-oracle-resubmission$").status == 404
    assert only(requests, "GET", r"/computes/cpu-cluster$").status == 200
    no_rejections(requests, allowed_404=("/jobs/forecast-oracle-resubmission",))

    stored = arm_get(sdk, "/jobs/forecast-oracle-resubmission")["properties"]
    new_id = f"{WS}/data/{peer.MLTABLE_ASSET}/versions/20261204000000"
    assert stored["inputs"]["training_data"] == {"jobInputType": "mltable", "uri": new_id}
    assert stored["inputs"]["raw_folder"]["uri"] == f"{WS}/data/{peer.URI_ASSET}/versions/{peer.OLD_VERSION}"
    assert stored["displayName"] == "forecast_20261101080000_aaaaaa", "the SDK keeps the fetched display name"
    assert (submitted.name, submitted.status) == ("forecast-oracle-resubmission", "NotStarted")
    assert submitted.inputs.training_data.result().path == f"{peer.MLTABLE_ASSET}:20261204000000"


def test_job_cancel_is_followed_to_canceled(sdk):
    job = sdk.client.jobs.get(peer.TEMPLATE_JOB)
    job.name = "forecast-oracle-to-cancel"
    sdk.client.jobs.create_or_update(job)
    sdk.sandbox.mark()
    sdk.client.jobs.begin_cancel("forecast-oracle-to-cancel").result(timeout=30)
    requests = sdk.sandbox.since_mark()
    cancel = only(requests, "POST", r"/jobs/forecast-oracle-to-cancel/cancel$")
    assert cancel.status == 202
    polls = [r for r in requests if "/operationResults/" in r.path]
    assert polls and polls[-1].status == 200, "the poller followed Location until the operation finished"
    no_rejections(requests)
    assert sdk.client.jobs.get("forecast-oracle-to-cancel").status == "Canceled"
