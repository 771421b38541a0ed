#!/usr/bin/env bash
# Sets everything up (Debian packages, .venv) and runs the demo on the bundled sandbox
# marketplace. Extra arguments go to `main.py demo` (see `main.py demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py demo "$@"
