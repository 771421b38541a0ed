#!/usr/bin/env bash
# Sets everything up (Debian packages, .venv) and runs the whole test suite: engine,
# sandbox, real-browser and end-to-end tests. The storage, engine and console tests run on
# SQLite and on a throwaway PostgreSQL cluster the tests start themselves (or the server
# $BUYBACK_TEST_PG names); PostgreSQL not starting fails them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check app bench tests main.py
.venv/bin/lint-imports
.venv/bin/python scripts/check_imports.py
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
