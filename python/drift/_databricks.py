"""The `spark_job` entry point (docs/deploy-databricks.md): runs the installed `drift` binary with this process's
arguments. On Databricks it hands drift the service principal from the secret scope named by --vault_name, as
environment variables (never as arguments), and forwards drift's task values to dbutils.jobs.taskValues."""

import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading

# drift's exit codes (`drift --help`, docs/guarantees.md); a DriftError's message says what its code means.
EXIT_CODES = {
    1: "the pipeline ran but its outcome failed: a training job failed or was canceled, or nothing was in scope",
    2: "usage or configuration error, or a request Azure rejected as the caller's mistake",
    3: "authentication or authorization error",
    4: "Azure or network error that a retry may fix, after drift's own retries",
    5: "timed out waiting for training jobs",
    6: "local I/O error",
    130: "interrupted by SIGINT",
    143: "terminated by SIGTERM",
}
AUTH_ERROR = 3
# The service principal in the secret scope, under the Python tool's Key Vault names: (variable for drift, key).
PRINCIPAL_KEYS = (("AZURE_CLIENT_ID", "ApplicationID"), ("AZURE_CLIENT_SECRET", "ApplicationPassword"))
TENANT_KEY = "TenantID"  # optional: without it drift uses --tenant
# How dbutils.secrets.get fails for a missing key, and for a missing scope alike: on a cluster a py4j error
# wrapping `java.lang.IllegalArgumentException: Secret does not exist with scope: S and key: K`. Evidence:
# databricks/terraform-provider-databricks storage/acceptance/adls_gen2_test.go expects "Secret does not exist
# with scope" from a cluster given a wrong key, and an earlier version of its ADLS Gen2 mount test expected
# "Secret does not exist with scope: f and key: e" for a scope "f" that was never created; the Secrets API under
# dbutils (docs.databricks.com/api/secrets/v1/get-secret) "Throws RESOURCE_DOES_NOT_EXIST if no such secret scope
# or secret exists"; databrickslabs/overwatch issue 721 shows the java.lang.IllegalArgumentException.
MISSING_SECRET = "Secret does not exist with scope"


class DriftError(RuntimeError):
    """drift failed. `exit_code` is drift's exit code (128 + N when signal N killed it; `signal` is then N, else
    None) and `stderr_tail` its last lines on stderr. Also raised, with exit code 3 and an empty tail, before drift
    runs when the secret scope named by --vault_name cannot give the service principal."""

    def __init__(self, exit_code, stderr_tail, message=None, signal=None):
        self.exit_code, self.stderr_tail, self.signal = exit_code, stderr_tail, signal
        super().__init__("\n".join([message or describe_exit(exit_code, signal), *stderr_tail]))


def describe_exit(code, signal_number=None):
    """`drift exited with code 3 (authentication or authorization error):`, or which signal killed drift."""
    if signal_number:
        name = "unknown signal"
        with contextlib.suppress(ValueError):
            name = signal.Signals(signal_number).name
        return f"drift was killed by signal {signal_number} ({name}), exit code {code}:"
    meaning = EXIT_CODES.get(code)
    return f"drift exited with code {code}" + (f" ({meaning}):" if meaning else ":")


def find_binary():
    """$DRIFT_BINARY, else the `drift` this wheel installed (per its RECORD), the scripts directory, then PATH."""
    record = []
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):  # not installed from the wheel
        record = [str(f.locate()) for f in importlib.metadata.files("drift") or [] if f.match("*/drift")]
    candidates = [os.environ.get("DRIFT_BINARY"), *record, os.path.join(sysconfig.get_path("scripts"), "drift")]
    found = next((p for p in (*candidates, shutil.which("drift")) if p and os.access(p, os.X_OK)), None)
    if found is None:
        raise FileNotFoundError("the drift binary is not installed; reinstall the drift wheel or set DRIFT_BINARY")
    return found


def databricks_utils():
    """The cluster's dbutils (databricks-sdk's runtime module hands out the REPL's), or None off Databricks."""
    if not os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return None
    try:
        from databricks.sdk.runtime import dbutils
    except ImportError:  # runtimes before 13.1 bundle no databricks-sdk; the REPL's __main__ holds dbutils
        dbutils = getattr(sys.modules.get("__main__"), "dbutils", None)
    return dbutils


def read_secrets(dbutils, args):
    """The service principal from the secret scope named by --vault_name, unless the environment has one already.
    Raises DriftError (exit code 3) naming the scope and the key when the scope or a required key is missing."""
    pairs = [arg.split("=", 1) if "=" in arg else (arg, nxt) for arg, nxt in zip(args, [*args[1:], None])]
    scope = ([value for flag, value in pairs if flag in ("--vault_name", "--vault-name")] or [None])[-1]
    # The environment's own service principal wins, as in drift itself: a client secret, or a certificate
    # (AZURE_CLIENT_CERTIFICATE_PATH, e.g. a file on a Unity Catalog volume) with its client id.
    has_principal = os.environ.get("AZURE_CLIENT_ID") and (
        os.environ.get("AZURE_CLIENT_SECRET") or os.environ.get("AZURE_CLIENT_CERTIFICATE_PATH")
    )
    if dbutils is None or not scope or has_principal:
        return {}
    found = {}
    for var, key in PRINCIPAL_KEYS:
        try:
            found[var] = dbutils.secrets.get(scope=scope, key=key)
        except Exception as error:  # noqa: BLE001 - py4j's Py4JJavaError on a cluster; its text names no value
            raise secret_error(dbutils, scope, key, error) from None  # the message says it all: no chained trace
    with contextlib.suppress(Exception):  # TenantID is optional (then --tenant); dbutils raises JVM-side errors
        found["AZURE_TENANT_ID"] = dbutils.secrets.get(scope=scope, key=TENANT_KEY)
    # Tells drift these variables came from a secret store, so `secretsEncoding: base64` applies to them (it never
    # decodes a plain environment variable) and its errors name the scope, not the variable.
    found["DRIFT_SECRET_SCOPE"] = f"{scope}:{','.join(found)}"
    return found


def secret_error(dbutils, scope, key, error):
    """The DriftError for a required key that dbutils could not read: which scope, which key, what was expected,
    and (when dbutils may list them) whether the scope exists and which keys it has: names only, never values."""
    if MISSING_SECRET in str(error):
        scopes = listed(lambda: [s.name for s in dbutils.secrets.listScopes()])
        scope_exists = scopes is None or scope in scopes
        keys = listed(lambda: [m.key for m in dbutils.secrets.list(scope)]) if scope_exists else None
        if not scope_exists:
            problem = f"Databricks secret scope {scope!r} (--vault_name) does not exist; scopes in this workspace: "
            problem += ", ".join(scopes) or "none"
        elif keys is not None:
            problem = f"Databricks secret scope {scope!r} (--vault_name) has no key {key!r}; keys in it: "
            problem += ", ".join(sorted(keys)) or "none"
        else:
            problem = f"Databricks secret scope {scope!r} (--vault_name) has no key {key!r} (or the scope is missing)"
    else:  # e.g. no READ permission on the scope, or a Key Vault-backed scope whose vault refused
        lines = [line for line in map(str.strip, str(error).splitlines()) if line and not line.startswith("at ")]
        problem = f"reading key {key!r} of Databricks secret scope {scope!r} (--vault_name) failed: "
        problem += " ".join(lines[:2]) or type(error).__name__
    expected = " and ".join(name for _, name in PRINCIPAL_KEYS) + f", and optionally {TENANT_KEY} (else --tenant)"
    return DriftError(
        AUTH_ERROR,
        [],
        f"cannot read the service principal ({EXIT_CODES[AUTH_ERROR]}, exit code {AUTH_ERROR}): {problem}. "
        f"drift expects the keys {expected} in that scope, or AZURE_CLIENT_ID and AZURE_CLIENT_SECRET in the "
        "cluster's spark_env_vars (docs/deploy-databricks.md).",
    )


def listed(names):
    """`names()`, or None when dbutils cannot list (no permission, an older runtime): the hint is best-effort."""
    try:
        return list(names())
    except Exception:  # noqa: BLE001 - any failure only drops the hint; the DriftError is raised regardless
        return None


def pump(source, sink, tail, secrets):
    """Copies drift's output line by line to this process's stream (where Databricks shows it), masking secrets."""
    for line in iter(source.readline, ""):
        for secret in filter(None, secrets):
            line = line.replace(secret, "***")
        sink.write(line)
        sink.flush()
        tail[:] = [*tail[-19:], line.rstrip("\n")]


def spark_job(args=None):
    """Runs drift as `spark_job`. On Databricks a failure raises DriftError, failing the task; else returns the code
    (128 + N when signal N killed drift, as a shell reports it)."""
    args = sys.argv[1:] if args is None else list(args)
    dbutils = databricks_utils()
    secrets = read_secrets(dbutils, args)
    with tempfile.TemporaryDirectory(prefix="drift-") as tmp:
        values_file = os.path.join(tmp, "task_values.json")
        env = {**os.environ, **secrets, "DRIFT_TASK_VALUES_FILE": values_file}
        proc = subprocess.Popen(["spark_job", *args], executable=find_binary(), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, encoding="utf-8", errors="replace")  # fmt: skip
        tail, secret_values = [], [secrets.get("AZURE_CLIENT_SECRET")]  # ids stay readable
        errors = threading.Thread(target=pump, args=(proc.stderr, sys.stderr, tail, secret_values))
        errors.start()
        try:
            pump(proc.stdout, sys.stdout, [], secret_values)
            returncode = proc.wait()
        except BaseException:  # the task was cancelled or interrupted: stop drift as well
            proc.terminate()
            raise
        finally:
            errors.join()
        killed_by = -returncode if returncode < 0 else None  # Popen reports "killed by signal N" as -N
        code = 128 + killed_by if killed_by else returncode
        if code == 0 and dbutils is not None and os.path.exists(values_file):
            with open(values_file, encoding="utf-8") as f:
                for key, value in json.load(f).items():
                    dbutils.jobs.taskValues.set(key=key, value=value)
    if code != 0 and os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        raise DriftError(code, list(tail), signal=killed_by)
    return code
