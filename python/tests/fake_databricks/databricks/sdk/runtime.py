"""A stand-in for `databricks.sdk.runtime` as a Databricks cluster has it: the module that hands a wheel task the
REPL's `dbutils`. Put the folder holding `databricks/` first on PYTHONPATH (or sys.path) to use it.

Secrets come from $FAKE_DBUTILS_SECRETS, a JSON object {scope: {key: value}}; every call is appended as one JSON
line to $FAKE_DBUTILS_LOG: {"call": "secrets.get", "scope", "key"} (never the value) or
{"call": "taskValues.set", "key", "value"}."""

import json
import os


def _record(entry):
    path = os.environ.get("FAKE_DBUTILS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class _Secrets:
    def get(self, scope, key):
        _record({"call": "secrets.get", "scope": scope, "key": key})
        secrets = json.loads(os.environ.get("FAKE_DBUTILS_SECRETS", "{}"))
        if key not in secrets.get(scope, {}):
            # The shape of the cluster's error: it names the scope and key, never a value.
            raise RuntimeError(f"Secret does not exist with scope: {scope} and key: {key}")
        return secrets[scope][key]


class _TaskValues:
    def set(self, key, value):
        json.dumps(value)  # the real one rejects values that are not JSON-serialisable
        _record({"call": "taskValues.set", "key": key, "value": value})


class _Jobs:
    taskValues = _TaskValues()


class _DBUtils:
    secrets = _Secrets()
    jobs = _Jobs()


dbutils = _DBUtils()
