"""Downloads with checksum verification, against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from ase_geoformer import download
from ase_geoformer.data import read_dataset
from ase_geoformer.errors import DataError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rmd17"


@pytest.fixture
def serve():
    """``serve(folder)`` -> base URL of an HTTP server on 127.0.0.1 serving ``folder``."""
    servers = []

    def start(folder: Path) -> str:
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


def test_download_keeps_a_file_with_the_right_checksum(tmp_path, serve):
    (tmp_path / "site").mkdir()
    payload = b"rMD17 stand-in " * 1000
    (tmp_path / "site" / "f.bin").write_bytes(payload)
    url = serve(tmp_path / "site") + "/f.bin"
    path = download.download_file(url, tmp_path / "out" / "f.bin", hashlib.sha256(payload).hexdigest(), progress=False)
    assert path.read_bytes() == payload


def test_download_with_a_wrong_checksum_leaves_nothing(tmp_path, serve):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "f.bin").write_bytes(b"tampered")
    url = serve(tmp_path / "site") + "/f.bin"
    with pytest.raises(DataError, match="sha256 .* expected 00"):
        download.download_file(url, tmp_path / "out" / "f.bin", "00" * 32, progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_unreachable_server_gives_a_data_error(tmp_path, serve):
    url = serve(tmp_path) + "/absent.npz"
    with pytest.raises(DataError, match="cannot download .*absent.npz"):
        download.download_file(url, tmp_path / "x.npz", "00", progress=False)


@pytest.mark.skipif(not (DATA / "rmd17_ethanol_test_01.npz").exists(), reason=f"rMD17 files not found at {DATA}")
def test_rmd17_files_are_verified_against_the_published_sha256(tmp_path, serve):
    base = serve(DATA)
    paths = download.download_rmd17("ethanol", tmp_path, splits=("train_01", "test_01"), base_url=base, progress=False)
    assert [p.name for p in paths] == ["rmd17_ethanol_train_01.npz", "rmd17_ethanol_test_01.npz"]
    assert paths[1].read_bytes() == (DATA / "rmd17_ethanol_test_01.npz").read_bytes()
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "rmd17_ethanol_test_02.npz").write_bytes(b"not the published file")
    with pytest.raises(DataError, match="sha256"):
        download.download_rmd17("ethanol", tmp_path / "other", splits=("test_02",), base_url=serve(fake), progress=False)


def test_figshare_archive_is_md5_checked_unpacked_and_split(tmp_path, serve):
    site = tmp_path / "site"
    site.mkdir()
    rng = np.random.default_rng(0)
    frames = 30
    full = {
        "nuclear_charges": np.array([6, 1, 1, 1, 1], dtype=np.uint8),
        "coords": rng.normal(size=(frames, 5, 3)),
        "energies": rng.normal(size=frames),
        "forces": rng.normal(size=(frames, 5, 3)),
        "old_indices": np.arange(frames) * 7,
    }
    buffer = io.BytesIO()
    np.savez(buffer, **full)
    members = {"rmd17/npz_data/rmd17_benzene.npz": buffer.getvalue()}
    for number, split in enumerate(download.SPLIT_FILES):
        members[f"rmd17/splits/index_{split}.csv"] = "\n".join(str(i) for i in range(number, frames, 10)).encode()
    with tarfile.open(site / "rmd17.tar.bz2", "w:bz2") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    base = serve(site)
    md5 = hashlib.md5((site / "rmd17.tar.bz2").read_bytes()).hexdigest()
    (site / "files.json").write_text(json.dumps([{"name": "rmd17.tar.bz2", "download_url": f"{base}/rmd17.tar.bz2", "computed_md5": md5}]))
    folder = download.download_rmd17_archive(tmp_path / "out", api_url=f"{base}/files.json", progress=False)
    paths = download.split_archive(folder, "benzene", tmp_path / "splits")
    test_03 = read_dataset(tmp_path / "splits" / "rmd17_benzene_test_03.npz")
    np.testing.assert_array_equal(test_03.frame_ids, full["old_indices"][7::10])
    assert len(paths) == 10

    (site / "files.json").write_text(json.dumps([{"name": "rmd17.tar.bz2", "download_url": f"{base}/rmd17.tar.bz2", "computed_md5": "0" * 32}]))
    with pytest.raises(DataError, match="md5"):
        download.download_rmd17_archive(tmp_path / "again", api_url=f"{base}/files.json", progress=False)
