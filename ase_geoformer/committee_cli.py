"""``geoformer-committee``: join independently trained checkpoints into one committee checkpoint.

    geoformer-committee --output ethanol-committee.pt runs/seed0/best.pt runs/seed1/best.pt trained/ethanol.pt
    geoformer-evaluate --model ethanol-committee.pt --molecule ethanol --data-dir ../shared/data/rmd17 --sets validation

The committee predicts the mean energy of its members (so its forces are their mean forces); the
calculator runs members of one architecture together, in one ``torch.vmap`` pass. Each member's
provenance and metrics are kept in the committee's provenance. A committee given as a member
contributes its members, so a shipped committee grows by a seed without its members' files:

    geoformer-committee --output bigger.pt paracetamol-committee runs/seed2/best.pt
"""

from __future__ import annotations

import argparse
import shlex
import sys

from ase_geoformer.checkpoint import Checkpoint, save_checkpoint
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.nn.committee import GeoFormerCommittee
from ase_geoformer.nn.model import GeoFormer
from ase_geoformer.zoo import resolve_checkpoint


def member_entries(name: str, checkpoint: Checkpoint) -> list[tuple[GeoFormer, dict]]:
    """Each single model of ``checkpoint`` with its provenance entry: the model, or a committee's members.

    A committee's members keep the entries its provenance holds for them (empty ones where it
    holds none) and name the committee they came from.
    """
    model = checkpoint.model
    if not isinstance(model, GeoFormerCommittee):
        return [(model, {"checkpoint": name, "provenance": checkpoint.provenance, "metrics": checkpoint.metrics})]
    entries = checkpoint.provenance.get("members", [])
    if len(entries) != len(model.members):
        entries = [{} for _ in model.members]
    return [(member, {**entry, "committee": name}) for member, entry in zip(model.members, entries)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="geoformer-committee", description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="+", help="checkpoint paths or shipped model names, two or more")
    parser.add_argument("--output", required=True, help="where to write the committee checkpoint (.pt)")
    args = parser.parse_args(argv)
    if len(args.members) < 2:
        parser.error("a committee needs two or more members")
    try:
        members = [entry for name in args.members for entry in member_entries(name, resolve_checkpoint(name))]
        committee = GeoFormerCommittee([model for model, _ in members])
    except (GeoFormerError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    provenance = {
        "command": shlex.join(["geoformer-committee", *(sys.argv[1:] if argv is None else argv)]),
        "members": [entry for _, entry in members],
    }
    save_checkpoint(args.output, committee, provenance)
    print(f"wrote a committee of {len(members)} members to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
