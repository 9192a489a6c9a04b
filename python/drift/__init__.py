"""drift keeps Azure Machine Learning models fresh when their Delta Lake training data changes.

The work is done by the `drift` binary this wheel installs; this package only holds the Databricks shim. A
`python_wheel_task` with `package_name: drift` and `entry_point: spark_job` finds the `spark_job` entry point, or
else calls `drift.spark_job()`: both are `drift._databricks.spark_job`.
"""

from drift._databricks import DriftError, find_binary, spark_job

__all__ = ["DriftError", "find_binary", "spark_job"]
