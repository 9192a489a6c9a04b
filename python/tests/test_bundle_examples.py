"""The example bundles (examples/databricks*.yml) parse and their jobs match the Databricks Jobs schema, as the
`databricks-bundles` package models it (unknown fields and bad enum values are errors). Not a full
`databricks bundle validate`: that needs the Databricks CLI, which is not on PyPI."""

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
jobs = pytest.importorskip("databricks.bundles.jobs")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOP_LEVEL = {"bundle", "variables", "artifacts", "resources", "targets", "workspace", "include", "sync", "run_as"}


def load(name):
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["databricks.yml", "databricks-jar.yml"])
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


def test_wheel_bundle_keeps_the_legacy_task_contract():
    registrator, retrainer = tasks("databricks.yml").values()
    for task in (registrator, retrainer):
        assert task["python_wheel_task"]["package_name"] == "drift"
        assert task["python_wheel_task"]["entry_point"] == "spark_job"
        assert task["libraries"] == [{"whl": "./dist/drift-*.whl"}]
    assert registrator["task_key"] == "training-dataset-registrator"
    parameters = retrainer["python_wheel_task"]["parameters"]
    value = parameters[parameters.index("--data_asset_version") + 1]
    assert value == "{{tasks.`training-dataset-registrator`.values.data_asset_version}}"
    for flag in ("--config", "--tenant", "--vault_name"):
        assert flag in registrator["python_wheel_task"]["parameters"] and flag in parameters


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
