#!/usr/bin/env bash
# Digests of the contract's output files for every shipped scenario, to show that a refactor
# leaves the outputs byte-identical: run it on two commits and diff the two lists.
#   benchmarks/output_digest.sh OUTDIR > digests.txt
# Each scenario is run at --scale 0.1, each reform compared with the baseline (breakdown on), and
# expert_group once with the NumPy engine at --scale 0.02; lists sha256 of budget.csv,
# caseload.parquet, flows.parquet and summary.json (manifest.json holds times and is left out).
set -euo pipefail
OUT=${1:?usage: benchmarks/output_digest.sh OUTDIR}
cd "$(dirname "$0")/.."
B=".venv/bin/python -m sim.cli"
mkdir -p "$OUT"
for s in baseline expert_group six_cities kl_2030 djoef_now agreement_2025; do
  $B run "$s" --out "$OUT/run_$s" --scale 0.1 > /dev/null
done
for s in expert_group six_cities kl_2030 djoef_now agreement_2025; do
  $B compare baseline "$s" --out "$OUT/cmp_$s" --scale 0.1 > /dev/null
done
$B compare baseline expert_group --out "$OUT/cmp_expert_numpy" --scale 0.02 --engine numpy --no-breakdown > /dev/null
cd "$OUT" && sha256sum */budget.csv */caseload.parquet */flows.parquet */summary.json
