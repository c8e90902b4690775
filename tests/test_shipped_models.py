"""The shipped models: installed with the package, loaded by name and by default, and as accurate as their cards say."""

from __future__ import annotations

from pathlib import Path

import pytest
from ase.build import molecule

from ase_geoformer import GeoFormerCalculator, load_checkpoint, shipped_models
from ase_geoformer.data import read_rmd17
from ase_geoformer.evaluate import evaluate
from ase_geoformer.zoo import DEFAULT_MODEL, trained_molecule

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rmd17"


def test_the_default_model_is_installed_and_loads_without_arguments():
    assert DEFAULT_MODEL in shipped_models()
    atoms = molecule("CH3CH2OH")
    atoms.calc = GeoFormerCalculator(device="cpu")
    by_default = atoms.get_potential_energy()
    atoms.calc = GeoFormerCalculator(model="ethanol-committee", device="cpu")
    assert atoms.get_potential_energy() == by_default
    assert atoms.calc.species == (1, 6, 8)


@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_each_shipped_model_records_its_data_and_test_errors(name):
    checkpoint = load_checkpoint(shipped_models()[name])
    molecule = trained_molecule(checkpoint)
    assert name == molecule or name.startswith(f"{molecule}-"), f"{name} was trained on {molecule}"
    assert f"{molecule} test_01" in checkpoint.metrics and f"{molecule} all not in train_01" in checkpoint.metrics


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_shipped_model_reproduces_its_test_error_on_rmd17_frames(name):
    checkpoint = load_checkpoint(shipped_models()[name])
    molecule = trained_molecule(checkpoint)
    path = DATA / f"rmd17_{molecule}_test_01.npz"
    if not path.exists():
        pytest.skip(f"rMD17 files not found at {DATA}")
    frames = read_rmd17(path).subset(range(0, 1000, 10))
    errors = evaluate(checkpoint.model, frames)
    stored = checkpoint.metrics[f"{molecule} test_01"]["force_mae_meV_per_A"]
    # 100 of the 1000 test frames: the MAE of a 10 % sample is within 25 % of the full one.
    assert errors["force_mae_meV_per_A"] == pytest.approx(stored, rel=0.25)


def test_the_model_list_shows_each_model_with_its_stored_errors(capsys):
    from ase_geoformer.zoo import main

    main()
    table = capsys.readouterr().out
    for name, path in shipped_models().items():
        checkpoint = load_checkpoint(path)
        errors = checkpoint.metrics[f"{trained_molecule(checkpoint)} test_01"]
        assert f"| {errors['force_mae_meV_per_A']:.2f} |" in table and name in table
    assert "| ethanol-committee (default, committee of 7) | HCO |" in table
    assert "| ethanol | HCO |" in table
    assert "| malonaldehyde-committee (committee of 9) | HCO |" in table
    assert "| aspirin-committee (committee of 3) | HCO |" in table
    assert "| naphthalene-committee (committee of 3) | HC |" in table
    assert "| toluene-committee (committee of 4) | HC |" in table
    assert "| paracetamol-committee (committee of 3) | HCNO |" in table
    assert "| uracil-committee (committee of 4) | HCNO |" in table
    assert "| azobenzene-committee (committee of 3) | HCN |" in table
    assert "| salicylic-committee (committee of 6) | HCO |" in table
    assert "| benzene-committee (committee of 3) | HC |" in table


def test_the_model_card_table_matches_each_checkpoints_stored_errors():
    card = Path(__file__).resolve().parents[1] / "trained" / "README.md"
    lines = card.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| model | elements | parameters |"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows[line.split("|")[1].strip()] = line
    for name, path in shipped_models().items():
        assert name in rows, f"trained/README.md has no table row for the shipped model {name}"
        checkpoint = load_checkpoint(path)
        molecule = trained_molecule(checkpoint)
        cells = [cell.strip() for cell in rows[name].split("|")[1:-1]]
        parameters = sum(p.numel() for p in checkpoint.model.parameters())
        assert cells[2] == f"{parameters:,}"
        for cell, subset in ((cells[3], "test_01"), (cells[4], "all not in train_01")):
            errors = checkpoint.metrics[f"{molecule} {subset}"]
            expected = f"{errors['energy_mae_meV']:.2f} / {errors['force_mae_meV_per_A']:.2f}"
            assert cell.startswith(expected), f"{name} {subset}: card says {cell!r}, checkpoint {expected}"
        errors = checkpoint.metrics[f"{molecule} test_01"]
        in_kcal = f"({errors['energy_mae_kcal_per_mol']:.3f} kcal/mol, {errors['force_mae_kcal_per_mol_per_A']:.3f} kcal/mol/Å)"
        assert cells[3].endswith(in_kcal), f"{name} test_01: card says {cells[3]!r}, checkpoint {in_kcal}"
