"""Short NVE run with any GeoFormer model (the default: the ethanol committee): a check that the stack works.

    python md_protocols/quick_md.py --model ethanol                        # a shipped model
    python md_protocols/quick_md.py --model path/to/ckpt.pt                # your checkpoint
    python md_protocols/quick_md.py --model benzene --structure C6H6       # a molecule of ase.build
    python md_protocols/quick_md.py --model aspirin --structure start.xyz  # any file ase.io reads
    python md_protocols/quick_md.py --random-weights                       # untrained, default architecture

Velocity Verlet (ASE's integrator) from Maxwell-Boltzmann velocities with zero momentum and
angular momentum; prints the drift and fluctuation of the total energy and the largest change of
a bond length. With random weights the molecule is not held together: the run only shows that
energy is conserved.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ase import Atoms, units
from ase.build import molecule
from ase.io import read
from ase.md.verlet import VelocityVerlet

from ase_geoformer import GeoFormer, GeoFormerCalculator, GeoFormerConfig, GeoFormerError
from md_protocols.dynamics import initialise_velocities
from md_protocols.stability import bonds_of


def starting_structure(structure: str) -> Atoms:
    """``structure`` read from a file if one exists at that path, else built by ``ase.build.molecule``."""
    if Path(structure).is_file():
        return read(structure)
    try:
        return molecule(structure)
    except KeyError:
        sys.exit(
            f"error: --structure {structure!r} is neither a file nor a molecule name of ase.build.molecule "
            "(e.g. CH3CH2OH, C6H6); give a structure file that ase.io reads"
        )


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default=None, help="shipped model name or checkpoint path (default: the shipped default)")
    source.add_argument("--random-weights", action="store_true", help="untrained model of the default architecture")
    parser.add_argument(
        "--structure", default="CH3CH2OH",
        help="starting structure: a file ase.io reads, or a molecule name of ase.build.molecule (default: ethanol)",
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--dt", type=float, default=0.5, help="time step in fs")
    parser.add_argument("--temperature", type=float, default=300.0, help="initial temperature in K")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: CUDA when available)")
    parser.add_argument("--compile", action="store_true", help="run the model through torch.compile (compiles first)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    model = GeoFormer(GeoFormerConfig(species=(1, 6, 8))) if args.random_weights else args.model
    try:
        calc = GeoFormerCalculator(model=model, device=args.device, dtype=args.dtype, compile=args.compile)
    except GeoFormerError as error:
        sys.exit(f"error: {error}")
    atoms = starting_structure(args.structure)
    atoms.calc = calc
    try:
        atoms.get_potential_energy()
    except GeoFormerError as error:
        sys.exit(f"error: {error}")
    initialise_velocities(atoms, args.temperature, np.random.default_rng(args.seed))

    dynamics = VelocityVerlet(atoms, timestep=args.dt * units.fs)
    first, second = bonds_of(atoms).T
    initial_lengths = np.linalg.norm(atoms.positions[second] - atoms.positions[first], axis=1)
    total, potential, bond_change = [], [], [0.0]

    def record() -> None:
        total.append(atoms.get_total_energy())
        potential.append(atoms.get_potential_energy())
        lengths = np.linalg.norm(atoms.positions[second] - atoms.positions[first], axis=1)
        bond_change[0] = max(bond_change[0], float(np.abs(lengths - initial_lengths).max()))
        done = len(total) - 1
        if done % max(1, args.steps // 10) == 0:
            rate = done / max(time.perf_counter() - start, 1e-9)
            print(f"step {done:6d}/{args.steps}  E_tot {total[-1]: .6f} eV  T {atoms.get_temperature():6.1f} K  "
                  f"{rate:6.1f} steps/s", flush=True)

    start = time.perf_counter()
    dynamics.attach(record, interval=1)
    record()
    dynamics.run(args.steps)

    times_ps = np.arange(len(total)) * args.dt / 1000.0
    drift = np.polyfit(times_ps, np.array(total), 1)[0] * 1000.0 / len(atoms)
    summary = {
        "model": "random weights" if args.random_weights else str(args.model or "default"),
        "structure": atoms.get_chemical_formula(),
        "steps": args.steps,
        "dt_fs": args.dt,
        "drift_meV_per_atom_per_ps": float(drift),
        "std_total_over_std_potential": float(np.std(total) / np.std(potential)),
        "max_bond_change_A": bond_change[0],
        "steps_per_second": args.steps / (time.perf_counter() - start),
    }
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
