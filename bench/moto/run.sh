#!/usr/bin/env bash
# Builds certwatch (release) and runs bench/moto/bench.py: certwatch's cold, first and repeat
# scans against c7n-org's, on one moto organization of 20 members x 3 regions x 5 certificates.
# Extra arguments go to bench.py (--rounds N, --members N, --no-record, --workdir DIR, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin certwatch
exec python3 bench/moto/bench.py "$@"
