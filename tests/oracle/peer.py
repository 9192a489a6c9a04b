"""Puts the official Azure SDK in front of drift-sandbox.

- `Sandbox`: the `drift-sandbox` binary as a process, its endpoint overrides and its `--traffic-file`.
- `route_azure_to(sandbox)`: rewrites the URL of every request that azure-core's `RequestsTransport` sends
  (the transport every client of azure-ai-ml uses: ARM, Blob, DFS, the MLTable schema download), after the
  SDK's own policies (authentication, Shared Key signing, headers) have run, so the SDK runs unchanged.
- `SandboxCredential`: a `TokenCredential` that asks the sandbox's AAD endpoint for each token with client
  credentials, as `ClientSecretCredential` asks login.microsoftonline.com.
- `SchemaServer`: serves the MLTable JSON schema that ships in the `mltable` package at the CDN path the SDK
  downloads it from (`MLTABLE_METADATA_SCHEMA_URL_FALLBACK`).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SEED = HERE / "seed.json"

# The seed's identities and workspace (tests/oracle/seed.json).
TENANT = "4f3a1b2c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
CLIENT_ID = "9c8b7a65-4321-4fed-8cba-0987654321fe"
CLIENT_SECRET = "oracle~not-a-real-secret"
SUBSCRIPTION = "00000000-0000-4000-8000-0000000047ac"
RESOURCE_GROUP = "rg-drift-oracle"
WORKSPACE = "mlw-drift-oracle"
LAKE_ACCOUNT = "driftoraclelake"
LAKE_CONTAINER = "curated"
TABLE_PATH = "delta/sales/daily"
ML_ACCOUNT = "driftoracleml"
ML_CONTAINER = "azureml-blobstore"
TEMPLATE_JOB = "forecast-20261101080000-aaaaaa"
OLD_VERSION = "20261101075900"
DATASTORE = "curated"
MLTABLE_ASSET = "curated-delta-sales-daily-mltable"
URI_ASSET = "curated-delta-sales-daily-uri"
# What tests/fixtures/delta/expected.json says of the `small` table.
DELTA_VERSION = 6

WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}"
)
# The CDN file the SDK validates MLTable files against before an upload.
SCHEMA_HOST = "azuremlschemasprod.azureedge.net"


def binary(env_name: str, name: str) -> Path:
    """$DRIFT_SANDBOX_BIN / $DRIFT_BIN, else target/debug (CARGO_TARGET_DIR honoured)."""
    value = os.environ.get(env_name)
    if value:
        path = Path(value)
    else:
        path = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: build it or set {env_name}")
    return path


@dataclass
class Request:
    """One line of the sandbox's traffic file."""

    seq: int
    method: str
    path: str
    query: str | None
    headers: list[tuple[str, str]]
    status: int
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def json(self):
        return json.loads(self.body)

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


@dataclass
class Sandbox:
    """A running `drift-sandbox --port 0 --seed FILE --traffic-file FILE`."""

    process: subprocess.Popen
    url: str
    env: dict[str, str]
    traffic_file: Path
    stderr_file: Path
    _mark: int = field(default=0)

    @classmethod
    def start(cls, work: Path, seed: Path = SEED) -> Sandbox:
        work.mkdir(parents=True, exist_ok=True)
        traffic = work / "traffic.jsonl"
        stderr = work / "sandbox.stderr"
        process = subprocess.Popen(
            [
                str(binary("DRIFT_SANDBOX_BIN", "drift-sandbox")),
                "--port",
                "0",
                "--seed",
                str(seed),
                "--traffic-file",
                str(traffic),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr.open("wb"),
            text=True,
        )
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        if not first.startswith("drift-sandbox listening on "):
            process.kill()
            raise RuntimeError(f"drift-sandbox did not start: {first!r} {stderr.read_text()}")
        url = first.removeprefix("drift-sandbox listening on ")
        env = {}
        for _ in range(6):
            line = process.stdout.readline().strip()
            match = re.fullmatch(r"export ([A-Z_]+)='?([^']*)'?", line)
            if not match:
                process.kill()
                raise RuntimeError(f"unexpected drift-sandbox output line {line!r}")
            env[match.group(1)] = match.group(2)
        return cls(process, url, env, traffic, stderr)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def requests(self) -> list[Request]:
        """Every request so far, in arrival order."""
        out = []
        for line in self.traffic_file.read_text().splitlines():
            r = json.loads(line)
            if r["body"] is not None:
                body = r["body"].encode()
            elif r["bodyBase64"] is not None:
                body = base64.b64decode(r["bodyBase64"])
            else:
                body = b""
            out.append(
                Request(
                    r["seq"], r["method"], r["path"], r["query"], [tuple(h) for h in r["headers"]], r["status"], body
                )
            )
        return sorted(out, key=lambda r: r.seq)

    def mark(self) -> None:
        """Later `since_mark()` calls return only requests that arrive after this."""
        self._mark = len(self.requests())

    def since_mark(self) -> list[Request]:
        return self.requests()[self._mark :]


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, unverified (how azure-ai-ml reads the token it puts in x-azureml-token)."""
    import jwt

    return jwt.decode(token, options={"verify_signature": False, "verify_aud": False})


class SandboxCredential:
    """A `TokenCredential` (azure.core.credentials) over the sandbox's AAD token endpoint: one client-credentials
    POST per scope, cached until five minutes before expiry, like azure-identity's ClientSecretCredential."""

    def __init__(self, sandbox: Sandbox, tenant: str = TENANT, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET):
        self._url = f"{sandbox.url}/aad/{tenant}/oauth2/v2.0/token"
        self._client_id = client_id
        self._secret = secret
        self._cache: dict[str, AccessToken] = {}
        self.scopes_asked: list[str] = []

    def get_token(self, *scopes: str, **_kwargs) -> AccessToken:
        if len(scopes) != 1:
            raise ValueError(f"AAD client credentials take one scope, the SDK asked for {scopes}")
        scope = scopes[0]
        self.scopes_asked.append(scope)
        cached = self._cache.get(scope)
        if cached and cached.expires_on - 300 > time.time():
            return cached
        response = requests.post(
            self._url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret,
                "scope": scope,
            },
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"sandbox AAD refused scope {scope}: {response.status_code} {response.text}")
        body = response.json()
        token = AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))
        self._cache[scope] = token
        return token

    def close(self) -> None:
        pass


_STORAGE_HOST = re.compile(r"^(?P<account>[a-z0-9]{3,24})\.(?P<kind>blob|dfs)\.core\.windows\.net$")


def sandbox_url(url: str, sandbox_base: str, schema_base: str | None) -> str:
    """Where a request for a public-cloud Azure URL goes instead. Unknown hosts raise: nothing may leave the
    machine, and a host the suite does not know about is something to look at."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "management.azure.com":
        base, prefix = sandbox_base, "/arm"
    elif match := _STORAGE_HOST.match(host):
        base, prefix = sandbox_base, f"/{match['kind']}/{match['account']}"
    elif host == "login.microsoftonline.com":
        base, prefix = sandbox_base, "/aad"
    elif host == SCHEMA_HOST and schema_base:
        base, prefix = schema_base, ""
    else:
        raise RuntimeError(f"the oracle suite has no route for {url}")
    target = urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, prefix + parts.path, parts.query, ""))


# Response headers that carry absolute URLs for the client to follow (ARM long-running operations).
_LINK_HEADERS = ("Location", "Azure-AsyncOperation", "Operation-Location")


def _publish_links(response, sandbox_base: str) -> None:
    """The reverse rewrite, like a reverse proxy's: absolute URLs the sandbox hands out (a cancel's `Location`,
    `nextLink` in list pages) name the sandbox; the real service names https://management.azure.com, and the SDK
    sends bearer tokens over https only, so they are put back in public form before the SDK sees them."""
    local, public = f"{sandbox_base}/arm/", "https://management.azure.com/"
    internal = response.internal_response
    # Legacy transport responses share requests' header dict; azure.core.rest ones hold their own.
    for headers in (internal.headers, response.headers):
        for name in _LINK_HEADERS:
            value = headers.get(name)
            if value and value.startswith(local):
                headers[name] = public + value[len(local) :]
    if internal.headers.get("Content-Type", "").startswith("application/json"):
        # ARM answers are small and never streamed by the SDK; reading them here buffers them as azure-core would.
        internal._content = internal.content.replace(local.encode(), public.encode())
        if getattr(response, "_content", None) is not None:  # an azure.core.rest response that was read already
            response._content = internal._content


@contextlib.contextmanager
def route_azure_to(sandbox: Sandbox, schema: SchemaServer | None) -> Iterator[None]:
    """Patches `RequestsTransport.send` (azure-core's default transport, under every SDK pipeline) to rewrite the
    URL just before the socket, and the links in the answer back (`_publish_links`). Everything above it — the
    SDK's serialisation, BearerTokenCredentialPolicy, storage Shared Key signing, retry, headers — runs unchanged;
    the Shared Key signature therefore covers the public URL (`/{account}/{container}/{blob}`), as the real
    service would verify it."""
    original = RequestsTransport.send
    schema_base = schema.url if schema else None

    def send(self, request, **kwargs):
        request.url = sandbox_url(request.url, sandbox.url, schema_base)
        response = original(self, request, **kwargs)
        if request.url.startswith(sandbox.url + "/arm/"):
            _publish_links(response, sandbox.url)
        return response

    RequestsTransport.send = send
    try:
        yield
    finally:
        RequestsTransport.send = original


class SchemaServer:
    """Serves `mltable/schema/MLTable.json` (from the installed `mltable` package) at the path of the SDK's
    fallback schema URL, on loopback. Counts the requests so a test can prove the SDK fetched it."""

    def __init__(self) -> None:
        import mltable

        schema = Path(mltable.__file__).parent / "schema" / "MLTable.json"
        self.schema_bytes = schema.read_bytes()
        self.paths: list[str] = []
        server_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server_self.paths.append(self.path)
                if self.path != "/latest/MLTable.schema.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server_self.schema_bytes)))
                self.end_headers()
                self.wfile.write(server_self.schema_bytes)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def drift(sandbox: Sandbox, *args: str, extra_env: dict[str, str] | None = None) -> tuple[int, dict | None, str]:
    """Runs the drift binary against the sandbox as the seed's service principal. Returns (exit code, the JSON
    report of --output json or None, stderr)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **sandbox.env,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
        "DRIFT_LOG_FORMAT": "text",
        **(extra_env or {}),
    }
    done = subprocess.run(
        [str(binary("DRIFT_BIN", "drift")), *args, "--tenant", TENANT, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return done.returncode, report, done.stderr
