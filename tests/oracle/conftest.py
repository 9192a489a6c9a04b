"""Fixtures of the oracle suite: drift-sandbox processes, the SDK routed to one of them, and the two sides of the
parity comparison (drift's run and the SDK doing the same), each in a fresh sandbox seeded from seed.json."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import peer
import pytest
from azure.ai.ml import Input, MLClient
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import AzureDataLakeGen2Datastore, Data, ServicePrincipalConfiguration

# The SDK's progress bars and the mltable package's telemetry have nowhere to go; keep the output readable.
os.environ.setdefault("AZUREML_LOG_LEVEL", "WARNING")
logging.getLogger("azure").setLevel(logging.WARNING)


@pytest.fixture(scope="session", autouse=True)
def outside_any_repository(tmp_path_factory) -> Iterator[None]:
    """The SDK adds the git branch, commit and dirty flag of the current directory to every job it submits
    (`_job_operations.py`, `get_git_properties`); run it where there is no repository, so the bodies do not depend
    on the checkout the suite runs in."""
    previous = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(previous)


@pytest.fixture(scope="session")
def schema_server() -> Iterator[peer.SchemaServer]:
    server = peer.SchemaServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandboxes(tmp_path_factory) -> Iterator[Callable[[str], peer.Sandbox]]:
    """A factory of fresh sandboxes (seed.json), all stopped at the end of the session."""
    started: list[peer.Sandbox] = []

    def start(name: str) -> peer.Sandbox:
        sandbox = peer.Sandbox.start(tmp_path_factory.mktemp(name))
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@dataclass
class Sdk:
    """An MLClient whose requests reach `sandbox` (only inside `with sdk.routed():`)."""

    sandbox: peer.Sandbox
    client: MLClient
    credential: peer.SandboxCredential
    schema: peer.SchemaServer

    @contextlib.contextmanager
    def routed(self) -> Iterator[MLClient]:
        with peer.route_azure_to(self.sandbox, self.schema):
            yield self.client


def make_sdk(sandbox: peer.Sandbox, schema: peer.SchemaServer) -> Sdk:
    credential = peer.SandboxCredential(sandbox)
    client = MLClient(
        credential,
        peer.SUBSCRIPTION,
        peer.RESOURCE_GROUP,
        peer.WORKSPACE,
        enable_telemetry=False,
        show_progress=False,
    )
    return Sdk(sandbox, client, credential, schema)


@pytest.fixture
def sdk(sandboxes, schema_server) -> Iterator[Sdk]:
    """The SDK routed to a fresh sandbox for the whole test: `sdk.client`, `sdk.sandbox`."""
    side = make_sdk(sandboxes("conformance"), schema_server)
    with side.routed():
        yield side


@dataclass
class DriftSide:
    """drift's registrator and retrainer runs against one sandbox."""

    sandbox: peer.Sandbox
    register_report: dict
    retrain_report: dict
    requests: list[peer.Request]

    @property
    def version(self) -> str:
        return self.register_report["task_values"]["data_asset_version"]

    @property
    def job(self) -> dict:
        (group,) = self.retrain_report["details"]["groups"]
        return group["job"]


@pytest.fixture(scope="session")
def drift_side(sandboxes) -> DriftSide:
    sandbox = sandboxes("drift")
    code, register, stderr = peer.drift(sandbox, "run", "--config", str(peer.HERE / "registrator.yaml"))
    assert code == 0 and register and register["outcome"] == "registered", f"registrator: exit {code}\n{stderr}"
    version = register["task_values"]["data_asset_version"]
    code, retrain, stderr = peer.drift(
        sandbox, "run", "--config", str(peer.HERE / "retrainer.yaml"), "--data_asset_version", version
    )
    assert code == 0 and retrain and retrain["outcome"] == "completed", f"retrainer: exit {code}\n{stderr}"
    return DriftSide(sandbox, register, retrain, sandbox.requests())


@dataclass
class SdkSide:
    """The SDK doing what drift did, with drift's names, version and job id, in a sandbox of its own."""

    sdk: Sdk
    requests: list[peer.Request]
    mltable_folder: Path


@pytest.fixture(scope="session")
def sdk_side(sandboxes, schema_server, drift_side, tmp_path_factory) -> SdkSide:
    side = make_sdk(sandboxes("sdk"), schema_server)
    version = drift_side.version
    details = drift_side.register_report["details"]
    folder_uri = next(a["dataUri"] for a in details["assets"] if a["type"] == "uri_folder")
    # The local folder the SDK uploads is named like the asset: that name is the last segment of the upload path.
    folder = tmp_path_factory.mktemp("sdk-mltable") / peer.MLTABLE_ASSET
    folder.mkdir()
    import mltable

    mltable.from_delta_lake(folder_uri, version_as_of=peer.DELTA_VERSION).save(str(folder))
    with side.routed() as ml:
        ml.datastores.create_or_update(
            AzureDataLakeGen2Datastore(
                name=peer.DATASTORE,
                account_name=peer.LAKE_ACCOUNT,
                filesystem=peer.LAKE_CONTAINER,
                credentials=ServicePrincipalConfiguration(
                    tenant_id=peer.TENANT, client_id=peer.CLIENT_ID, client_secret=peer.CLIENT_SECRET
                ),
            )
        )
        ml.data.create_or_update(
            Data(name=peer.MLTABLE_ASSET, version=version, type=AssetTypes.MLTABLE, path=str(folder))
        )
        ml.data.create_or_update(
            Data(name=peer.URI_ASSET, version=version, type=AssetTypes.URI_FOLDER, path=folder_uri)
        )
        job = ml.jobs.get(peer.TEMPLATE_JOB)
        job.inputs.training_data = Input(type=AssetTypes.MLTABLE, path=f"azureml:{peer.MLTABLE_ASSET}:{version}")
        job.inputs.raw_folder = Input(type=AssetTypes.URI_FOLDER, path=f"azureml:{peer.URI_ASSET}:{version}")
        job.name = drift_side.job["id"]
        job.display_name = drift_side.job["displayName"]
        ml.jobs.create_or_update(job)
    return SdkSide(side, side.sandbox.requests(), folder)
