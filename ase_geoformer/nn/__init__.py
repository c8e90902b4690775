"""The GeoFormer network: radial functions, graphs, attention modules, blocks and the model."""
