"""What tests/oracle/README.md quotes from the installed SDK and the vendored spec, pinned: when a new SDK or
spec changes one of these facts, this fails and the README (and maybe drift) must follow."""

from __future__ import annotations

import inspect
import json

import peer
from azure.ai.ml.operations import _job_operations, _run_history_constants
from azure.ai.ml.operations._run_history_constants import JobStatus, RunHistoryConstants

SPEC = peer.ROOT / "tests/contracts/azureml/stable/2025-12-01/mfe.json"


def test_the_ml_token_header_is_the_bare_access_token():
    source = inspect.getsource(_job_operations.JobOperations._set_headers_with_user_aml_token)
    assert "aml_token = self._credential.get_token(*azure_ml_scopes).token" in source, source
    assert 'headers["x-azureml-token"] = aml_token' in source, source
    # ... and it must be a JWT for https://ml.azure.com, or the SDK refuses to submit.
    assert 'if decoded_token.get("aud") != aml_resource_id:' in source, source


def test_the_sdk_calls_not_responding_and_paused_terminal_but_the_spec_does_not():
    assert RunHistoryConstants.TERMINAL_STATUSES == [
        JobStatus.COMPLETED,
        JobStatus.FAILED,
        JobStatus.CANCELED,
        JobStatus.NOTRESPONDING,
        JobStatus.PAUSED,
    ]
    # jobs.stream() waits only while a job is in IN_PROGRESS_STATUSES or Finalizing, so it also returns on
    # CancelRequested.
    assert JobStatus.CANCEL_REQUESTED not in RunHistoryConstants.IN_PROGRESS_STATUSES
    assert "NotResponding - For runs that have Heartbeats enabled" in inspect.getsource(_run_history_constants)
    values = {
        v["value"]: v["description"]
        for v in json.loads(SPEC.read_text())["definitions"]["JobStatus"]["x-ms-enum"]["values"]
    }
    assert "A run can go from NotResponding to any of the previous states." in values["NotResponding"]
    assert values["Paused"] == (
        "The job is paused by users. Some adjustment to labeling jobs can be made only in paused state."
    )
