"""docs/scripts/average_of_models.py: the committee-size curve, its fit MAE(n)^2 = shared^2 + independent^2 / n, and the
error correlations within and between groups of models."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "average_of_models.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("average_of_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_curve_averages_over_every_subset_of_each_size(script):
    errors = np.array([1.0, -1.0, 3.0]).reshape(3, 1, 1, 1)
    # pairs: |0|, |2|, |1| -> 1; all three: |1| -> 1
    assert script.committee_size_curve(errors) == pytest.approx([5 / 3, 1.0, 1.0])


def test_members_with_one_shared_error_gain_nothing_from_averaging(script):
    shared = np.random.default_rng(0).normal(size=(5, 4, 3))
    curve = script.committee_size_curve(np.stack([shared] * 4))
    assert curve == pytest.approx([np.abs(shared).mean()] * 4)
    assert script.fit_shared_and_independent(curve) == pytest.approx((np.abs(shared).mean(), 0.0), abs=1e-12)


def test_the_fit_recovers_shared_and_independent_parts(script):
    sizes = np.arange(1, 8)
    assert script.fit_shared_and_independent(list(np.sqrt(6.5**2 + 4.0**2 / sizes))) == pytest.approx((6.5, 4.0))


def test_the_fit_finds_the_shared_part_of_normal_errors(script):
    rng = np.random.default_rng(2)
    shared = rng.normal(scale=2.0, size=(2000, 3, 3))
    errors = shared + rng.normal(scale=3.0, size=(5, 2000, 3, 3))
    fitted_shared, fitted_independent = script.fit_shared_and_independent(script.committee_size_curve(errors))
    normal_mae = np.sqrt(2 / np.pi)
    assert fitted_shared == pytest.approx(2.0 * normal_mae, rel=0.03)
    assert fitted_independent == pytest.approx(3.0 * normal_mae, rel=0.03)


def test_independent_errors_shrink_like_one_over_the_square_root_of_the_committee_size(script):
    errors = np.random.default_rng(1).normal(size=(6, 400, 9, 3))
    curve = np.array(script.committee_size_curve(errors))
    assert curve / curve[0] == pytest.approx(1 / np.sqrt(np.arange(1, 7)), rel=0.01)


def test_error_correlations_recover_the_shared_fraction_of_each_group(script):
    rng = np.random.default_rng(3)
    shared = rng.normal(scale=2.0, size=(3000, 3, 3))
    old = shared + rng.normal(scale=1.0, size=(3, 3000, 3, 3))  # shares 4 / (4 + 1) within the group
    new = 0.5 * shared + rng.normal(scale=2.0, size=(2, 3000, 3, 3))  # shares less with everything
    correlations = script.mean_error_correlations(
        script.error_correlation_matrix(np.concatenate([old, new])), [0, 0, 0, 1, 1]
    )
    assert set(correlations) == {(0, 0), (0, 1), (1, 1)}
    assert correlations[(0, 0)] == pytest.approx(4 / 5, abs=0.02)
    assert correlations[(0, 1)] == pytest.approx(2 / np.sqrt(5 * 5), abs=0.02)
    assert correlations[(1, 1)] == pytest.approx(1 / 5, abs=0.02)


def test_a_group_of_one_model_has_only_correlations_with_other_groups(script):
    errors = np.random.default_rng(4).normal(size=(3, 10, 3, 3))
    assert set(script.mean_error_correlations(script.error_correlation_matrix(errors), [0, 0, 1])) == {(0, 0), (0, 1)}
