"""The validation report runs every protocol on a calculator and tabulates what the protocol files hold."""

from __future__ import annotations

import json

from synthetic import morse_dataset

from ase_geoformer.data import write_hdf5
from md_protocols.report import ReportSettings, markdown_table, row_key, stored_row, validate_model


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


def test_stored_rows_are_reused_only_for_the_same_checkpoint_and_settings(tmp_path):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights A")
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    key = row_key("methanol", str(checkpoint), settings)
    row_file = tmp_path / "methanol_row.json"
    assert stored_row(row_file, key) is None
    row_file.write_text(json.dumps({"key": key, "row": {"model": "methanol"}}))
    assert stored_row(row_file, row_key("methanol", str(checkpoint), settings)) == {"model": "methanol"}
    longer = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.04)
    assert stored_row(row_file, row_key("methanol", str(checkpoint), longer)) is None
    checkpoint.write_bytes(b"weights B")
    assert stored_row(row_file, row_key("methanol", str(checkpoint), settings)) is None
