"""Molecular dynamics protocols that work with any ASE calculator: Langevin and NVE runs,
energy-conservation and stability validation."""
