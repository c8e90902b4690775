"""The validation report runs every protocol on a calculator and tabulates what the protocol files hold."""

from __future__ import annotations

import json

from synthetic import morse_dataset

from ase_geoformer.data import write_hdf5
from md_protocols.report import (
    PROTOCOL_VERSIONS,
    PROTOCOLS,
    ReportSettings,
    is_complete,
    main,
    markdown_table,
    reference_molecule,
    row_file_content,
    row_key,
    stored_row,
    validate_model,
)


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
    row_file.write_text(row_file_content(key, {"model": "methanol"}))
    assert stored_row(row_file, row_key("methanol", str(checkpoint), settings)) == {"model": "methanol"}
    longer = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.04)
    assert stored_row(row_file, row_key("methanol", str(checkpoint), longer)) is None
    checkpoint.write_bytes(b"weights B")
    assert stored_row(row_file, row_key("methanol", str(checkpoint), settings)) is None


def test_an_interrupted_row_keeps_its_finished_protocols_and_saves_after_each(tmp_path):
    write_hdf5(morse_dataset(10), tmp_path / "ref.h5")
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    finished = {"float64": {"kept": "from the interrupted run"}}
    saved = []
    row = validate_model(
        "methanol", "ase.calculators.emt:EMT", tmp_path / "ref.h5", settings, tmp_path,
        finished=finished, on_progress=lambda partial: saved.append(sorted(partial)),
    )
    assert row["float64"] == {"kept": "from the interrupted run"}
    assert not (tmp_path / "methanol_conservation_float64.json").exists()
    assert saved == [sorted(["model", "calculator", "float64", "float32"]), sorted(["model", "calculator", *PROTOCOLS])]
    assert is_complete(row) and not is_complete({"model": "methanol", **finished})


def test_a_shipped_committee_is_validated_on_the_frames_of_its_molecule():
    assert reference_molecule("ethanol-committee") == "ethanol"
    assert reference_molecule("aspirin") == "aspirin"
    assert reference_molecule("methanol") == "methanol"  # not shipped: a peer calculator's molecule


def test_a_stored_protocol_of_an_older_version_runs_again(tmp_path):
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    key = row_key("methanol", "ase.calculators.emt:EMT", settings)
    row = {"model": "methanol", "float64": {"nve": 1}, "float32": {"nve": 2}, "stability": {"h": 3}}
    row_file = tmp_path / "methanol_row.json"
    row_file.write_text(row_file_content(key, row))
    assert stored_row(row_file, key) == row
    stored = json.loads(row_file.read_text())
    stored["versions"]["stability"] = PROTOCOL_VERSIONS["stability"] - 1
    row_file.write_text(json.dumps(stored))
    assert stored_row(row_file, key) == {"model": "methanol", "float64": {"nve": 1}, "float32": {"nve": 2}}


def test_the_table_names_each_collapse_and_its_cause(tmp_path):
    write_hdf5(morse_dataset(10), tmp_path / "ref.h5")
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    row = validate_model("methanol", "ase.calculators.emt:EMT", tmp_path / "ref.h5", settings, tmp_path)
    row["stability"].update(stable=True, time_to_collapse_ps=None, stable_ps=0.02, collapse_cause=None)
    assert "collapsed" not in markdown_table([row])
    cause = "H4-H5, not bonded at the start, at 0.30 Å (bonding distance 0.74 Å)"
    row["stability"].update(stable=False, time_to_collapse_ps=0.01, stable_ps=0.01, collapse_cause=cause,
                            closest_non_bonded_pair="H4-H5", closest_non_bonded_A=0.3, reference_closest_non_bonded_A=1.77)
    table = markdown_table([row])
    assert "| 0.01 (collapsed) |" in table and f"- methanol: collapsed at 0.01 ps: {cause}" in table
    assert "| H4-H5 0.30 (1.77) |" in table


def test_table_only_tabulates_stored_rows_of_an_older_version_and_names_it(tmp_path):
    arguments = ["--model", "methanol", "--calculator", "ase.calculators.emt:EMT", "--nve-duration", "0.02",
                 "--stability-duration", "0.02", "--output", str(tmp_path / "report.md")]
    assert main([*arguments, "--table-only"]) == 1  # nothing stored yet, and nothing runs
    assert not (tmp_path / "report.md").exists()
    write_hdf5(morse_dataset(10), tmp_path / "ref.h5")
    settings = ReportSettings(nve_duration_ps=0.02, stability_duration_ps=0.02)
    row = validate_model("methanol", "ase.calculators.emt:EMT", tmp_path / "ref.h5", settings, tmp_path)
    stored = json.loads(row_file_content(row_key("methanol", "ase.calculators.emt:EMT", settings), row))
    stored["versions"]["stability"] = PROTOCOL_VERSIONS["stability"] - 1
    (tmp_path / "report" / "methanol_row.json").write_text(json.dumps(stored))
    assert main([*arguments, "--table-only"]) == 0
    version = PROTOCOL_VERSIONS["stability"] - 1
    assert f"(protocol version {version}) |" in (tmp_path / "report.md").read_text()
