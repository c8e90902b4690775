"""Langevin (NVT) and NVE (velocity Verlet) runs with ASE's integrators, for any ASE calculator.

    python -m md_protocols.dynamics ethanol.xyz --calculator ethanol --ensemble langevin --temperature 300 \
        --timestep 0.5 --steps 20000 --output runs/ethanol_nvt
    python -m md_protocols.dynamics ... --resume          # continue a killed run from its trajectory

Writes ``<output>.traj`` (ASE trajectory: every ``interval`` steps, positions and momenta),
``<output>.log`` (ASE's MDLogger) and ``<output>.json`` (a summary, written atomically). A killed
run keeps every frame written before the kill (the trajectory's frame count is updated only after
a frame is complete), and ``--resume`` continues from the last frame.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import BaseCalculator
from ase.io import read
from ase.io.trajectory import Trajectory
from ase.constraints import FixCom
from ase.md import MDLogger, thermalize_momenta
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from ase_geoformer.io_utils import atomic_write_text

ENSEMBLES = ("langevin", "nve")


@dataclass
class MDSettings:
    """A run: ``ensemble`` "langevin" or "nve"; temperature in K (Langevin bath and initial velocities);
    time step in fs; Langevin friction in 1/fs; a frame saved every ``interval`` steps."""

    ensemble: str = "langevin"
    temperature_K: float = 300.0
    timestep_fs: float = 0.5
    steps: int = 1000
    friction_per_fs: float = 0.01
    interval: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble must be one of {ENSEMBLES}, got {self.ensemble!r}")
        if self.timestep_fs <= 0 or self.steps < 0 or self.interval < 1 or self.temperature_K < 0:
            raise ValueError(f"invalid MD settings: {self}")


def steps_in(duration_ps: float, timestep_fs: float) -> int:
    """How many time steps of ``timestep_fs`` (fs) make ``duration_ps`` (ps)."""
    return int(round(duration_ps * 1000 / timestep_fs))


def initialise_velocities(atoms: Atoms, temperature_K: float, rng: np.random.Generator) -> None:
    """Maxwell-Boltzmann velocities with zero total momentum (and, for a molecule, zero angular momentum).

    ASE's convention: the kinetic energy drawn is on average that of ``temperature_K`` over all 3N degrees
    of freedom, and removing the drift and rotation keeps it, so the motion within a molecule starts on
    average at ``temperature_K * 3N / (3N - 6)``.
    """
    thermalize_momenta(atoms, temperature_K=temperature_K, rng=rng)
    Stationary(atoms)
    if not atoms.pbc.any():
        ZeroRotation(atoms)


def _rotation_axes(atoms: Atoms) -> tuple[np.ndarray, np.ndarray]:
    """Moments of inertia (amu Å^2) and principal axes (rows) about which ``atoms`` can turn: three for a
    molecule, two for a linear one, none for a single atom."""
    moments, axes = atoms.get_moments_of_inertia(vectors=True)
    turning = moments > 1e-8 * moments.max()
    return moments[turning], axes[turning]


def internal_degrees_of_freedom(atoms: Atoms) -> int:
    """Degrees of freedom of the motion within ``atoms``: 3N less the 3 of the total momentum and, for a
    molecule (no periodic direction), the 3 of its rotation (2 for a linear molecule).

    ``initialise_velocities`` zeroes those momenta, and forces from an energy that is invariant under
    translation and rotation keep them zero, so only these degrees of freedom carry kinetic energy.
    """
    rotations = 0 if atoms.pbc.any() else len(_rotation_axes(atoms)[0])
    return max(3 * len(atoms) - 3 - rotations, 0)


def internal_temperature(atoms: Atoms) -> float:
    """Kinetic temperature (K) of the motion within ``atoms``: the kinetic energy less that of the centre
    of mass and, for a molecule, of its rigid rotation, over ``internal_degrees_of_freedom``."""
    dof = internal_degrees_of_freedom(atoms)
    if dof == 0:
        raise ValueError(f"{atoms.get_chemical_formula()} has no internal degrees of freedom, so no internal temperature")
    momenta, masses = atoms.get_momenta(), atoms.get_masses()
    kinetic = 0.5 * float((momenta**2 / masses[:, None]).sum())
    total_momentum = momenta.sum(axis=0)
    kinetic -= 0.5 * float(total_momentum @ total_momentum) / masses.sum()
    if not atoms.pbc.any():
        moments, axes = _rotation_axes(atoms)
        kinetic -= 0.5 * float(((axes @ atoms.get_angular_momentum()) ** 2 / moments).sum())
    return 2 * kinetic / (dof * units.kB)


def run_md(
    atoms: Atoms,
    calculator: BaseCalculator,
    settings: MDSettings,
    output: str | os.PathLike,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run ``settings`` on ``atoms``, writing ``<output>.traj``, ``.log`` and ``.json``; returns the summary.

    ``resume=True`` continues from the last frame of an existing trajectory (positions and momenta).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    paths = {kind: output.with_name(output.name + suffix) for kind, suffix in (("traj", ".traj"), ("log", ".log"), ("json", ".json"))}
    atoms = atoms.copy()
    done = 0
    if resume and paths["traj"].exists():
        with Trajectory(paths["traj"]) as frames:
            last, done = frames[-1], (len(frames) - 1) * settings.interval
        atoms.positions, atoms.cell, atoms.pbc = last.positions, last.cell, last.pbc
        atoms.set_momenta(last.get_momenta())
    elif resume:
        raise FileNotFoundError(f"nothing to resume: {paths['traj']} does not exist")
    else:
        initialise_velocities(atoms, settings.temperature_K, np.random.default_rng(settings.seed))
    atoms.calc = calculator

    timestep = settings.timestep_fs * units.fs
    if settings.ensemble == "langevin":
        rng = np.random.default_rng([settings.seed, done])
        atoms.set_constraint(FixCom())
        dynamics = Langevin(
            atoms, timestep, temperature_K=settings.temperature_K, friction=settings.friction_per_fs / units.fs,
            fixcm=False, rng=rng,
        )
    else:
        dynamics = VelocityVerlet(atoms, timestep)

    remaining = max(settings.steps - done, 0)
    started = time.perf_counter()
    with Trajectory(paths["traj"], "a" if done else "w", atoms) as trajectory, tqdm(
        total=settings.steps, initial=done, unit="step", desc=settings.ensemble, disable=not progress, file=sys.stderr
    ) as bar:
        def save() -> None:
            if dynamics.nsteps > 0 or not done:
                trajectory.write(atoms)

        dynamics.attach(save, interval=settings.interval)
        dynamics.attach(lambda: bar.update(1), interval=1)
        logger = MDLogger(dynamics, atoms, str(paths["log"]), header=not done, stress=False, peratom=True, mode="a" if done else "w")
        dynamics.attach(logger, interval=settings.interval)
        bar.update(-1)  # the observers also run once before the first step
        dynamics.run(remaining)
        logger.close()
    seconds = time.perf_counter() - started
    summary = {
        "settings": asdict(settings),
        "atoms": len(atoms),
        "formula": atoms.get_chemical_formula(),
        "calculator": type(calculator).__name__,
        "steps": settings.steps,
        "steps_this_call": remaining,
        "frames": _frame_count(paths["traj"]),
        "simulated_ps": settings.steps * settings.timestep_fs / 1000,
        "steps_per_second": remaining / seconds if seconds > 0 else None,
        "trajectory": str(paths["traj"]),
    }
    atomic_write_text(paths["json"], json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    from md_protocols.cli import add_calculator_arguments, calculator_from_arguments

    parser = argparse.ArgumentParser(prog="python -m md_protocols.dynamics", description=__doc__.splitlines()[0])
    parser.add_argument("structure", help="structure file (anything ase.io reads) or an ase.build.molecule name")
    parser.add_argument("--ensemble", choices=ENSEMBLES, default="langevin")
    parser.add_argument("--temperature", type=float, default=300.0, help="K")
    parser.add_argument("--timestep", type=float, default=0.5, help="fs")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--friction", type=float, default=0.01, help="Langevin friction, 1/fs")
    parser.add_argument("--interval", type=int, default=10, help="steps between saved frames")
    parser.add_argument("--resume", action="store_true", help="continue from the last frame of <output>.traj")
    add_calculator_arguments(parser)
    args = parser.parse_args(argv)
    try:
        atoms = load_structure(args.structure)
        calculator = calculator_from_arguments(args)
        settings = MDSettings(args.ensemble, args.temperature, args.timestep, args.steps, args.friction, args.interval, args.seed)
        summary = run_md(atoms, calculator, settings, args.output, resume=args.resume)
    except (ValueError, FileNotFoundError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


def _frame_count(path: Path) -> int:
    with Trajectory(path) as trajectory:
        return len(trajectory)


def load_structure(name: str) -> Atoms:
    """A structure file, or a molecule of ``ase.build.molecule`` by name."""
    if Path(name).exists():
        return read(name)
    from ase.build import molecule

    try:
        return molecule(name)
    except KeyError:
        raise FileNotFoundError(f"{name!r} is neither a structure file nor an ase.build.molecule name") from None


if __name__ == "__main__":
    sys.exit(main())
