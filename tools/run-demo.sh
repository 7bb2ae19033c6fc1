#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, run the main job:
# `graphkern demo`, the trading loop on a built-in 100-asset market for 10 s
# (per tick: push returns -> rebuild the correlation graph -> GAT inference).
# Extra arguments go to the demo, e.g. --nodes 1000 --seconds 5.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
tools/build.sh
exec build/graphkern demo "$@"
