"""Fetching rMD17 for users who are online, with checksum verification.

Two public sources (``shared/data/rmd17/PROVENANCE.md``):

- the rmd17-npz repository (``rmd17_<molecule>_<train|test>_<01..05>.npz``; sha256 of every file
  is known and checked: ``rmd17_sha256.json``),
- the full archive on figshare (DOI 10.6084/m9.figshare.12672038): ``rmd17.tar.bz2``, checked
  against the MD5 that figshare's API publishes; ``split_archive`` then writes the same split
  files from the archive's ``npz_data/`` and ``splits/index_<train|test>_<nn>.csv``.

A failed or corrupt download never leaves a file under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ase_geoformer.errors import DataError
from ase_geoformer.io_utils import atomic_path
from ase_geoformer.rmd17 import MOLECULES, SPLIT_FILES

NPZ_REPOSITORY = (
    "https://raw.githubusercontent.com/andersx/rmd17-npz/4f6bb0a186822c90d47cd98b7a27991fe0b3173b/rmd17-npz"
)
FIGSHARE_FILES_API = "https://api.figshare.com/v2/articles/12672038/files"
ARCHIVE_NAME = "rmd17.tar.bz2"
CHUNK = 1 << 20


def known_checksums() -> dict[str, str]:
    """sha256 of each file of the rmd17-npz repository, by file name."""
    return json.loads(resources.files("ase_geoformer").joinpath("rmd17_sha256.json").read_text())


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    url: str, destination: str | os.PathLike, checksum: str, algorithm: str = "sha256", progress: bool = True
) -> Path:
    """Fetch ``url`` to ``destination``, keeping it only if its ``algorithm`` digest equals ``checksum``."""
    destination = Path(destination)
    digest = hashlib.new(algorithm)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, atomic_path(destination) as temporary:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(temporary, "wb") as handle, tqdm(
                total=total, unit="B", unit_scale=True, desc=destination.name, disable=not progress, file=sys.stderr
            ) as bar:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            if digest.hexdigest() != checksum.lower():
                raise DataError(
                    f"{url}: the downloaded file's {algorithm} is {digest.hexdigest()}, expected {checksum}; the file "
                    "was discarded. Try again; if it persists, the source changed: report it"
                )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise DataError(f"cannot download {url} ({error}); check the connection, or pass a local folder instead") from error
    return destination


def download_rmd17(
    molecule: str,
    output: str | os.PathLike,
    splits: tuple[str, ...] = SPLIT_FILES,
    base_url: str = NPZ_REPOSITORY,
    progress: bool = True,
) -> list[Path]:
    """Fetch the split files of ``molecule`` from the rmd17-npz repository into ``output``.

    Files already present with the right checksum are kept; every file is verified by sha256.
    """
    if molecule not in MOLECULES:
        raise DataError(f"{molecule!r} is not an rMD17 molecule; choose one of {', '.join(MOLECULES)}")
    checksums = known_checksums()
    paths = []
    for split in splits:
        name = f"rmd17_{molecule}_{split}.npz"
        path = Path(output) / name
        if not (path.is_file() and file_digest(path) == checksums[name]):
            download_file(f"{base_url}/{name}", path, checksums[name], progress=progress)
        paths.append(path)
    return paths


def download_rmd17_archive(output: str | os.PathLike, api_url: str = FIGSHARE_FILES_API, progress: bool = True) -> Path:
    """Fetch and unpack the full rMD17 archive from figshare (MD5 from figshare's API); returns the ``rmd17/`` folder."""
    output = Path(output)
    try:
        with urllib.request.urlopen(api_url, timeout=60) as response:
            files = json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read the figshare file list at {api_url} ({error})") from error
    entry = next((f for f in files if f.get("name") == ARCHIVE_NAME), None)
    if entry is None or "download_url" not in entry or "computed_md5" not in entry:
        raise DataError(f"{api_url} lists no {ARCHIVE_NAME} with a download URL and MD5; the figshare record changed")
    archive = download_file(entry["download_url"], output / ARCHIVE_NAME, entry["computed_md5"], "md5", progress)
    with tarfile.open(archive, "r:bz2") as tar:
        tar.extractall(output, filter="data")
    folder = output / "rmd17"
    if not (folder / "npz_data").is_dir():
        raise DataError(f"{archive} did not unpack to rmd17/npz_data/; the archive's layout changed")
    return folder


def split_archive(archive_folder: str | os.PathLike, molecule: str, output: str | os.PathLike) -> list[Path]:
    """Write ``rmd17_<molecule>_<split>.npz`` files from the unpacked archive (frames chosen by its index files)."""
    archive_folder = Path(archive_folder)
    source = archive_folder / "npz_data" / f"rmd17_{molecule}.npz"
    if not source.is_file():
        raise DataError(f"{source} does not exist; unpack the archive with download_rmd17_archive first")
    with np.load(source) as content:
        arrays = {key: content[key] for key in content.files}
    per_frame = [key for key, value in arrays.items() if key != "nuclear_charges"]
    paths = []
    for split in SPLIT_FILES:
        index_file = archive_folder / "splits" / f"index_{split}.csv"
        if not index_file.is_file():
            raise DataError(f"{index_file} does not exist; the archive is incomplete")
        index = np.loadtxt(index_file, dtype=np.int64).reshape(-1)
        subset = {key: (arrays[key][index] if key in per_frame else arrays[key]) for key in arrays}
        path = Path(output) / f"rmd17_{molecule}_{split}.npz"
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, **subset)
        paths.append(path)
    return paths

