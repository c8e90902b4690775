"""The speed benchmark: every contender timed in one run, a zero-cost floor, JSON and Markdown output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import units
from ase.build import molecule
from ase.md.verlet import VelocityVerlet

from ase_geoformer import rmd17
from ase_geoformer.benchmark import FreeCalculator, default_molecules, main

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rmd17"


def test_free_calculator_is_a_zero_force_field():
    atoms = molecule("CH3CH2OH")
    atoms.set_velocities(np.ones((len(atoms), 3)) * 1e-2)
    atoms.calc = FreeCalculator()
    start = atoms.positions.copy()
    VelocityVerlet(atoms, timestep=1.0 * units.fs).run(10)
    assert atoms.get_potential_energy() == 0.0
    np.testing.assert_allclose(atoms.positions - start, 10 * units.fs * 1e-2, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "rmd17_ethanol_test_01.npz").exists(), reason=f"rMD17 files not found at {DATA}")
def test_benchmark_times_geoformer_above_the_ase_floor(tmp_path):
    output = tmp_path / "bench.json"
    table = tmp_path / "bench.md"
    arguments = ["--molecule", "ethanol", "--data-dir", str(DATA), "--rounds", "3", "--no-mace", "--replicas", "1,4"]
    assert main([*arguments, "--json", str(output), "--markdown", str(table)]) == 0
    rows = json.loads(output.read_text())["rows"]
    calls = {(row["dtype"], row["calculator"]): row for row in rows if "call_ms" in row}
    assert set(calls) == {(d, c) for d in ("float32", "float64") for c in ("GeoFormer", "ASE floor (no model)")}
    for dtype in ("float32", "float64"):
        model, floor = calls[(dtype, "GeoFormer")], calls[(dtype, "ASE floor (no model)")]
        assert model["atoms"] == 9 and model["model"] == "ethanol"
        assert model["call_ms"] > 5 * floor["call_ms"]
        assert model["md_step_ms"] > floor["md_step_ms"]
        assert model["call_over_mace"] is None
    batched = [row for row in rows if "atom_steps_per_s" in row]
    assert [row["calculator"] for row in batched] == ["GeoFormer batched x1", "GeoFormer batched x4"] * 2
    assert "| ethanol (9) | cpu | float64 | GeoFormer |" in table.read_text()


def test_benchmark_names_missing_data(tmp_path, capsys):
    assert main(["--molecule", "ethanol", "--data-dir", str(tmp_path), "--no-mace"]) == 1
    assert "rmd17_ethanol_test_01.npz" in capsys.readouterr().err


def test_mace_reference_has_the_rmd17_paper_size():
    pytest.importorskip("mace", reason="mace-torch is not installed (pip install '.[benchmark]')")
    from ase_geoformer.benchmark import mace_calculator

    model = mace_calculator("float64", "cpu", (1, 6, 7, 8)).models[0]
    assert model.atomic_numbers.tolist() == [1, 6, 7, 8]
    assert float(model.r_max) == 5.0 and int(model.num_interactions) == 2
    assert str(model.interactions[0].hidden_irreps) == "256x0e+256x1o+256x2e"
    assert str(model.spherical_harmonics.irreps_out) == "1x0e+1x1o+1x2e+1x3o"  # max_ell 3
    assert [product.symmetric_contractions.contractions[0].correlation for product in model.products] == [3, 3]
    assert model.radial_embedding.out_dim == 8


def test_default_molecules_are_the_rmd17_molecules_of_the_shipped_models():
    molecules = default_molecules()
    assert "ethanol" in molecules and "aspirin" in molecules
    assert all(molecule in rmd17.MOLECULES for molecule in molecules)  # not "ethanol-committee"
