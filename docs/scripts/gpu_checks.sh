#!/usr/bin/env bash
# The checks that need a CUDA device, in one call: the tests marked `gpu`, then short NVE runs of the
# shipped ethanol and ethanol-committee on the GPU (eager and compiled) with their steps per second.
#
# On a machine that has the project's dependencies: `bash docs/scripts/gpu_checks.sh OUTDIR`.
# Wheels in .whl/ (ase, matscipy; for a machine that cannot reach a package index) are installed first.
# Logs and one JSON summary per MD run land in OUTDIR (default: gpu_checks/).
# Where the working tree is copied to the GPU machine under a size limit (64 MiB on ours), the shipped
# committees exceed it: move those these runs do not use (all but ethanol-committee) out of trained/ first.
set -uo pipefail
out="${1:-gpu_checks}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site"
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . >"$out/install.log" 2>&1 || { cat "$out/install.log"; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
python3 -c "import torch, ase; print('torch', torch.__version__, 'ase', ase.__version__, torch.cuda.get_device_name())" | tee -a "$out/device.txt"

python3 -m pytest -m gpu -rs -q -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log"
tests_status=${PIPESTATUS[0]}

run_md() {  # name, seconds allowed, quick_md arguments...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" python3 md_protocols/quick_md.py --device cuda "$@" >"$out/$name.log" 2>&1
    local status=$?
    python3 - "$out/$name.log" "$name" "$status" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
start = text.rfind("{\n")
summary = json.loads(text[start:]) if start >= 0 and sys.argv[3] == "0" else {}
print(f"{sys.argv[2]:<28} exit {sys.argv[3]:>3}  steps/s {summary.get('steps_per_second', float('nan')):8.1f}")
EOF
}
run_md ethanol 60 --model ethanol --steps 400
run_md ethanol-committee 90 --model ethanol-committee --steps 400
run_md ethanol-compiled 120 --model ethanol --steps 1000 --compile
run_md ethanol-committee-compiled 150 --model ethanol-committee --steps 1000 --compile
exit "$tests_status"
