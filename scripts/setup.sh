#!/usr/bin/env bash
# Sets up everything the console needs on a Debian machine (run as root, or with sudo
# available): Debian packages (Chromium, Xvfb, Qt's runtime libraries; PostgreSQL, whose
# server binaries the tests start a throwaway cluster with, and faketime for a benchmark)
# and a Python virtual environment in .venv with the pinned packages. Safe to run again:
# each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

DEB_PACKAGES=(chromium chromium-headless-shell xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core python3 python3-venv
  postgresql faketime)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "[setup] creating the Python virtual environment in .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[gui,dev,package]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The console's translations: Qt Linguist sources in the repo, compiled here (seconds).
.venv/bin/python -m app.ui.i18n build >/dev/null
pg=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f5)
echo "[setup] ready: $(.venv/bin/python --version), $(command -v chromium || echo 'no chromium')," \
  "PostgreSQL ${pg:-missing}"
