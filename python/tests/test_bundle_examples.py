"""The example bundles (examples/databricks*.yml) parse and their jobs match the Databricks Jobs schema, as the
`databricks-bundles` package models it (unknown fields and bad enum values are errors). Not a full
`databricks bundle validate`: that needs the Databricks CLI, which is not on PyPI."""

import json
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
jobs = pytest.importorskip("databricks.bundles.jobs")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOP_LEVEL = {"bundle", "variables", "artifacts", "resources", "targets", "workspace", "include", "sync", "run_as"}


def load(name):
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


BUNDLES = ["databricks.yml", "databricks-jar.yml", "databricks-for-each.yml"]
HAND_OFF = "{{tasks.`training-dataset-registrator`.values.data_asset_version}}"


def test_every_bundle_in_examples_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("databricks*.yml")) == sorted(BUNDLES)


@pytest.mark.parametrize("name", BUNDLES)
def test_bundle_is_well_formed(name):
    bundle = load(name)
    assert set(bundle) <= TOP_LEVEL
    assert bundle["bundle"]["name"]
    for job in bundle["resources"]["jobs"].values():
        jobs.Job.from_dict(job)
    for target in bundle["targets"].values():
        for job in target.get("resources", {}).get("jobs", {}).values():
            jobs.Job.from_dict({"name": "override", **job})
    for artifact in bundle["artifacts"].values():
        assert set(artifact) <= {"type", "path", "build", "files", "executable"}
        script = artifact["build"].split()[0]  # drift/scripts/... : drift checked out in the bundle project
        assert script.startswith("drift/") and (EXAMPLES.parent / script[len("drift/") :]).exists()
    for name_, variable in bundle["variables"].items():
        assert "default" in variable or all(name_ in t.get("variables", {}) for t in bundle["targets"].values())


def tasks(name):
    (job,) = load(name)["resources"]["jobs"].values()
    return {t["task_key"]: t for t in job["tasks"]}


def assert_legacy_pair(registrator, retrainer):
    """The Python tool's two tasks: same keys, package, entry point, flags, and the escaped task value hand-off."""
    for task in (registrator, retrainer):
        assert task["python_wheel_task"]["package_name"] == "drift"
        assert task["python_wheel_task"]["entry_point"] == "spark_job"
    assert registrator["task_key"] == "training-dataset-registrator"
    assert retrainer["depends_on"] == [{"task_key": "training-dataset-registrator"}]
    parameters = retrainer["python_wheel_task"]["parameters"]
    assert parameters[parameters.index("--data_asset_version") + 1] == HAND_OFF
    for flag in ("--config", "--tenant", "--vault_name"):
        assert flag in registrator["python_wheel_task"]["parameters"] and flag in parameters


def test_wheel_bundle_keeps_the_legacy_task_contract():
    registrator, retrainer = tasks("databricks.yml").values()
    assert_legacy_pair(registrator, retrainer)
    for task in (registrator, retrainer):
        assert task["libraries"] == [{"whl": "./dist/drift-*.whl"}]


def test_for_each_bundle_runs_the_legacy_pair_once_per_table():
    bundle = load("databricks-for-each.yml")
    jobs_ = bundle["resources"]["jobs"]
    table_job, fan_out = jobs_["drift_table"], jobs_["drift_fan_out"]

    # The per-table job: the legacy pair, its configs chosen by the `table` job parameter.
    registrator, retrainer = table_job["tasks"]
    assert_legacy_pair(registrator, retrainer)
    assert [p["name"] for p in table_job["parameters"]] == ["table"]
    for task, config in ((registrator, "registrator.yaml"), (retrainer, "retrainer.yaml")):
        parameters = task["python_wheel_task"]["parameters"]
        config_path = parameters[parameters.index("--config") + 1]
        assert config_path == "${var.config_dir}/{{job.parameters.table}}/" + config
        (environment,) = table_job["environments"]
        assert task["environment_key"] == environment["environment_key"]
    assert environment["spec"]["dependencies"] == ["./dist/drift-*.whl"]

    # The fan-out: a For each over the `tables` job parameter, each iteration one run of the per-table job.
    (loop,) = fan_out["tasks"]
    each = loop["for_each_task"]
    assert each["inputs"] == "{{job.parameters.tables}}"
    assert [p["name"] for p in fan_out["parameters"]] == ["tables"]
    nested = each["task"]["run_job_task"]
    assert nested["job_id"] == "${resources.jobs.drift_table.id}"
    assert nested["job_parameters"] == {"table": "{{input}}"}
    # Iterations beyond the per-table job's max_concurrent_runs would wait in its queue (or be skipped without one).
    assert each["concurrency"] <= table_job["max_concurrent_runs"] and table_job["queue"]["enabled"] is True
    assert fan_out["max_concurrent_runs"] == 1

    # The default list: a JSON array of config folder names within the For each input limit of 10,000 characters.
    tables = bundle["variables"]["tables"]["default"]
    assert fan_out["parameters"][0]["default"] == "${var.tables}" and len(tables) <= 10_000
    names = json.loads(tables)
    assert names and all(isinstance(n, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", n) for n in names)
    assert len(set(names)) == len(names)


def test_jar_bundle_takes_secrets_from_the_cluster_and_no_task_value():
    bundle = load("databricks-jar.yml")
    (job,) = bundle["resources"]["jobs"].values()
    env = job["job_clusters"][0]["new_cluster"]["spark_env_vars"]
    assert set(env) == {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"}
    assert all(v.startswith("{{secrets/") for v in env.values())
    for task in job["tasks"]:
        assert task["spark_jar_task"]["main_class_name"] == "drift.Launcher"
        assert "--data_asset_version" not in task["spark_jar_task"]["parameters"]
        assert "--vault_name" not in task["spark_jar_task"]["parameters"]
