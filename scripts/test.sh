#!/usr/bin/env bash
# The README's test command: set up what the tests need on a machine that has never seen the
# project, then run the whole suite.
#
#   scripts/test.sh                 what is missing of Debian's chromium (the explainer page's
#                                   browser tests), dataset-fashion-mnist (a Fashion-MNIST
#                                   notebook) and a Chinese font (fonts-wqy-microhei, the plots'
#                                   labels in --lang zh), in one apt-get call; a .venv with
#                                   '.[test]'; pytest -n 2 -q
#   scripts/test.sh --system-only   only the apt-get step (--browser-only: the same, older name)
#
# $CHROMIUM names the browser to look for (default /usr/bin/chromium, where Playwright is
# pointed); $FASHION_MNIST_DIR the Debian package's directory (default
# /usr/share/datasets/fashion-mnist). Installing needs root (or sudo); `.ci/run` calls this same
# script. Run twice, it installs nothing the second time.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PIP_FLAGS="--disable-pip-version-check --no-input -q"

FASHION_MNIST_DIR="${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
PACKAGES=()
if [ ! -x "$CHROMIUM" ]; then
    echo "scripts/test.sh: $CHROMIUM is missing; installing Debian's chromium (apt-get)" >&2
    PACKAGES+=(chromium)
fi
if [ ! -d "$FASHION_MNIST_DIR" ]; then
    echo "scripts/test.sh: $FASHION_MNIST_DIR is missing; installing Debian's" \
         "dataset-fashion-mnist (apt-get)" >&2
    PACKAGES+=(dataset-fashion-mnist)
fi
# A font with Chinese glyphs, for the plots' labels in `--lang zh` (tests/explain/test_i18n_render.py)
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "scripts/test.sh: no Chinese font; installing Debian's fonts-wqy-microhei (apt-get)" >&2
    PACKAGES+=(fonts-wqy-microhei)
fi
if [ ${#PACKAGES[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then SUDO="sudo"; else
            echo "scripts/test.sh: installing ${PACKAGES[*]} needs root; run as root or" \
                 "install the Debian packages '${PACKAGES[*]}' first" >&2
            exit 1
        fi
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${PACKAGES[@]}"
fi
if [ "${1:-}" = "--system-only" ] || [ "${1:-}" = "--browser-only" ]; then
    exit 0
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install $PIP_FLAGS --upgrade pip
python -m pip install $PIP_FLAGS -e '.[test]'
python -m pytest -n 2 -q
