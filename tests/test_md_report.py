"""The validation report runs every protocol on a calculator and tabulates what the protocol files hold."""

from __future__ import annotations

import json

from synthetic import morse_dataset

from ase_geoformer.data import write_hdf5
from md_protocols.report import ReportSettings, markdown_table, validate_model


def test_a_peer_calculator_runs_through_every_protocol(tmp_path):
    write_hdf5(morse_dataset(10), tmp_path / "ref.h5")
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    row = validate_model("methanol", "ase.calculators.emt:EMT", tmp_path / "ref.h5", settings, tmp_path)
    for file, key in (("conservation_float64", "float64"), ("conservation_float32", "float32"), ("stability", "stability")):
        assert (tmp_path / f"methanol_{file}.png").exists()
        assert json.loads((tmp_path / f"methanol_{file}.json").read_text()) == json.loads(json.dumps(row[key]))
    table = markdown_table([row])
    drift = row["float64"]["runs"][0]["drift_meV_per_atom_per_ps"]
    assert f"| methanol | float64 | {drift:.4f} /" in table
    assert table.count("| methanol |") == 2
