"""Lists the sandbox workspace's jobs with the official Azure ML Python SDK (azure-ai-ml), for the comparison in
docs/performance.md. Prints "<n> jobs". Environment from benches/pipelines.rs."""

import json
import os
import time
import urllib.parse
import urllib.request

from azure.ai.ml import MLClient
from azure.core.credentials import AccessToken


class SandboxCredential:
    """Any object with get_token() serves as a credential; this one asks the sandbox's token endpoint."""

    def __init__(self):
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": os.environ["BENCH_CLIENT_ID"],
                "client_secret": os.environ["BENCH_CLIENT_SECRET"],
                "scope": "https://management.azure.com/.default",
            }
        ).encode()
        with urllib.request.urlopen(os.environ["BENCH_TOKEN_URL"], body) as response:
            self.token = json.load(response)["access_token"]

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, int(time.time()) + 3600)


client = MLClient(
    SandboxCredential(),
    os.environ["BENCH_SUB"],
    os.environ["BENCH_RG"],
    os.environ["BENCH_WS"],
    enable_telemetry=False,
)
print(f"{sum(1 for _ in client.jobs.list())} jobs")
