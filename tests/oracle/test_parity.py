"""Request parity: the same work done by drift and by azure-ai-ml, each against a fresh sandbox seeded alike,
compared request by request (method, path, query, the headers that matter, JSON body). Differences must be listed,
with a reason, in intended_differences.yaml; anything else fails."""

from __future__ import annotations

import parity
import peer
import pytest

OPERATIONS = list(parity.OPERATIONS)


@pytest.fixture(scope="module")
def differences(drift_side, sdk_side) -> dict[str, list[parity.Difference]]:
    return {
        op: parity.compare(op, parity.find(drift_side.requests, op), parity.find(sdk_side.requests, op))
        for op in OPERATIONS
    }


@pytest.fixture(scope="module")
def intended() -> list[parity.Intended]:
    return parity.load_intended()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_requests_match_but_for_intended_differences(operation, differences, intended):
    unexplained = [d for d in differences[operation] if not any(i.covers(d) for i in intended)]
    assert not unexplained, "differences not in intended_differences.yaml:\n" + "\n".join(map(str, unexplained))


def test_every_intended_difference_still_occurs(differences, intended):
    found = [d for diffs in differences.values() for d in diffs]
    stale = [i for i in intended if not any(i.covers(d) for d in found)]
    assert not stale, "intended_differences.yaml entries that match nothing (remove them):\n" + "\n".join(
        f"{i.operation}: {i.where} {i.kind}" for i in stale
    )


def test_both_sides_were_accepted(drift_side, sdk_side):
    """What is compared was accepted by the sandbox on both sides (a rejected request proves nothing)."""
    for side, requests in (("drift", drift_side.requests), ("sdk", sdk_side.requests)):
        for op in OPERATIONS:
            r = parity.find(requests, op)
            # The HEAD asks whether the upload exists yet: on a first registration it does not.
            ok = r.status == 404 if op == "MLTable blob HEAD" else 200 <= r.status < 300
            assert ok, f"{side}: {r}"


def test_the_pipeline_put_carries_the_bare_ml_token(drift_side, sdk_side):
    """azure-ai-ml sets headers["x-azureml-token"] = <access token> (no "Bearer "), for https://ml.azure.com."""
    for side in (drift_side, sdk_side):
        put = parity.find(side.requests, "pipeline job PUT")
        assert parity.headers_of(put)["x-azureml-token"] == "<jwt aud=https://ml.azure.com>", put.header(
            "x-azureml-token"
        )[:12]


def test_the_comparison_catches_a_bearer_prefixed_token(drift_side, sdk_side, intended):
    """The check itself can fail: drift's PUT with "Bearer " put back is an unexplained difference."""
    put = parity.find(drift_side.requests, "pipeline job PUT")
    token = put.header("x-azureml-token")
    broken = peer.Request(
        put.seq,
        put.method,
        put.path,
        put.query,
        [(k, f"Bearer {token}" if k == "x-azureml-token" else v) for k, v in put.headers],
        put.status,
        put.body,
    )
    diffs = parity.compare("pipeline job PUT", broken, parity.find(sdk_side.requests, "pipeline job PUT"))
    unexplained = [d for d in diffs if not any(i.covers(d) for i in intended)]
    assert [str(d) for d in unexplained] == [
        "pipeline job PUT: header.x-azureml-token differs: drift 'Bearer <jwt aud=https://ml.azure.com>' / "
        "sdk '<jwt aud=https://ml.azure.com>'"
    ]
