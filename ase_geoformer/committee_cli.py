"""``geoformer-committee``: join independently trained checkpoints into one committee checkpoint.

    geoformer-committee --output ethanol-committee.pt runs/seed0/best.pt runs/seed1/best.pt trained/ethanol.pt
    geoformer-evaluate --model ethanol-committee.pt --molecule ethanol --data-dir ../shared/data/rmd17 --sets validation

The committee predicts the mean energy of its members (so its forces are their mean forces); the
calculator runs members of one architecture together, in one ``torch.vmap`` pass. Each member's
provenance and metrics are kept in the committee's provenance.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from ase_geoformer.checkpoint import save_checkpoint
from ase_geoformer.errors import GeoFormerError
from ase_geoformer.nn.committee import GeoFormerCommittee
from ase_geoformer.zoo import resolve_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="geoformer-committee", description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="+", help="checkpoint paths or shipped model names, two or more")
    parser.add_argument("--output", required=True, help="where to write the committee checkpoint (.pt)")
    args = parser.parse_args(argv)
    if len(args.members) < 2:
        parser.error("a committee needs two or more members")
    try:
        checkpoints = [resolve_checkpoint(member) for member in args.members]
        committee = GeoFormerCommittee([checkpoint.model for checkpoint in checkpoints])
    except (GeoFormerError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    provenance = {
        "command": shlex.join(["geoformer-committee", *(sys.argv[1:] if argv is None else argv)]),
        "members": [
            {"checkpoint": str(name), "provenance": checkpoint.provenance, "metrics": checkpoint.metrics}
            for name, checkpoint in zip(args.members, checkpoints)
        ],
    }
    save_checkpoint(args.output, committee, provenance)
    print(f"wrote a committee of {len(checkpoints)} members to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
