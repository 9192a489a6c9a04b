"""MLTable: drift's uploaded file is byte for byte what the `mltable` package writes for the same table and version,
and its upload path is the SDK's content hash of a folder holding that file."""

from __future__ import annotations

import inspect
import re

import mltable
import parity
import peer
from azure.ai.ml._utils import _asset_utils
from azure.ai.ml._utils._asset_utils import get_object_hash


def uploaded(side_requests) -> tuple[str, bytes]:
    put = parity.find(side_requests, "MLTable blob PUT")
    return put.path, put.body


def test_drift_writes_what_mltable_writes(drift_side, tmp_path):
    path, body = uploaded(drift_side.requests)
    folder_uri = next(
        a["dataUri"] for a in drift_side.register_report["details"]["assets"] if a["type"] == "uri_folder"
    )
    mltable.from_delta_lake(folder_uri, version_as_of=peer.DELTA_VERSION).save(str(tmp_path / "out"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["MLTable"], "save() writes exactly one file"
    assert body == (tmp_path / "out" / "MLTable").read_bytes()
    assert body.decode() == drift_side.register_report["details"]["mltable"]


def test_the_upload_path_is_the_sdk_hash_of_that_folder(drift_side, tmp_path):
    path, body = uploaded(drift_side.requests)
    match = re.fullmatch(rf"/blob/{peer.ML_ACCOUNT}/{peer.ML_CONTAINER}/LocalUpload/([0-9a-f]+)/([^/]+)/MLTable", path)
    assert match, path
    digest, folder_name = match.groups()
    assert folder_name == peer.MLTABLE_ASSET
    folder = tmp_path / folder_name
    folder.mkdir()
    (folder / "MLTable").write_bytes(body)
    assert len(digest) == 64, f"SHA-256 (64 hex digits), as azure-ai-ml 1.35 hashes; got {len(digest)}: {digest}"
    assert digest == get_object_hash(folder)


def test_drift_and_the_sdk_upload_to_the_same_blob(drift_side, sdk_side):
    """The SDK's own upload of the folder `mltable` wrote (sdk_side) lands on drift's path: they deduplicate."""
    assert uploaded(drift_side.requests) == uploaded(sdk_side.requests)


def test_the_installed_sdk_hashes_with_sha256():
    """The facts the README quotes, pinned to the installed SDK: a change of algorithm or seed fails here."""
    source = inspect.getsource(_asset_utils.get_object_hash)
    assert 'hashlib.sha256(b"Initialize for october 2021 AML CLI version")' in source, source
    walk = inspect.getsource(_asset_utils._get_dir_hash)
    assert "sorted(dir_contents, key=lambda path: str(path).lower())" in walk, walk
    assert "_hash.update(path.name.encode())" in walk, walk
