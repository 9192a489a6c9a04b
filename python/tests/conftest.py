"""Fixtures for the shim's tests: a fake `drift` binary that records what it was given, and a fake Databricks
runtime (`DATABRICKS_RUNTIME_VERSION` plus the `databricks.sdk.runtime` stand-in in fake_databricks/)."""

import json
import sys
import textwrap
from pathlib import Path

import pytest

FAKE_DATABRICKS = Path(__file__).parent / "fake_databricks"

# The fake binary: records argv and environment, optionally writes task values, prints, exits as told.
FAKE_DRIFT = """\
import json, os, sys
with open(os.environ["FAKE_DRIFT_RECORD"], "w", encoding="utf-8") as f:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ)}, f)
for line in json.loads(os.environ.get("FAKE_DRIFT_STDOUT", "[]")):
    print(line, flush=True)
for line in json.loads(os.environ.get("FAKE_DRIFT_STDERR", "[]")):
    print(line, file=sys.stderr, flush=True)
values = os.environ.get("FAKE_DRIFT_TASK_VALUES")
if values is not None:
    with open(os.environ["DRIFT_TASK_VALUES_FILE"], "w", encoding="utf-8") as f:
        f.write(values)
signal = int(os.environ.get("FAKE_DRIFT_SIGNAL", "0"))
if signal:
    os.kill(os.getpid(), signal)
sys.exit(int(os.environ.get("FAKE_DRIFT_EXIT", "0")))
"""


class FakeDrift:
    def __init__(self, path, record, monkeypatch):
        self.path, self.record_file, self.monkeypatch = path, record, monkeypatch

    def behave(self, exit=0, stdout=(), stderr=(), task_values=None, signal=0):
        m = self.monkeypatch
        m.setenv("FAKE_DRIFT_EXIT", str(exit))
        m.setenv("FAKE_DRIFT_SIGNAL", str(signal))
        m.setenv("FAKE_DRIFT_STDOUT", json.dumps(list(stdout)))
        m.setenv("FAKE_DRIFT_STDERR", json.dumps(list(stderr)))
        if task_values is None:
            m.delenv("FAKE_DRIFT_TASK_VALUES", raising=False)
        else:
            m.setenv("FAKE_DRIFT_TASK_VALUES", task_values if isinstance(task_values, str) else json.dumps(task_values))

    def ran(self):
        return self.record_file.exists()

    def call(self):
        return json.loads(self.record_file.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Every test starts off Databricks, without credentials in the environment."""
    for name in ("DATABRICKS_RUNTIME_VERSION", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DRIFT_TASK_VALUES_FILE", raising=False)


@pytest.fixture
def fake_drift(tmp_path, monkeypatch):
    path = tmp_path / "bin" / "drift"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_DRIFT), encoding="utf-8")
    path.chmod(0o755)
    record = tmp_path / "record.json"
    monkeypatch.setenv("DRIFT_BINARY", str(path))
    monkeypatch.setenv("FAKE_DRIFT_RECORD", str(record))
    fake = FakeDrift(path, record, monkeypatch)
    fake.behave()
    return fake


class FakeDatabricks:
    def __init__(self, log, monkeypatch):
        self.log, self.monkeypatch = log, monkeypatch

    def secrets(self, scopes):
        self.monkeypatch.setenv("FAKE_DBUTILS_SECRETS", json.dumps(scopes))

    def calls(self, kind=None):
        if not self.log.exists():
            return []
        entries = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        return [e for e in entries if kind is None or e["call"] == kind]


def _forget_databricks_modules():
    for name in [n for n in sys.modules if n == "databricks" or n.startswith("databricks.")]:
        del sys.modules[name]


@pytest.fixture
def databricks(tmp_path, monkeypatch):
    """A Databricks cluster as the shim sees it: the runtime variable and an importable databricks.sdk.runtime."""
    log = tmp_path / "dbutils.jsonl"
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    monkeypatch.setenv("FAKE_DBUTILS_LOG", str(log))
    monkeypatch.syspath_prepend(str(FAKE_DATABRICKS))
    _forget_databricks_modules()
    fake = FakeDatabricks(log, monkeypatch)
    fake.secrets({})
    yield fake
    _forget_databricks_modules()


@pytest.fixture
def no_databricks_sdk(monkeypatch):
    """Makes `import databricks.sdk.runtime` fail, as on runtimes before 13.1."""
    _forget_databricks_modules()
    monkeypatch.setitem(sys.modules, "databricks", None)
    yield
    _forget_databricks_modules()
