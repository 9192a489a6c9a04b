"""Adds files to a built wheel's `{name}-{version}.data/data/` folder, which installers unpack into the
environment's root (the `data` install path: `<venv>/share/...` for `share/...`), and rewrites RECORD with their
hashes. build-wheel.sh uses it for the shell completions and man pages, which only the built binary can generate,
after maturin has packed that binary.

    python3 scripts/wheel_add_data.py WHEEL SRC_DIR

Every file under SRC_DIR is added at the same relative path under `.data/data/`; the wheel is rewritten in place,
entries in their old order with the new ones before `.dist-info/`, RECORD last.
"""

import base64
import hashlib
import os
import sys
import zipfile


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main(wheel, src):
    with zipfile.ZipFile(wheel) as old:
        infos = old.infolist()
        contents = {i.filename: old.read(i) for i in infos}
    dist_info = next(n.split("/")[0] for n in contents if n.split("/")[0].endswith(".dist-info"))
    data_dir = dist_info[: -len(".dist-info")] + ".data/data"
    record = f"{dist_info}/RECORD"

    added = []
    for root, _dirs, files in sorted(os.walk(src)):
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            with open(full, "rb") as f:
                added.append((f"{data_dir}/{rel}", f.read()))
    if not added:
        sys.exit(f"wheel_add_data.py: no files under {src}")
    clash = [p for p, _ in added if p in contents]
    if clash:
        sys.exit(f"wheel_add_data.py: the wheel already has {', '.join(clash)}")

    # The new entries take the timestamp of the wheel's own entries, so the result depends on the inputs only.
    stamp = infos[0].date_time
    lines = [line for line in contents[record].decode().splitlines() if line and not line.startswith(f"{record},")]
    lines += [record_line(p, d) for p, d in added]
    lines.append(f"{record},,")

    tmp = wheel + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as new:

        def write_added():
            for path, data in added:
                info = zipfile.ZipInfo(path, stamp)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                new.writestr(info, data)

        pending = True
        for info in infos:
            if info.filename == record:
                continue
            if pending and info.filename.startswith(f"{dist_info}/"):
                write_added()
                pending = False
            new.writestr(info, contents[info.filename])
        if pending:
            write_added()
        info = zipfile.ZipInfo(record, stamp)
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        new.writestr(info, "\n".join(lines) + "\n")
    os.replace(tmp, wheel)
    for path, _ in added:
        print(f"ADDED {path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 scripts/wheel_add_data.py WHEEL SRC_DIR")
    main(sys.argv[1], sys.argv[2])
