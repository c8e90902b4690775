"""Energy invariant and forces equivariant under rotation, reflection, translation, permutation."""

import numpy as np
import pytest

from conftest import all_architectures, calculator, random_model, random_rotation

PATHS = {"dense": {}, "neighbour_list": {"dense_max_atoms": 0}}


def evaluate(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_potential_energies()


def orthogonal_transform(kind: str, rng: np.random.Generator) -> np.ndarray:
    rotation = random_rotation(rng)
    return rotation if kind == "rotation" else np.diag([1.0, -1.0, 1.0]) @ rotation


@all_architectures
@pytest.mark.parametrize("kind", ["rotation", "reflection"])
@pytest.mark.parametrize("path", PATHS)
def test_orthogonal_transform_and_translation(model, glycine, path, kind):
    calc = calculator(model, **PATHS[path])
    e0, f0, _ = evaluate(glycine, calc)
    rng = np.random.default_rng(3)
    for _ in range(3):
        transform = orthogonal_transform(kind, rng)
        moved = glycine.copy()
        moved.positions = glycine.positions @ transform.T + rng.normal(scale=10.0, size=3)
        e1, f1, _ = evaluate(moved, calc)
        assert abs(e1 - e0) <= 1e-10 * abs(e0)
        np.testing.assert_allclose(f1, f0 @ transform.T, atol=1e-10 * np.abs(f0).max())


@all_architectures
@pytest.mark.parametrize("path", PATHS)
def test_permutation_of_like_atoms(model, glycine, path):
    calc = calculator(model, **PATHS[path])
    e0, f0, ea0 = evaluate(glycine, calc)
    permutation = np.random.default_rng(5).permutation(len(glycine))
    permuted = glycine[permutation]
    e1, f1, ea1 = evaluate(permuted, calc)
    assert abs(e1 - e0) <= 1e-10 * abs(e0)
    np.testing.assert_allclose(f1, f0[permutation], atol=1e-10 * np.abs(f0).max())
    np.testing.assert_allclose(ea1, ea0[permutation], atol=1e-10 * np.abs(ea0).max())


def test_default_architecture_is_invariant(ethanol):
    from ase_geoformer import GeoFormerConfig

    calc = calculator(random_model(GeoFormerConfig(species=(1, 6, 8))))
    e0, f0, _ = evaluate(ethanol, calc)
    rotation = random_rotation(np.random.default_rng(6))
    moved = ethanol.copy()
    moved.positions = ethanol.positions @ rotation.T + 3.0
    e1, f1, _ = evaluate(moved, calc)
    assert abs(e1 - e0) <= 1e-10 * abs(e0)
    np.testing.assert_allclose(f1, f0 @ rotation.T, atol=1e-10 * np.abs(f0).max())


def test_energy_depends_on_geometry(model, glycine):
    """Guards the tests above against a model that ignores positions."""
    calc = calculator(model)
    e0, f0, _ = evaluate(glycine, calc)
    stretched = glycine.copy()
    stretched.positions *= 1.05
    assert abs(evaluate(stretched, calc)[0] - e0) > 1e-4
    assert np.abs(f0).max() > 1e-3

