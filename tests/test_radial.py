"""Radial basis, envelope and distance gate."""

import torch

from ase_geoformer.nn.radial import BesselBasis, DistanceGate, PolynomialEnvelope


def derivatives(function, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_()
    y = function(x)
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy.sum(), x)
    return y.detach(), dy.detach(), d2y


def test_envelope_is_one_at_origin_and_c2_zero_at_cutoff():
    envelope = PolynomialEnvelope(r_max=5.0, exponent=6)
    assert envelope(torch.tensor(0.0, dtype=torch.float64)) == 1.0
    # Approaching r_max from inside, value, slope and curvature vanish as delta^3, delta^2, delta.
    for delta in (1e-2, 1e-3):
        value, first, second = derivatives(envelope, torch.tensor([5.0 - delta], dtype=torch.float64))
        assert 0 < value < 100 * delta**3
        assert abs(first) < 100 * delta**2
        assert abs(second) < 100 * delta
    value, first, second = derivatives(envelope, torch.tensor([5.0, 6.0], dtype=torch.float64))
    assert value.abs().max() == 0 and first.abs().max() == 0 and second.abs().max() == 0


def test_envelope_equals_the_dimenet_polynomial():
    # The code evaluates a factored form; in float64 it must be the textbook polynomial.
    d = torch.linspace(0, 5, 2001, dtype=torch.float64)
    x = d / 5.0
    for p in range(2, 9):
        textbook = 1 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1) - p * (p + 1) / 2 * x ** (p + 2)
        assert torch.allclose(PolynomialEnvelope(r_max=5.0, exponent=p)(d), textbook, rtol=0, atol=1e-13), p


def test_envelope_decreases_monotonically_inside_cutoff():
    envelope = PolynomialEnvelope(r_max=5.0)
    values = envelope(torch.linspace(0, 5, 1001, dtype=torch.float64))
    assert (values.diff() <= 0).all() and values.min() >= 0


def test_envelope_in_float32_keeps_its_relative_accuracy_up_to_the_cutoff():
    # Within 0.02 Å of r_max the envelope is below 1e-5; the monomial form loses it to cancellation
    # in float32 (errors of 6e-6, negative values). Compared with float64 at the same distances.
    envelope = PolynomialEnvelope(r_max=5.0, exponent=6)
    distances = torch.linspace(4.9, 5.0, 100001)[:-1]
    single = envelope(distances).double()
    double = envelope(distances.double())
    assert single.min() >= 0
    assert ((single - double).abs() / double).max() < 1e-5


def test_bessel_basis_is_orthonormal_on_the_cutoff_sphere():
    # The functions sin(n pi d / r) / d * sqrt(2/r) are orthonormal with weight d^2 on [0, r].
    basis = BesselBasis(r_max=4.0, num_basis=6).double()
    d = torch.linspace(1e-6, 4.0, 200001, dtype=torch.float64)
    phi = basis(d)
    gram = torch.trapezoid(phi[:, :, None] * phi[:, None, :] * (d**2)[:, None, None], d, dim=0)
    assert torch.allclose(gram, torch.eye(6, dtype=torch.float64), atol=1e-6)


def test_distance_gate_is_non_negative():
    basis = BesselBasis(r_max=4.0, num_basis=8).double()
    d = torch.linspace(0.5, 4.0, 500, dtype=torch.float64)
    for seed in range(5):
        torch.manual_seed(seed)
        values = DistanceGate(num_basis=8, hidden=16).double()(basis(d)).squeeze(-1)
        assert values.min() >= 0 and values.max() > 0
