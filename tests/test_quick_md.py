"""The README's main job: a short NVE run conserves energy with the model's autograd forces."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "md_protocols" / "quick_md.py"


@pytest.mark.slow
def test_quick_md_conserves_energy():
    output = subprocess.run(
        [sys.executable, str(SCRIPT), "--random-weights", "--steps", "60", "--device", "cpu"],
        capture_output=True, text=True, check=True,
    ).stdout
    summary = json.loads(output[output.index("{"):])
    # Conservative forces and a 0.5 fs step: total energy fluctuates far less than potential energy.
    assert summary["std_total_over_std_potential"] < 0.01
    assert summary["steps"] == 60


@pytest.mark.slow
def test_quick_md_with_the_default_model_keeps_ethanol_together():
    output = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "100", "--device", "cpu"], capture_output=True, text=True, check=True
    ).stdout
    summary = json.loads(output[output.index("{"):])
    assert summary["model"] == "default"
    assert summary["max_bond_change_A"] < 0.3
    assert summary["std_total_over_std_potential"] < 0.01


def test_quick_md_reports_missing_model_cleanly(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", str(tmp_path / "missing.pt"), "--steps", "1"],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "error: no checkpoint file at" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_quick_md_runs_the_structure_it_is_given(tmp_path):
    from ase.build import molecule
    from ase.io import write

    write(tmp_path / "benzene.xyz", molecule("C6H6"))
    output = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "benzene", "--structure", str(tmp_path / "benzene.xyz"),
         "--steps", "40", "--device", "cpu"],
        capture_output=True, text=True, check=True,
    ).stdout
    summary = json.loads(output[output.index("{"):])
    assert summary["structure"] == "C6H6"
    assert summary["max_bond_change_A"] < 0.3


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--model", "benzene"], "trained on H, C only"),
        (["--random-weights", "--structure", "no-such-molecule"], "neither a file nor a molecule name"),
    ],
)
def test_quick_md_reports_a_structure_it_cannot_run_cleanly(arguments, message):
    result = subprocess.run([sys.executable, str(SCRIPT), *arguments, "--steps", "1", "--device", "cpu"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
