#!/usr/bin/env bash
# Sets everything up (Debian packages, .venv) and runs the demo on the bundled sandbox
# marketplace: the console window when there is a screen, the terminal view otherwise.
# Extra arguments go to `main.py demo` (see `main.py demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/python main.py demo --gui "$@"
fi
echo "[demo] no screen here: showing the terminal view (main.py screenshot saves the window as PNGs)"
exec .venv/bin/python main.py demo "$@"
