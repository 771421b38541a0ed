#!/usr/bin/env bash
# Builds the console as a one-folder package (dist/buyback-console) with PyInstaller from
# packaging/buyback.spec, then runs the package's selftest: one real purchase on the
# bundled sandbox shop. About a minute after setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/buyback.spec
echo "[package] $(du -sh dist/buyback-console | cut -f1) in dist/buyback-console"
dist/buyback-console/buyback-console --version
dist/buyback-console/buyback-console selftest
