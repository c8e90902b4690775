"""Errors a user can act on; each message names the problem and the fix."""


class GeoFormerError(Exception):
    """Base class of the errors raised by ase-geoformer."""


class CheckpointError(GeoFormerError, ValueError):
    """A checkpoint file is missing, corrupt, modified, of an unknown version, or not a GeoFormer checkpoint."""


class ModelNotFoundError(GeoFormerError, LookupError):
    """No shipped model of the requested name is installed."""


class UnsupportedElementError(GeoFormerError, ValueError):
    """The structure holds an element the model was not trained on."""


class InvalidStructureError(GeoFormerError, ValueError):
    """The structure cannot be evaluated (no atoms, NaN or infinite positions, a degenerate periodic cell)."""


class DataError(GeoFormerError, ValueError):
    """A data file is missing, unreadable or inconsistent (keys, shapes, NaN, unknown elements)."""
