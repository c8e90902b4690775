"""GeoFormerCommittee: the mean of its members, its checkpoint format, and geoformer-committee."""

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import molecule
from ase.calculators.calculator import PropertyNotImplementedError

from ase_geoformer import CheckpointError, GeoFormerCommittee, load_checkpoint, save_checkpoint
from ase_geoformer.batch import dense_batch
from ase_geoformer.checkpoint import COMMITTEE_VERSION, _digest
from ase_geoformer.committee_cli import main as committee_main
from ase_geoformer.nn.committee import VectorizedMembers
from ase_geoformer.predict import predict, predict_members
from ase_geoformer.zoo import trained_molecule
from conftest import calculator, random_model, small_config


def forces_and_energy(atoms, model):
    atoms = atoms.copy()
    atoms.calc = calculator(model)
    return atoms.get_forces(), atoms.get_potential_energy()


def periodic_water_box() -> Atoms:
    atoms = molecule("H2O")
    atoms.cell = [4.5, 4.6, 4.7]
    atoms.pbc = True
    atoms.positions += 1.0
    return atoms.repeat((2, 1, 1))


@pytest.fixture
def members():
    return [random_model(seed=1), random_model(small_config(num_blocks=1), seed=2), random_model(seed=3)]


def test_committee_predicts_the_mean_of_its_members(members, glycine):
    predictions = [forces_and_energy(glycine, member) for member in members]
    forces, energy = forces_and_energy(glycine, GeoFormerCommittee(members))
    assert energy == pytest.approx(np.mean([e for _, e in predictions]), abs=1e-12)
    np.testing.assert_allclose(forces, np.mean([f for f, _ in predictions], axis=0), atol=1e-12)
    assert np.abs(predictions[0][0] - predictions[1][0]).max() > 1e-3  # the members disagree


def test_committee_reports_how_much_its_members_disagree(members, glycine):
    predictions = [forces_and_energy(glycine, member) for member in members]
    forces = np.array([f for f, _ in predictions])
    glycine.calc = calculator(GeoFormerCommittee(members))
    assert glycine.calc.get_property("energy_deviation", glycine) == pytest.approx(np.std([e for _, e in predictions]), abs=1e-12)
    expected = np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0))
    np.testing.assert_allclose(glycine.calc.get_property("force_deviations", glycine), expected, atol=1e-12)
    glycine.calc = calculator(members[0])
    with pytest.raises(PropertyNotImplementedError):
        glycine.calc.get_property("energy_deviation", glycine)


def test_float32_committee_keeps_the_float64_total_energy(members, glycine):
    """Members with DFT-sized reference energies (total near -5,500 eV, float32 spacing 0.5 meV), in one
    vmap group and alone: the float32 committee's energy is the float64 one to its residuals' precision."""
    for member in members:
        member.readout.set_energy_statistics(0.7, -0.3, [-1029.123456789 * z / 6 for z in member.species])
    committee = GeoFormerCommittee(members)
    energy64 = forces_and_energy(glycine, committee)[1]
    glycine.calc = calculator(committee, dtype="float32")
    assert abs(glycine.get_potential_energy() - energy64) < 2e-5


def test_members_evaluated_together_match_each_member_alone(members, glycine):
    """Two members share an architecture (one vmap pass), the middle one runs alone; padded molecules."""
    water = molecule("H2O")
    batch = dense_batch([glycine, water], members[0].species, "cpu", torch.float64)
    together = predict_members(VectorizedMembers(GeoFormerCommittee(members)), batch)
    for index, member in enumerate(members):
        alone = predict(member, batch)
        for key in ("energy", "atomic_energies", "forces"):
            torch.testing.assert_close(together[key][index], alone[key], rtol=0, atol=1e-12)
    assert torch.all(together["forces"][:, 1, len(water):] == 0)  # padding of the smaller molecule


def test_committee_stress_is_the_mean_of_its_members(members):
    atoms = periodic_water_box()
    stresses = []
    for member in members:
        atoms.calc = calculator(member)
        stresses.append(atoms.get_stress())
    atoms.calc = calculator(GeoFormerCommittee(members))
    np.testing.assert_allclose(atoms.get_stress(), np.mean(stresses, axis=0), atol=1e-12)
    assert np.abs(stresses[0] - stresses[1]).max() > 1e-4
    assert atoms.calc.results["force_deviations"].shape == (len(atoms),)


def test_committee_round_trips_through_its_checkpoint(members, glycine, tmp_path):
    committee = GeoFormerCommittee(members)
    path = tmp_path / "committee.pt"
    save_checkpoint(path, committee, provenance={"members": ["a", "b", "c"]})
    assert torch.load(path, weights_only=True)["format_version"] == COMMITTEE_VERSION
    loaded = load_checkpoint(path)
    assert isinstance(loaded.model, GeoFormerCommittee) and len(loaded.model.members) == 3
    assert loaded.model.members[1].config.num_blocks == 1
    assert loaded.provenance == {"members": ["a", "b", "c"]}
    assert forces_and_energy(glycine, loaded.model)[1] == forces_and_energy(glycine, committee)[1]


def test_committee_members_must_share_species_and_cutoff():
    with pytest.raises(ValueError, match="member 1 has species"):
        GeoFormerCommittee([random_model(), random_model(small_config(species=(1, 6, 8)))])
    with pytest.raises(ValueError, match="r_max 5.0"):
        GeoFormerCommittee([random_model(), random_model(small_config(r_max=5.0))])
    with pytest.raises(ValueError, match="at least one member"):
        GeoFormerCommittee([])


def test_modified_committee_member_is_refused(members, tmp_path):
    path = tmp_path / "committee.pt"
    save_checkpoint(path, GeoFormerCommittee(members))
    content = torch.load(path, weights_only=True)
    content["members"][2]["energy_statistics"]["shift"] += 1.0
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="modified after it was written"):
        load_checkpoint(path)


def test_committee_checkpoint_of_incompatible_members_is_refused(members, tmp_path):
    path = tmp_path / "committee.pt"
    save_checkpoint(path, GeoFormerCommittee(members))
    content = torch.load(path, weights_only=True)
    content["members"][1]["config"]["r_max"] = 6.0
    content["sha256"] = _digest({k: v for k, v in content.items() if k != "sha256"})
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="invalid committee: committee member 1 has .* r_max 6.0"):
        load_checkpoint(path)


def test_committee_command_joins_checkpoints_and_keeps_their_provenance(members, glycine, tmp_path, capsys):
    paths = []
    for index, member in enumerate(members):
        paths.append(str(tmp_path / f"member{index}.pt"))
        save_checkpoint(paths[-1], member, provenance={"seed": index}, metrics={"validation": {"force_mae": index}})
    output = tmp_path / "committee.pt"
    assert committee_main([*paths, "--output", str(output)]) == 0
    loaded = load_checkpoint(output)
    assert [m["provenance"]["seed"] for m in loaded.provenance["members"]] == [0, 1, 2]
    assert loaded.provenance["members"][2]["metrics"] == {"validation": {"force_mae": 2}}
    assert forces_and_energy(glycine, loaded.model)[1] == forces_and_energy(glycine, GeoFormerCommittee(members))[1]


def test_committee_given_as_a_member_contributes_its_members(members, glycine, tmp_path):
    paths = []
    for index, member in enumerate(members):
        paths.append(str(tmp_path / f"member{index}.pt"))
        save_checkpoint(paths[-1], member, provenance={"seed": index})
    pair = str(tmp_path / "pair.pt")
    assert committee_main([paths[0], paths[1], "--output", pair]) == 0
    output = tmp_path / "grown.pt"
    assert committee_main([pair, paths[2], "--output", str(output)]) == 0
    loaded = load_checkpoint(output)
    assert len(loaded.model.members) == 3
    assert [m["provenance"]["seed"] for m in loaded.provenance["members"]] == [0, 1, 2]
    assert [m.get("committee") for m in loaded.provenance["members"]] == [pair, pair, None]
    expected = forces_and_energy(glycine, GeoFormerCommittee(members))
    forces, energy = forces_and_energy(glycine, loaded.model)
    assert energy == pytest.approx(expected[1], abs=1e-6)
    np.testing.assert_allclose(forces, expected[0], atol=1e-6)


def test_committee_saved_without_member_provenance_still_contributes_its_members(members, tmp_path):
    save_checkpoint(tmp_path / "pair.pt", GeoFormerCommittee(members[:2]))
    save_checkpoint(tmp_path / "third.pt", members[2], provenance={"seed": 2})
    output = tmp_path / "grown.pt"
    assert committee_main([str(tmp_path / "pair.pt"), str(tmp_path / "third.pt"), "--output", str(output)]) == 0
    entries = load_checkpoint(output).provenance["members"]
    assert entries[:2] == [{"committee": str(tmp_path / "pair.pt")}] * 2
    assert entries[2]["provenance"] == {"seed": 2}


def test_committee_refuses_a_committee_as_a_member(members):
    with pytest.raises(ValueError, match="member 1 is a GeoFormerCommittee"):
        GeoFormerCommittee([members[0], GeoFormerCommittee(members[1:])])


def test_committee_command_names_incompatible_members(tmp_path, capsys):
    save_checkpoint(tmp_path / "a.pt", random_model())
    save_checkpoint(tmp_path / "b.pt", random_model(small_config(species=(1, 6, 8))))
    assert committee_main([str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--output", str(tmp_path / "c.pt")]) == 1
    assert "member 1 has species" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()


def test_a_committee_is_trained_on_the_molecule_all_its_members_share(members, tmp_path):
    for molecules, expected in ((["ethanol"] * 3, "ethanol"), (["ethanol", "ethanol", "aspirin"], None)):
        paths = []
        for index, (member, trained_on) in enumerate(zip(members, molecules)):
            paths.append(str(tmp_path / f"{trained_on}{index}.pt"))
            save_checkpoint(paths[-1], member, provenance={"training_config": {"molecule": trained_on}})
        assert committee_main([*paths, "--output", str(tmp_path / "c.pt")]) == 0
        assert trained_molecule(load_checkpoint(tmp_path / "c.pt")) == expected


def test_committee_command_needs_two_members(tmp_path, capsys):
    save_checkpoint(tmp_path / "a.pt", random_model())
    with pytest.raises(SystemExit):
        committee_main([str(tmp_path / "a.pt"), "--output", str(tmp_path / "c.pt")])
    assert "two or more members" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()
