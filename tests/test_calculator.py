"""GeoFormerCalculator: properties, model resolution, dtype, state checks and user-facing errors."""

import copy
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import molecule

from ase_geoformer import (
    CheckpointError,
    GeoFormerCalculator,
    InvalidStructureError,
    ModelNotFoundError,
    UnsupportedElementError,
    save_checkpoint,
)
from conftest import calculator, energy


def test_properties_are_consistent(model, glycine):
    glycine.calc = calculator(model)
    e = glycine.get_potential_energy()
    assert glycine.get_potential_energy(force_consistent=True) == e
    assert glycine.get_potential_energies().sum() == pytest.approx(e, abs=1e-12)
    assert glycine.get_forces().shape == (len(glycine), 3)
    np.testing.assert_allclose(glycine.get_forces().sum(axis=0), 0.0, atol=1e-12)


def test_float32_agrees_with_float64_to_float32_precision(model, glycine):
    e64 = energy(glycine, calculator(model, dtype="float64"))
    calc32 = calculator(model, dtype=torch.float32)
    assert next(calc32.model.parameters()).dtype == torch.float32
    e32 = energy(glycine, calc32)
    assert e32 != e64 and abs(e32 - e64) < 1e-5 * max(1.0, abs(e64))
    glycine.calc = calc32
    f32 = glycine.get_forces()
    glycine.calc = calculator(model)
    np.testing.assert_allclose(f32, glycine.get_forces(), atol=1e-5)


def test_float32_total_energy_keeps_reference_energies_in_float64(model, glycine):
    """With DFT-sized reference energies (the molecule's total near -5,500 eV, where float32 steps by 0.5 meV)
    a float32 model still gives the float64 total to the precision of its per-atom residuals."""
    model = copy.deepcopy(model)
    references = [-1029.123456789 * z / 6 for z in model.species]  # not representable in float32
    model.readout.set_energy_statistics(scale=0.7, shift=-0.3, reference_energies=references)
    cast = copy.deepcopy(model).to(torch.float32)
    assert cast.readout.reference_energies.dtype == torch.float64
    assert cast.readout.reference_energies.tolist() == references
    calc64, calc32 = calculator(model), calculator(model, dtype="float32")
    rng = np.random.default_rng(0)
    for _ in range(5):
        atoms = glycine.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        assert abs(energy(atoms, calc32) - energy(atoms, calc64)) < 2e-5


def test_calculator_leaves_global_dtype_and_given_module_alone(model, glycine):
    default = torch.get_default_dtype()
    calc = calculator(model, dtype="float32")
    energy(glycine, calc)
    assert torch.get_default_dtype() == default
    assert next(model.parameters()).dtype == torch.float64 and next(model.parameters()).requires_grad


def test_model_from_path_and_string_path(model, glycine, tmp_path):
    path = tmp_path / "my_model.pt"
    save_checkpoint(path, model)
    expected = energy(glycine, calculator(model))
    assert energy(glycine, GeoFormerCalculator(model=path, device="cpu")) == expected
    assert energy(glycine, GeoFormerCalculator(model=str(path), device="cpu")) == expected


def test_default_model_missing_gives_clear_error(monkeypatch):
    monkeypatch.setattr("ase_geoformer.zoo.shipped_models", lambda: {})
    with pytest.raises(ModelNotFoundError, match="default shipped model .ethanol-committee. is not installed.*Pass model="):
        GeoFormerCalculator()


def test_unknown_model_name_lists_installed_models():
    with pytest.raises(ModelNotFoundError, match="no shipped model named 'unobtainium'.*installed models"):
        GeoFormerCalculator(model="unobtainium")


def test_corrupt_checkpoint_through_the_calculator(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="broken.pt is corrupt"):
        GeoFormerCalculator(model=path)


def test_bad_dtype_and_model_type():
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        GeoFormerCalculator(model="x.pt", dtype="float16")
    with pytest.raises(TypeError, match="must be a GeoFormer or GeoFormerCommittee module.*got Linear"):
        GeoFormerCalculator(model=torch.nn.Linear(2, 2))


def test_unsupported_element_names_it_and_the_model_elements(model):
    atoms = molecule("CH3CH2OH")
    atoms.numbers[0] = 16  # sulfur
    atoms.calc = calculator(model)
    with pytest.raises(UnsupportedElementError, match=r"S \(Z=16\).*trained on H, C, N, O"):
        atoms.get_potential_energy()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_positions(model, glycine, bad):
    glycine.positions[3, 1] = bad
    glycine.calc = calculator(model)
    with pytest.raises(InvalidStructureError, match=r"atom\(s\) \[3\] are NaN or infinite"):
        glycine.get_forces()


def test_empty_atoms(model):
    atoms = Atoms()
    atoms.calc = calculator(model)
    with pytest.raises(InvalidStructureError, match="empty"):
        atoms.get_potential_energy()


def test_degenerate_periodic_cell(model, glycine):
    glycine.pbc = True
    glycine.calc = calculator(model)
    with pytest.raises(InvalidStructureError, match="degenerate"):
        glycine.get_potential_energy()


def test_check_state_sees_info_changes(model, glycine):
    calc = calculator(model)
    glycine.info["charge"] = 0
    glycine.info["tags"] = np.arange(3)
    glycine.calc = calc
    glycine.get_potential_energy()
    assert calc.check_state(glycine) == []
    glycine.info["tags"] = np.arange(3) + 1
    assert "info" in calc.check_state(glycine)
    glycine.get_potential_energy()
    glycine.info["charge"] = 1
    assert "info" in calc.check_state(glycine)


def test_results_follow_moved_atoms(model, glycine):
    glycine.calc = calculator(model)
    e0 = glycine.get_potential_energy()
    glycine.positions[0] += 0.1
    assert glycine.get_potential_energy() != e0


def test_registered_as_ase_plugin():
    names = {entry.name for entry in entry_points(group="ase.plugins")}
    assert "geoformer" in names
    from ase._4.plugins import PluginCollection

    plugins = PluginCollection.from_entry_points()
    implementations = {plugin.implementation for plugin in plugins.calculators}
    assert GeoFormerCalculator in implementations
    listing = subprocess.run(
        [sys.executable, "-m", "ase", "info", "--plugins"], capture_output=True, text=True, check=True
    ).stdout
    assert "geoformer" in listing and "ase_geoformer" in listing


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kwargs", [{}, {"dense_max_atoms": 0}], ids=["dense", "neighbour_list"])
def test_cuda_matches_cpu(model, glycine, kwargs):
    cpu = calculator(model, **kwargs)
    cuda = GeoFormerCalculator(model=model, device="cuda", **kwargs)
    assert next(cuda.model.parameters()).is_cuda
    glycine.calc = cpu
    e_cpu, f_cpu = glycine.get_potential_energy(), glycine.get_forces()
    glycine.calc = cuda
    assert abs(glycine.get_potential_energy() - e_cpu) < 1e-9
    np.testing.assert_allclose(glycine.get_forces(), f_cpu, atol=1e-9)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_is_the_default_device_when_present(model):
    assert GeoFormerCalculator(model=model).device.type == "cuda"
