"""The `spark_job` entry point (docs/deploy-databricks.md): runs the installed `drift` binary with this process's
arguments. On Databricks it hands drift the service principal from the secret scope named by --vault_name, as
environment variables (never as arguments), and forwards drift's task values to dbutils.jobs.taskValues."""

import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading


class DriftError(RuntimeError):
    """drift exited non-zero (codes in `drift --help`): `exit_code`, and `stderr_tail`, its last lines on stderr."""

    def __init__(self, exit_code, stderr_tail):
        self.exit_code, self.stderr_tail = exit_code, stderr_tail
        super().__init__(f"drift exited with code {exit_code}:\n" + "\n".join(stderr_tail))


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
    """The service principal from the secret scope named by --vault_name, unless the environment has one already."""
    pairs = [arg.split("=", 1) if "=" in arg else (arg, nxt) for arg, nxt in zip(args, [*args[1:], None])]
    scope = ([value for flag, value in pairs if flag in ("--vault_name", "--vault-name")] or [None])[-1]
    if dbutils is None or not scope or (os.environ.get("AZURE_CLIENT_ID") and os.environ.get("AZURE_CLIENT_SECRET")):
        return {}
    found = {var: dbutils.secrets.get(scope=scope, key=key) for var, key in
             (("AZURE_CLIENT_ID", "ApplicationID"), ("AZURE_CLIENT_SECRET", "ApplicationPassword"))}  # fmt: skip
    with contextlib.suppress(Exception):  # TenantID is optional (then --tenant); dbutils raises JVM-side errors
        found["AZURE_TENANT_ID"] = dbutils.secrets.get(scope=scope, key="TenantID")
    return found


def pump(source, sink, tail, secrets):
    """Copies drift's output line by line to this process's stream (where Databricks shows it), masking secrets."""
    for line in iter(source.readline, ""):
        for secret in filter(None, secrets):
            line = line.replace(secret, "***")
        sink.write(line)
        sink.flush()
        tail[:] = [*tail[-19:], line.rstrip("\n")]


def spark_job(args=None):
    """Runs drift as `spark_job`. On Databricks a failure raises DriftError, failing the task; else returns the code."""
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
            code = proc.wait()
        except BaseException:  # the task was cancelled or interrupted: stop drift as well
            proc.terminate()
            raise
        finally:
            errors.join()
        code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it
        if code == 0 and dbutils is not None and os.path.exists(values_file):
            with open(values_file, encoding="utf-8") as f:
                for key, value in json.load(f).items():
                    dbutils.jobs.taskValues.set(key=key, value=value)
    if code != 0 and os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        raise DriftError(code, list(tail))
    return code
