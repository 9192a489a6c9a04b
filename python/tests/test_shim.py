"""The Databricks shim (`drift._databricks`) against a fake binary and a fake dbutils."""

import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import FAKE_DATABRICKS

import drift
from drift import _databricks as shim

PYTHON_PACKAGE = Path(shim.__file__).resolve().parents[1]

SCOPE = "kv-prod"
PRINCIPAL = {"ApplicationID": "app-id-1", "ApplicationPassword": "s3cr3t-value", "TenantID": "tenant-1"}
LEGACY_ARGS = ["--config", "/Volumes/ml/cfg/registrator.yaml", "--tenant", "t-flag", "--vault_name", SCOPE]


def credentials_in(call):
    return {k: v for k, v in call["env"].items() if k.startswith("AZURE_")}


def test_package_fallback_is_the_entry_point():
    # python_wheel_task calls `drift.spark_job()` when no entry point has that name.
    assert drift.spark_job is shim.spark_job
    assert callable(drift.spark_job)


def test_outside_databricks_runs_plainly_and_passes_everything_through(fake_drift, capsys):
    fake_drift.behave(exit=0, stdout=["report line"], stderr=["log line"], task_values={"data_asset_version": "v1"})
    assert shim.spark_job([*LEGACY_ARGS, "--data_asset_version="]) == 0
    call = fake_drift.call()
    assert call["argv"] == [*LEGACY_ARGS, "--data_asset_version="]
    assert credentials_in(call) == {}
    assert call["env"]["DRIFT_TASK_VALUES_FILE"].endswith("task_values.json")
    assert not os.path.exists(call["env"]["DRIFT_TASK_VALUES_FILE"]), "the temporary folder is removed"
    out = capsys.readouterr()
    assert out.out == "report line\n"
    assert out.err == "log line\n"


def test_outside_databricks_returns_the_exit_code(fake_drift, databricks, monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION")
    fake_drift.behave(exit=3, stderr=["auth failed"])
    assert shim.spark_job(LEGACY_ARGS) == 3
    assert databricks.calls() == [], "dbutils is not even imported off Databricks"


def test_sys_argv_is_used_by_default(fake_drift, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["drift", "--config", "c.yaml"])
    assert shim.spark_job() == 0
    assert fake_drift.call()["argv"] == ["--config", "c.yaml"]


@pytest.mark.parametrize(
    "args",
    [
        ["--config", "c.yaml", "--vault_name", SCOPE],
        ["--config", "c.yaml", f"--vault_name={SCOPE}"],
        ["--vault-name", SCOPE, "--config", "c.yaml"],
        ["--vault_name", "other", "--config", "c.yaml", "--vault_name", SCOPE],
    ],
)
def test_on_databricks_secrets_go_to_the_environment_only(fake_drift, databricks, args):
    databricks.secrets({SCOPE: PRINCIPAL})
    assert shim.spark_job(args) == 0
    call = fake_drift.call()
    assert credentials_in(call) == {
        "AZURE_CLIENT_ID": "app-id-1",
        "AZURE_CLIENT_SECRET": "s3cr3t-value",
        "AZURE_TENANT_ID": "tenant-1",
    }
    assert call["env"]["DRIFT_SECRET_SCOPE"] == f"{SCOPE}:AZURE_CLIENT_ID,AZURE_CLIENT_SECRET,AZURE_TENANT_ID"
    assert call["argv"] == args, "arguments are passed unchanged; no secret is added to them"
    assert not any("s3cr3t-value" in a for a in call["argv"])
    gets = databricks.calls("secrets.get")
    assert [(g["scope"], g["key"]) for g in gets] == [
        (SCOPE, "ApplicationID"),
        (SCOPE, "ApplicationPassword"),
        (SCOPE, "TenantID"),
    ]


def test_tenant_secret_is_optional(fake_drift, databricks):
    databricks.secrets({SCOPE: {"ApplicationID": "app-id-1", "ApplicationPassword": "pw"}})
    assert shim.spark_job(LEGACY_ARGS) == 0
    call = fake_drift.call()
    assert credentials_in(call) == {"AZURE_CLIENT_ID": "app-id-1", "AZURE_CLIENT_SECRET": "pw"}
    assert call["env"]["DRIFT_SECRET_SCOPE"] == f"{SCOPE}:AZURE_CLIENT_ID,AZURE_CLIENT_SECRET"


def secret_scope_failure(args=LEGACY_ARGS):
    """Runs the shim expecting the secret scope to fail it: the DriftError, checked for what every such error has."""
    with pytest.raises(shim.DriftError) as raised:
        shim.spark_job(args)
    err = raised.value
    assert err.exit_code == 3, "a service principal that cannot be read is an authentication error"
    assert err.stderr_tail == [] and err.signal is None
    assert err.__cause__ is None and err.__suppress_context__, "no chained dbutils traceback under the DriftError"
    message = str(err)
    assert "ApplicationID and ApplicationPassword, and optionally TenantID (else --tenant)" in message, message
    assert "spark_env_vars" in message
    assert not any(value in message for value in PRINCIPAL.values()), "never a secret value"
    return message


def test_scope_without_application_id_is_an_authentication_error(fake_drift, databricks):
    # Issue 9, row 15: the scope lacks ApplicationID. Before: a raw dbutils traceback and exit 1.
    databricks.secrets({SCOPE: {"ApplicationPassword": "s3cr3t-value", "TenantID": "tenant-1"}, "other": {}})
    message = secret_scope_failure()
    assert message.startswith(
        "cannot read the service principal (authentication or authorization error, exit code 3): "
        "Databricks secret scope 'kv-prod' (--vault_name) has no key 'ApplicationID'; "
        "keys in it: ApplicationPassword, TenantID. "
    ), message
    assert not fake_drift.ran()
    assert [(g["scope"], g["key"]) for g in databricks.calls("secrets.get")] == [(SCOPE, "ApplicationID")]


def test_missing_application_password_names_that_key(fake_drift, databricks):
    databricks.secrets({SCOPE: {"ApplicationID": "app-id-1"}})
    message = secret_scope_failure()
    assert "Databricks secret scope 'kv-prod' (--vault_name) has no key 'ApplicationPassword'; keys in it: " in message
    assert "app-id-1" not in message
    assert not fake_drift.ran()


def test_missing_scope_is_named_with_the_scopes_that_exist(fake_drift, databricks):
    databricks.secrets({"kv-dev": PRINCIPAL, "kv-test": PRINCIPAL})
    message = secret_scope_failure()
    assert (
        "Databricks secret scope 'kv-prod' (--vault_name) does not exist; scopes in this workspace: kv-dev, kv-test."
        in message
    )
    assert [c["call"] for c in databricks.calls()] == ["secrets.get", "secrets.listScopes"]
    assert not fake_drift.ran()


def test_without_listing_the_message_still_names_scope_and_key(fake_drift, databricks, no_databricks_sdk, monkeypatch):
    # An older runtime's dbutils (from the REPL's __main__) that fails the same way but cannot list.
    def get(scope, key):
        raise RuntimeError(f"An error occurred while calling o9.get.\n: java.lang.IllegalArgumentException: "
                           f"Secret does not exist with scope: {scope} and key: {key}")  # fmt: skip

    fake = types.SimpleNamespace(secrets=types.SimpleNamespace(get=get))
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", fake, raising=False)
    message = secret_scope_failure()
    assert (
        "Databricks secret scope 'kv-prod' (--vault_name) has no key 'ApplicationID' (or the scope is missing)"
        in message
    )
    assert not fake_drift.ran()


def test_other_secret_errors_keep_the_java_message_without_its_stack(
    fake_drift, databricks, no_databricks_sdk, monkeypatch
):
    def get(scope, key):
        java = "com.databricks.common.client.DatabricksServiceException: PERMISSION_DENIED: User does not have READ"
        raise RuntimeError(
            f"An error occurred while calling o9.get.\n: {java} permission on scope kv-prod\n\tat a.B.c(X)"
        )

    fake = types.SimpleNamespace(secrets=types.SimpleNamespace(get=get))
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", fake, raising=False)
    message = secret_scope_failure()
    assert "reading key 'ApplicationID' of Databricks secret scope 'kv-prod' (--vault_name) failed: " in message
    assert "PERMISSION_DENIED: User does not have READ permission on scope kv-prod" in message
    assert "a.B.c" not in message


def test_secret_scope_failure_prints_one_short_traceback(tmp_path):
    # What the task's output shows: Python's report of the uncaught DriftError and nothing about dbutils' error.
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(PYTHON_PACKAGE), str(FAKE_DATABRICKS)]),
        "DATABRICKS_RUNTIME_VERSION": "15.4",
        "FAKE_DBUTILS_SECRETS": json.dumps({SCOPE: {"ApplicationPassword": "s3cr3t-value"}}),
        "DRIFT_BINARY": "/nonexistent/drift",
    }
    run = subprocess.run([sys.executable, "-c", "import drift; drift.spark_job()", *LEGACY_ARGS], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert run.stderr.count("Traceback") == 1, run.stderr
    assert "Py4JJavaError" not in run.stderr and "During handling" not in run.stderr, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("drift._databricks.DriftError: cannot read the service principal"), run.stderr
    assert "'kv-prod'" in last and "'ApplicationID'" in last and "s3cr3t-value" not in run.stderr


def test_an_environment_certificate_wins_over_the_secret_scope(fake_drift, databricks, monkeypatch):
    # A certificate service principal (AZURE_CLIENT_CERTIFICATE_PATH, e.g. on a Unity Catalog volume): the shim
    # must not put the scope's client secret beside it, or drift would use the secret instead.
    monkeypatch.setenv("AZURE_CLIENT_ID", "from-cluster-env")
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", "/Volumes/main/drift/certs/sp.pem")
    databricks.secrets({SCOPE: PRINCIPAL})
    assert shim.spark_job(LEGACY_ARGS) == 0
    assert databricks.calls("secrets.get") == []
    env = credentials_in(fake_drift.call())
    assert "AZURE_CLIENT_SECRET" not in env
    assert env["AZURE_CLIENT_CERTIFICATE_PATH"] == "/Volumes/main/drift/certs/sp.pem"


def test_environment_credentials_win_over_the_secret_scope(fake_drift, databricks, monkeypatch):
    # The spark_env_vars variant: {{secrets/<scope>/<key>}} references already set the variables.
    monkeypatch.setenv("AZURE_CLIENT_ID", "from-cluster-env")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "cluster-secret")
    databricks.secrets({SCOPE: PRINCIPAL})
    assert shim.spark_job(LEGACY_ARGS) == 0
    assert databricks.calls("secrets.get") == []
    env = credentials_in(fake_drift.call())
    assert env == {"AZURE_CLIENT_ID": "from-cluster-env", "AZURE_CLIENT_SECRET": "cluster-secret"}


def test_without_vault_name_no_secret_is_read(fake_drift, databricks):
    assert shim.spark_job(["--config", "c.yaml"]) == 0
    assert databricks.calls("secrets.get") == []


def test_task_values_reach_dbutils_on_success(fake_drift, databricks):
    databricks.secrets({SCOPE: PRINCIPAL})
    values = {"data_asset_version": "20261128101500", "count": 3, "nested": {"a": [1, "b"]}}
    fake_drift.behave(task_values=values)
    assert shim.spark_job(LEGACY_ARGS) == 0
    assert [(c["key"], c["value"]) for c in databricks.calls("taskValues.set")] == list(values.items())


def test_empty_or_absent_task_values_set_nothing(fake_drift, databricks):
    fake_drift.behave(task_values={})
    assert shim.spark_job(["--config", "c.yaml"]) == 0
    fake_drift.behave(task_values=None)  # e.g. `spark_job --help` writes no file
    assert shim.spark_job(["--help"]) == 0
    assert databricks.calls("taskValues.set") == []


def test_failure_on_databricks_raises_with_code_and_stderr_tail(fake_drift, databricks):
    databricks.secrets({SCOPE: PRINCIPAL})
    stderr = [f"line {i}" for i in range(30)] + ["error: the secret s3cr3t-value was rejected"]
    fake_drift.behave(exit=4, stderr=stderr, task_values={"data_asset_version": "v1"})
    with pytest.raises(shim.DriftError) as raised:
        shim.spark_job(LEGACY_ARGS)
    err = raised.value
    assert err.exit_code == 4
    assert len(err.stderr_tail) == 20
    assert err.stderr_tail[-1] == "error: the secret *** was rejected"
    meaning = "Azure or network error that a retry may fix, after drift's own retries"
    assert str(err).startswith(f"drift exited with code 4 ({meaning}):\nline 11\n")
    assert "s3cr3t-value" not in str(err)
    assert databricks.calls("taskValues.set") == [], "nothing is published on failure"


def test_secrets_are_masked_in_forwarded_output(fake_drift, databricks, capsys):
    databricks.secrets({SCOPE: PRINCIPAL})
    fake_drift.behave(stdout=["out s3cr3t-value"], stderr=["err s3cr3t-value"])
    assert shim.spark_job(LEGACY_ARGS) == 0
    out = capsys.readouterr()
    assert (out.out, out.err) == ("out ***\n", "err ***\n")


@pytest.mark.parametrize(
    "code, meaning",
    [
        (1, "the pipeline ran but its outcome failed: a training job failed or was canceled, or nothing was in scope"),
        (2, "usage or configuration error, or a request Azure rejected as the caller's mistake"),
        (3, "authentication or authorization error"),
        (4, "Azure or network error that a retry may fix, after drift's own retries"),
        (5, "timed out waiting for training jobs"),
        (6, "local I/O error"),
        (130, "interrupted by SIGINT"),
        (143, "terminated by SIGTERM"),
    ],
)
def test_every_exit_code_is_explained(fake_drift, databricks, code, meaning):
    # drift's own exit status, also for 130/143: drift handled the signal and exited with that code.
    fake_drift.behave(exit=code, stderr=["error: details"])
    with pytest.raises(shim.DriftError) as raised:
        shim.spark_job(["--config", "c.yaml"])
    assert (raised.value.exit_code, raised.value.signal) == (code, None)
    assert str(raised.value) == f"drift exited with code {code} ({meaning}):\nerror: details"


def test_an_undocumented_code_is_reported_plainly(fake_drift, databricks):
    fake_drift.behave(exit=101, stderr=["thread 'main' panicked"])
    with pytest.raises(shim.DriftError, match="^drift exited with code 101:\nthread 'main' panicked$"):
        shim.spark_job(["--config", "c.yaml"])


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV])
def test_killed_by_a_signal_says_so_and_reports_128_plus_n(fake_drift, databricks, sig):
    # Popen's returncode is -N when signal N ended drift (drift did not exit by itself).
    fake_drift.behave(signal=sig, stderr=["started"])
    with pytest.raises(shim.DriftError) as raised:
        shim.spark_job(["--config", "c.yaml"])
    err = raised.value
    assert (err.exit_code, err.signal) == (128 + sig, sig)
    assert str(err) == f"drift was killed by signal {int(sig)} ({sig.name}), exit code {128 + sig}:\nstarted"


def test_killed_by_a_signal_off_databricks_returns_128_plus_n(fake_drift):
    fake_drift.behave(signal=signal.SIGKILL)
    assert shim.spark_job(["--config", "c.yaml"]) == 128 + signal.SIGKILL


def test_failure_raises_on_databricks_even_without_dbutils(fake_drift, databricks, no_databricks_sdk):
    # A task must never look green because dbutils could not be found.
    fake_drift.behave(exit=2, stderr=["error: config"])
    with pytest.raises(shim.DriftError):
        shim.spark_job(["--config", "c.yaml"])


def test_older_runtimes_find_dbutils_in_main(fake_drift, databricks, no_databricks_sdk, monkeypatch):
    recorded = []
    fake = types.SimpleNamespace(
        secrets=types.SimpleNamespace(get=lambda scope, key: PRINCIPAL[key]),
        jobs=types.SimpleNamespace(taskValues=types.SimpleNamespace(set=lambda key, value: recorded.append(key))),
    )
    monkeypatch.setattr(sys.modules["__main__"], "dbutils", fake, raising=False)
    fake_drift.behave(task_values={"data_asset_version": "v9"})
    assert shim.spark_job(LEGACY_ARGS) == 0
    assert credentials_in(fake_drift.call())["AZURE_CLIENT_ID"] == "app-id-1"
    assert recorded == ["data_asset_version"]


def test_find_binary_order(tmp_path, monkeypatch):
    monkeypatch.delenv("DRIFT_BINARY", raising=False)
    scripts, on_path = tmp_path / "scripts", tmp_path / "path"
    for folder in (scripts, on_path):
        folder.mkdir()
        (folder / "drift").write_text("#!/bin/sh\n")
        (folder / "drift").chmod(0o755)
    monkeypatch.setattr(shim.importlib.metadata, "files", lambda name: [])
    monkeypatch.setattr(shim.sysconfig, "get_path", lambda name: str(scripts))
    monkeypatch.setenv("PATH", str(on_path))
    assert shim.find_binary() == str(scripts / "drift")
    (scripts / "drift").chmod(0o644)
    assert shim.find_binary() == str(on_path / "drift")
    monkeypatch.setenv("DRIFT_BINARY", str(scripts / "drift"))
    assert shim.find_binary() == str(on_path / "drift"), "a non-executable DRIFT_BINARY is skipped"
    (scripts / "drift").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shim.find_binary() == str(scripts / "drift")
    monkeypatch.delenv("DRIFT_BINARY")
    (scripts / "drift").unlink()
    with pytest.raises(FileNotFoundError, match="DRIFT_BINARY"):
        shim.find_binary()


def test_find_binary_prefers_the_wheel_record(tmp_path, monkeypatch):
    monkeypatch.delenv("DRIFT_BINARY", raising=False)
    installed = tmp_path / "env" / "bin" / "drift"
    installed.parent.mkdir(parents=True)
    installed.write_text("#!/bin/sh\n")
    installed.chmod(0o755)

    class Recorded:
        name = "drift"

        def match(self, pattern):
            return pattern == "*/drift"

        def locate(self):
            return installed

    monkeypatch.setattr(shim.importlib.metadata, "files", lambda name: [Recorded()])
    monkeypatch.setattr(shim.sysconfig, "get_path", lambda name: str(tmp_path / "elsewhere"))
    assert shim.find_binary() == str(installed)
