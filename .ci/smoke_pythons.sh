#!/usr/bin/env bash
# A smoke run on other Pythons, by hand (not part of .ci/run): run_expert for 2 rollouts, then bc.py
# for 5 epochs, on Hopper-v1, with each interpreter given; prints each one's two result lines.
#   bash .ci/smoke_pythons.sh .venv/bin/python /tmp/py312/bin/python /tmp/py313/bin/python
# Each venv: PYTHON -m venv DIR && DIR/bin/pip install -r requirements.txt (docs/install.md).
set -euo pipefail
cd "$(dirname "$0")/.."
for python in "$@"; do
    out=$(mktemp -d)
    echo "== $("$python" --version) ($python)"
    start=$(date +%s)
    PYTHONWARNINGS=ignore "$python" hw1/run_expert.py experts/Hopper-v1.pkl Hopper-v1 --num_rollouts 2 --output "$out/hopper.h5" 2>&1 | grep "mean return"
    PYTHONWARNINGS=ignore "$python" hw1/bc.py Hopper-v1 --data "$out/hopper.h5" --epochs 5 --eval_episodes 2 --seed 0 --run_dir "$out/bc" 2>&1 | grep "BC return"
    echo "   $(( $(date +%s) - start )) s"
    rm -rf "$out"
done
