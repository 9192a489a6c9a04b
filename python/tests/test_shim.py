"""The Databricks shim (`drift._databricks`) against a fake binary and a fake dbutils."""

import os
import signal
import sys
import types

import pytest

import drift
from drift import _databricks as shim

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
    assert credentials_in(fake_drift.call()) == {"AZURE_CLIENT_ID": "app-id-1", "AZURE_CLIENT_SECRET": "pw"}


def test_missing_application_secret_fails_before_running_drift(fake_drift, databricks):
    databricks.secrets({SCOPE: {"ApplicationID": "app-id-1"}})
    with pytest.raises(Exception, match="ApplicationPassword") as raised:
        shim.spark_job(LEGACY_ARGS)
    assert "app-id-1" not in str(raised.value)
    assert not fake_drift.ran()


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
    assert "drift exited with code 4" in str(err)
    assert "s3cr3t-value" not in str(err)
    assert databricks.calls("taskValues.set") == [], "nothing is published on failure"


def test_secrets_are_masked_in_forwarded_output(fake_drift, databricks, capsys):
    databricks.secrets({SCOPE: PRINCIPAL})
    fake_drift.behave(stdout=["out s3cr3t-value"], stderr=["err s3cr3t-value"])
    assert shim.spark_job(LEGACY_ARGS) == 0
    out = capsys.readouterr()
    assert (out.out, out.err) == ("out ***\n", "err ***\n")


def test_killed_by_a_signal_reports_128_plus_n(fake_drift, databricks):
    fake_drift.behave(signal=signal.SIGTERM)
    with pytest.raises(shim.DriftError) as raised:
        shim.spark_job(["--config", "c.yaml"])
    assert raised.value.exit_code == 128 + signal.SIGTERM


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
