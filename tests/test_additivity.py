"""Molecules farther apart than r_max do not interact: E(A + B) = E(A) + E(B)."""

import numpy as np
import pytest
from ase.build import molecule

from conftest import all_architectures, calculator


@all_architectures
@pytest.mark.parametrize("kwargs", [{}, {"dense_max_atoms": 0}], ids=["dense", "neighbour_list"])
def test_energy_is_additive_beyond_cutoff(model, kwargs):
    a, b = molecule("CH3CH2OH"), molecule("CH3CONH2")
    gap = model.r_max + 0.01
    b.positions += [a.positions[:, 0].max() - b.positions[:, 0].min() + gap, 0, 0]
    calc = calculator(model, **kwargs)
    separate = calc.get_property("energy", a) + calc.get_property("energy", b)
    combined = a + b
    assert abs(calc.get_property("energy", combined) - separate) < 1e-10
    forces = calc.get_property("forces", combined)
    np.testing.assert_allclose(forces[: len(a)], calc.get_property("forces", a), atol=1e-10)
    # Closer than r_max they do interact (so the additivity above is not trivial).
    b.positions -= [0.5, 0, 0]
    assert abs(calc.get_property("energy", a + b) - separate) > 1e-6
