"""Read-back: azure-ai-ml reads what drift created (in drift's own sandbox) and gets the entities it expects."""

from __future__ import annotations

import peer
import pytest
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import AzureDataLakeGen2Datastore, PipelineJob
from conftest import make_sdk

LONG = (
    f"azureml://subscriptions/{peer.SUBSCRIPTION}/resourcegroups/{peer.RESOURCE_GROUP}"
    f"/workspaces/{peer.WORKSPACE}/datastores"
)


@pytest.fixture(scope="module")
def ml(drift_side, schema_server):
    side = make_sdk(drift_side.sandbox, schema_server)
    with side.routed() as client:
        yield client


def test_the_datastore(ml):
    store = ml.datastores.get(peer.DATASTORE)
    assert isinstance(store, AzureDataLakeGen2Datastore)
    assert (store.account_name, store.filesystem, store.endpoint, store.protocol) == (
        peer.LAKE_ACCOUNT,
        peer.LAKE_CONTAINER,
        "core.windows.net",
        "https",
    )
    creds = store.credentials
    assert (creds.tenant_id, creds.client_id, creds.client_secret) == (peer.TENANT, peer.CLIENT_ID, None)
    # The public cloud's authority as the SDK writes it, never the sandbox's AZURE_AUTHORITY_HOST override.
    assert creds.authority_url == "https://login.microsoftonline.com"
    assert creds.resource_url == "https://storage.azure.com/"


def test_the_mltable_version(ml, drift_side):
    data = ml.data.get(peer.MLTABLE_ASSET, version=drift_side.version)
    upload = drift_side.register_report["details"]["upload"]["path"]  # LocalUpload/{hash}/{asset}/MLTable
    assert data.type == AssetTypes.MLTABLE and data.version == drift_side.version
    assert data.path == f"{LONG}/workspaceblobstore/paths/{upload.removesuffix('MLTable')}"
    # The SDK keeps referencedUris on the entity without a public accessor.
    assert data._referenced_uris == [f"{LONG}/{peer.DATASTORE}/paths/{peer.TABLE_PATH}"]
    assert data.tags["drift.deltaVersion"] == str(peer.DELTA_VERSION)
    latest = ml.data.get(peer.MLTABLE_ASSET, label="latest")
    assert latest.version == drift_side.version


def test_the_uri_folder_version(ml, drift_side):
    data = ml.data.get(peer.URI_ASSET, version=drift_side.version)
    assert data.type == AssetTypes.URI_FOLDER and data.version == drift_side.version
    assert data.path == f"{LONG}/{peer.DATASTORE}/paths/{peer.TABLE_PATH}/"
    assert data.tags == ml.data.get(peer.MLTABLE_ASSET, version=drift_side.version).tags


def test_the_resubmitted_job(ml, drift_side):
    job = ml.jobs.get(drift_side.job["id"])
    assert isinstance(job, PipelineJob)
    assert job.display_name == drift_side.job["displayName"]
    assert job.status == "Completed" and job.experiment_name == "forecast"
    assert job.compute == "cpu-cluster"
    training, raw = job.inputs.training_data.result(), job.inputs.raw_folder.result()
    assert (training.type, training.path, training.mode) == (
        AssetTypes.MLTABLE,
        f"{peer.MLTABLE_ASSET}:{drift_side.version}",
        "ro_mount",
    )
    assert (raw.type, raw.path, raw.mode) == (
        AssetTypes.URI_FOLDER,
        f"{peer.URI_ASSET}:{drift_side.version}",
        "ro_mount",
    )
    assert set(job.jobs) == {"train"}
    assert job.tags == {"drift.baseJob": peer.TEMPLATE_JOB, "drift.dataAssetVersion": drift_side.version}
