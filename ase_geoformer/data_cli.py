"""``geoformer-data``: fetch rMD17, convert data to HDF5, summarise a data file.

    geoformer-data download --molecule ethanol --output data/rmd17          # rmd17-npz files, sha256-checked
    geoformer-data download --molecule all --source figshare --output data  # full archive, MD5-checked
    geoformer-data convert frames.extxyz frames.h5                          # any readable data -> HDF5 (eV, Å)
    geoformer-data info data/rmd17/rmd17_ethanol_train_01.npz
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from ase.data import chemical_symbols

from ase_geoformer.data import read_dataset, write_hdf5
from ase_geoformer.download import download_rmd17, download_rmd17_archive, split_archive
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.rmd17 import MOLECULES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="geoformer-data", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="fetch rMD17 split files (needs internet)")
    download.add_argument("--molecule", action="append", required=True, choices=[*MOLECULES, "all"])
    download.add_argument("--output", required=True, help="folder for the npz files")
    download.add_argument("--source", choices=["npz", "figshare"], default="npz")
    convert = commands.add_parser("convert", help="convert a data file to this package's HDF5 format")
    convert.add_argument("input")
    convert.add_argument("output", help="the .h5 file to write")
    convert.add_argument("--index", default=":", help="frames to take from an ase.io file (e.g. ':100')")
    info = commands.add_parser("info", help="summarise a data file")
    info.add_argument("path")
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            molecules = MOLECULES if "all" in args.molecule else args.molecule
            if args.source == "npz":
                for molecule in molecules:
                    for path in download_rmd17(molecule, args.output):
                        print(path)
            else:
                folder = download_rmd17_archive(args.output)
                for molecule in molecules:
                    for path in split_archive(folder, molecule, args.output):
                        print(path)
        elif args.command == "convert":
            dataset = read_dataset(args.input, args.index)
            write_hdf5(dataset, args.output)
            print(f"wrote {len(dataset)} frames to {args.output}")
        else:
            dataset = read_dataset(args.path)
            elements = ", ".join(chemical_symbols[z] for z in dataset.species)
            sizes = dataset.sizes
            print(
                f"{args.path}: {len(dataset)} frames, {sizes.min()}-{sizes.max()} atoms, elements {elements}; "
                f"energy {dataset.energies.min():.3f} to {dataset.energies.max():.3f} eV; force RMS "
                f"{np.sqrt(np.mean(dataset.forces ** 2)):.3f} eV/Å"
            )
    except GeoFormerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
