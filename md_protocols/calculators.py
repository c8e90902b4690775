"""Calculators by name: a GeoFormer model, or any ASE calculator as ``module:factory``.

    ethanol                              a shipped GeoFormer model
    path/to/model.pt                     a GeoFormer checkpoint
    ase.calculators.emt:EMT              any importable callable returning an ASE calculator
    mypackage.models:make_mace           (a peer model, e.g. a MACE or NequIP calculator factory)
"""

from __future__ import annotations

import importlib

from ase.calculators.calculator import BaseCalculator


def make_calculator(spec: str, device: str | None = None, dtype: str = "float64", compile: bool = False) -> BaseCalculator:
    """The calculator named by ``spec``; ``device``, ``dtype`` and ``compile`` apply to GeoFormer models only."""
    if ":" in spec and not spec.endswith(".pt"):
        module_name, _, factory_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ValueError(f"calculator {spec!r}: cannot import module {module_name!r} ({error})") from error
        factory = getattr(module, factory_name, None)
        if not callable(factory):
            raise ValueError(f"calculator {spec!r}: {module_name} has no callable {factory_name!r}")
        calculator = factory()
        if not isinstance(calculator, BaseCalculator):
            raise ValueError(f"calculator {spec!r}: {factory_name}() returned {type(calculator).__name__}, not an ASE calculator")
        return calculator
    from ase_geoformer import GeoFormerCalculator

    return GeoFormerCalculator(model=spec, device=device, dtype=dtype, compile=compile)
