#!/usr/bin/env bash
# The two commands that do everything on a fresh Linux machine with Python >= 3.11:
#   ./run.sh demo   set up .venv if missing, then run the whole pipeline on the embedded synthetic data
#   ./run.sh test   set up .venv if missing, then run the test suite
# Extra arguments go to snakemake (demo) or pytest (test). CORES sets the cores of the demo (default 2).
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PYTHON=${PYTHON:-python3}

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "recunlearn needs Python >= 3.11, found " + sys.version.split()[0])'
        echo "setting up $VENV (first run only)"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
        touch "$VENV/.installed"
    fi
}

case "${1:-}" in
    demo)
        shift
        setup
        exec "$VENV/bin/python" -m snakemake --cores "${CORES:-2}" --configfile config/demo.yaml "$@"
        ;;
    test)
        shift
        setup
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./run.sh demo|test [args...]" >&2
        exit 2
        ;;
esac
