"""Trained GeoFormer checkpoints, installed with the package as ``ase_geoformer.trained``."""
