#!/usr/bin/env bash
# Set up gradstep on a fresh machine: system packages (when we may install
# them), a virtual environment in .venv, and the pinned Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt needs these shared libraries and fonts (WenQuanYi for the Chinese of the seed
# lessons: without a CJK font those glyphs draw as boxes); Xvfb runs the real-window test;
# graphviz is the optional `dot` layout engine (tests and benchmarks use it);
# desktop-file-utils checks the shipped gradstep.desktop.
APT_PACKAGES="xvfb libxcb-icccm4 libxcb-keysyms1 libgl1 libegl1 libglib2.0-0
libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0
libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 fonts-dejavu-core fonts-wqy-microhei
graphviz desktop-file-utils"

if [ "${GRADSTEP_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for pkg in $APT_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "setup: installing system packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
