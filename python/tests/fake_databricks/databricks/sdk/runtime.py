"""A stand-in for `databricks.sdk.runtime` as a Databricks cluster has it: the module that hands a wheel task the
REPL's `dbutils`. Put the folder holding `databricks/` first on PYTHONPATH (or sys.path) to use it.

Secrets come from $FAKE_DBUTILS_SECRETS, a JSON object {scope: {key: value}}; every call is appended as one JSON
line to $FAKE_DBUTILS_LOG: {"call": "secrets.get", "scope", "key"} (never the value), {"call": "secrets.list",
"scope"}, {"call": "secrets.listScopes"} or {"call": "taskValues.set", "key", "value"}.

A missing key or scope fails as on a cluster: dbutils there is a py4j proxy of the JVM's SecretUtils, which throws
`java.lang.IllegalArgumentException: Secret does not exist with scope: S and key: K` for either (the shim's
MISSING_SECRET comment cites the evidence); Python sees a py4j.protocol.Py4JJavaError whose text is
"An error occurred while calling oN.get.\n: " followed by the Java exception and its stack trace."""

import json
import os
from collections import namedtuple

# What the runtime's dbutils.secrets.listScopes() and list() return (databricks-sdk's dbutils has the same shapes).
SecretScope = namedtuple("SecretScope", ["name"])
SecretMetadata = namedtuple("SecretMetadata", ["key"])


class Py4JJavaError(Exception):
    """Stands in for py4j.protocol.Py4JJavaError (not installed here): a Java exception seen from Python."""

    def __init__(self, method, java_exception):
        self.java_exception = java_exception
        super().__init__(
            f"An error occurred while calling o412.{method}.\n: {java_exception}\n"
            f"\tat com.databricks.dbutils_v1.impl.SecretUtilsImpl.{method}(Unknown Source)\n"
            "\tat py4j.reflection.MethodInvoker.invoke(Unknown Source)"
        )


def _scopes():
    return json.loads(os.environ.get("FAKE_DBUTILS_SECRETS", "{}"))


def _record(entry):
    path = os.environ.get("FAKE_DBUTILS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class _Secrets:
    def get(self, scope, key):
        _record({"call": "secrets.get", "scope": scope, "key": key})
        secrets = _scopes()
        if key not in secrets.get(scope, {}):  # the same text for a missing scope
            exception = f"java.lang.IllegalArgumentException: Secret does not exist with scope: {scope} and key: {key}"
            raise Py4JJavaError("get", exception)
        return secrets[scope][key]

    def list(self, scope):
        _record({"call": "secrets.list", "scope": scope})
        secrets = _scopes()
        if scope not in secrets:  # the real text for this case is not known here; the shim only needs an error
            raise Py4JJavaError("list", f"java.lang.IllegalArgumentException: Scope {scope} does not exist")
        return [SecretMetadata(key) for key in secrets[scope]]

    def listScopes(self):
        _record({"call": "secrets.listScopes"})
        return [SecretScope(name) for name in _scopes()]


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
