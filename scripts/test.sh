#!/usr/bin/env bash
# The README's test command: set up what the tests need on a machine that has never seen the
# project, then run the whole suite.
#
#   scripts/test.sh                 Chromium (Debian's, for the explainer page's browser tests)
#                                   and a Chinese font (fonts-wqy-microhei) if missing, a .venv
#                                   with '.[test]', then pytest -n 2 -q
#   scripts/test.sh --browser-only  only the Chromium step
#
# $CHROMIUM names the browser to look for (default /usr/bin/chromium, where Playwright is
# pointed). Installing it needs root (or sudo); `.ci/run` calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PIP_FLAGS="--disable-pip-version-check --no-input -q"

if [ ! -x "$CHROMIUM" ]; then
    echo "scripts/test.sh: $CHROMIUM is missing; installing Debian's chromium (apt-get)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then SUDO="sudo"; else
            echo "scripts/test.sh: installing chromium needs root; run as root or install" \
                 "the 'chromium' package first" >&2
            exit 1
        fi
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium
fi
if [ "${1:-}" = "--browser-only" ]; then
    exit 0
fi
# A font with Chinese glyphs, for the plots' labels in `--lang zh` (tests/explain/test_i18n_render.py)
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "scripts/test.sh: no Chinese font; installing Debian's fonts-wqy-microhei (apt-get)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq fonts-wqy-microhei
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install $PIP_FLAGS --upgrade pip
python -m pip install $PIP_FLAGS -e '.[test]'
python -m pytest -n 2 -q
