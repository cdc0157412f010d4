#!/usr/bin/env bash
# Install everything the tests need into .venv and run the whole suite.
# Browser tests use Debian's chromium; it is installed with apt-get when missing and possible,
# otherwise those tests skip with the reason and the rest still run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
      || echo "chromium could not be installed: browser tests will skip"
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# the full tier, on as many workers as the quick one (pyproject.toml)
exec .venv/bin/python -m pytest -q --full "$@"
