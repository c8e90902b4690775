"""Registers ``GeoFormerCalculator`` with ASE's plugin system (entry point group ``ase.plugins``)."""

from ase._4.plugins.plugin import CalculatorPlugin

__ase_plugins__ = {
    CalculatorPlugin(
        "geoformer",
        implementation="ase_geoformer.calculator.GeoFormerCalculator",
        citation="ase-geoformer: GeoMFormer dual-stream transformer with Geometric Transformer distance gating",
    )
}
