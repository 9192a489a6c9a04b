"""Field-by-field comparison of two recorded requests (drift's and the SDK's) and the checked-in list of intended
differences (intended_differences.yaml)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import peer
import yaml

INTENDED = Path(__file__).resolve().parent / "intended_differences.yaml"

# Headers whose value is part of the contract. Everything else (User-Agent, client request ids, dates, Accept,
# Content-Length, tracing) is transport detail and differs by nature.
HEADERS = (
    "authorization",
    "x-azureml-token",
    "content-type",
    "content-md5",
    "x-ms-version",
    "x-ms-blob-type",
    "if-none-match",
    "if-match",
)
HEADER_PREFIXES = ("x-ms-meta-", "x-ms-blob-content-")

# The requests compared: name → (method, path regex, exact raw query or ... for any).
OPERATIONS = {
    "datastore PUT": ("PUT", r"/datastores/curated$", ...),
    "workspaceblobstore GET": ("GET", r"/datastores/workspaceblobstore$", ...),
    "workspaceblobstore listSecrets": ("POST", r"/datastores/workspaceblobstore/listSecrets$", ...),
    "MLTable blob HEAD": ("HEAD", r"^/blob/.*/LocalUpload/[0-9a-f]+/[^/]+/MLTable$", ...),
    "MLTable blob PUT": ("PUT", r"^/blob/.*/LocalUpload/[0-9a-f]+/[^/]+/MLTable$", None),
    "MLTable blob metadata": ("PUT", r"^/blob/.*/LocalUpload/[0-9a-f]+/[^/]+/MLTable$", "comp=metadata"),
    "mltable data version PUT": ("PUT", r"/data/curated-delta-sales-daily-mltable/versions/[^/]+$", ...),
    "uri_folder data version PUT": ("PUT", r"/data/curated-delta-sales-daily-uri/versions/[^/]+$", ...),
    "base job GET": ("GET", r"/jobs/forecast-20261101080000-aaaaaa$", ...),
    "pipeline job PUT": ("PUT", r"/jobs/[^/]+$", ...),
}


@dataclass(frozen=True)
class Difference:
    operation: str
    where: str  # method | path | query.NAME | header.NAME | body | body/json/pointer
    kind: str  # differs | drift-only | sdk-only
    drift: object = None
    sdk: object = None

    def __str__(self) -> str:
        values = {
            "differs": f"drift {self.drift!r} / sdk {self.sdk!r}",
            "drift-only": f"drift {self.drift!r}",
            "sdk-only": f"sdk {self.sdk!r}",
        }[self.kind]
        return f"{self.operation}: {self.where} {self.kind}: {values}"


def find(requests: list[peer.Request], operation: str) -> peer.Request:
    """The first request of the operation (a retry or a second poll is not a different request shape)."""
    method, pattern, query = OPERATIONS[operation]
    for r in requests:
        if r.method == method and re.search(pattern, r.path) and (query is ... or r.query == query):
            return r
    raise AssertionError(f"no request for {operation!r} among:\n" + "\n".join(map(str, requests)))


def _token(value: str) -> str:
    """A bearer token as `<jwt aud=...>` so two runs compare by what matters: the scheme and the audience."""
    try:
        return f"<jwt aud={peer.jwt_claims(value)['aud']}>"
    except Exception:  # noqa: BLE001 (anything undecodable is shown as such)
        return "<not a JWT>"


def normalise_header(name: str, value: str) -> str:
    if name == "authorization":
        scheme, _, rest = value.partition(" ")
        if scheme.lower() == "bearer":
            return f"{scheme} {_token(rest)}"
        if scheme == "SharedKey":
            return f"SharedKey {rest.split(':')[0]}:<signature>"
        return f"{scheme} <credential>"
    if name == "x-azureml-token":
        if value.startswith("Bearer "):
            return "Bearer " + _token(value.removeprefix("Bearer "))
        return _token(value)
    return value


def headers_of(r: peer.Request) -> dict[str, str]:
    out = {}
    for name, value in r.headers:
        name = name.lower()
        if name in HEADERS or name.startswith(HEADER_PREFIXES):
            out[name] = normalise_header(name, value)
    return out


def query_of(r: peer.Request) -> dict[str, str]:
    return dict(parse_qsl(r.query or "", keep_blank_values=True))


def body_of(r: peer.Request):
    if not r.body:
        return None
    try:
        return json.loads(r.body)
    except ValueError:
        return r.body.decode("utf-8", "replace")


def _json_diff(operation: str, where: str, drift, sdk, out: list[Difference]) -> None:
    if isinstance(drift, dict) and isinstance(sdk, dict):
        for key in sorted(set(drift) | set(sdk)):
            path = f"{where}/{key}"
            if key not in sdk:
                out.append(Difference(operation, path, "drift-only", drift=drift[key]))
            elif key not in drift:
                out.append(Difference(operation, path, "sdk-only", sdk=sdk[key]))
            else:
                _json_diff(operation, path, drift[key], sdk[key], out)
    elif isinstance(drift, list) and isinstance(sdk, list) and len(drift) == len(sdk):
        for i, (d, s) in enumerate(zip(drift, sdk)):
            _json_diff(operation, f"{where}/{i}", d, s, out)
    elif drift != sdk:
        out.append(Difference(operation, where, "differs", drift, sdk))


def compare(operation: str, drift: peer.Request, sdk: peer.Request) -> list[Difference]:
    out: list[Difference] = []
    if drift.method != sdk.method:
        out.append(Difference(operation, "method", "differs", drift.method, sdk.method))
    if drift.path != sdk.path:
        out.append(Difference(operation, "path", "differs", drift.path, sdk.path))
    _flat_diff(operation, "query", query_of(drift), query_of(sdk), out)
    _flat_diff(operation, "header", headers_of(drift), headers_of(sdk), out)
    _json_diff(operation, "body", body_of(drift), body_of(sdk), out)
    return out


def _flat_diff(operation: str, prefix: str, drift: dict, sdk: dict, out: list[Difference]) -> None:
    """Query parameters and headers: `query.api-version`, `header.x-ms-version`."""
    for key in sorted(set(drift) | set(sdk)):
        where = f"{prefix}.{key}"
        if key not in sdk:
            out.append(Difference(operation, where, "drift-only", drift=drift[key]))
        elif key not in drift:
            out.append(Difference(operation, where, "sdk-only", sdk=sdk[key]))
        elif drift[key] != sdk[key]:
            out.append(Difference(operation, where, "differs", drift[key], sdk[key]))


@dataclass(frozen=True)
class Intended:
    operation: str  # a glob over operation names
    where: str  # a glob over `where`
    kind: str
    reason: str

    def covers(self, d: Difference) -> bool:
        return (
            fnmatch.fnmatchcase(d.operation, self.operation)
            and fnmatch.fnmatchcase(d.where, self.where)
            and d.kind == self.kind
        )


def load_intended() -> list[Intended]:
    entries = yaml.safe_load(INTENDED.read_text())
    out = []
    for i, e in enumerate(entries):
        missing = {"operation", "where", "kind", "reason"} - set(e)
        assert not missing, f"intended_differences.yaml entry {i} lacks {missing}"
        assert e["kind"] in ("differs", "drift-only", "sdk-only"), f"entry {i}: kind {e['kind']!r}"
        assert len(str(e["reason"]).split()) >= 4, f"entry {i}: give a reason, not a label"
        out.append(Intended(e["operation"], e["where"], e["kind"], e["reason"]))
    return out
