"""Runs an installed wheel the way a Databricks `python_wheel_task` does, for scripts/ci-wheel-check.sh.

    python wheel_task.py PACKAGE ENTRY_POINT [PARAMETER ...]   call it with sys.argv = [PACKAGE, *PARAMETERS]
    python wheel_task.py --check PACKAGE ENTRY_POINT           only resolve it both ways and compare

The lookup is the one documented for the task (docs/deploy-databricks.md): the entry point named ENTRY_POINT among
the distribution's entry points, whatever their group, else the function `PACKAGE.ENTRY_POINT` called directly.
Like the task, a raised exception fails the run (exit 1 with a traceback); the return value is ignored.
"""

import importlib
import importlib.metadata
import sys


def by_name(package, name):
    """The entry point named `name` in any group of the installed distribution, or None."""
    found = [ep for ep in importlib.metadata.distribution(package).entry_points if ep.name == name]
    return found[0] if found else None


def fallback(package, name):
    """What the task calls when no entry point has that name: `package.name()`."""
    return getattr(importlib.import_module(package), name)


def main(argv):
    if argv[:1] == ["--check"]:
        package, name = argv[1:3]
        entry_point = by_name(package, name)
        if entry_point is None:
            sys.exit(f"wheel_task: no entry point named {name!r} in distribution {package!r}")
        loaded, direct = entry_point.load(), fallback(package, name)
        print(f"wheel_task: {name} -> {entry_point.value} (group {entry_point.group}); fallback {package}.{name}()")
        if loaded is not direct:
            sys.exit(f"wheel_task: the entry point and {package}.{name} are different functions")
        return
    package, name, *parameters = argv
    entry_point = by_name(package, name)
    function = entry_point.load() if entry_point is not None else fallback(package, name)
    sys.argv = [package, *parameters]
    function()


if __name__ == "__main__":
    main(sys.argv[1:])
