#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser tests (Playwright with executable_path;
# no browser is downloaded). Installs it with apt-get when running as root.
set -euo pipefail

CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}

if [[ -x $CHROMIUM_PATH ]]; then
    exit 0
fi
if [[ $CHROMIUM_PATH != /usr/bin/chromium ]]; then
    echo "ensure_chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
    exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "ensure_chromium: Chromium is missing at /usr/bin/chromium and this is not root." >&2
    echo "ensure_chromium: install it as root (apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary." >&2
    exit 1
fi
echo "ensure_chromium: installing Debian's chromium"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
[[ -x $CHROMIUM_PATH ]] || { echo "ensure_chromium: apt-get finished but $CHROMIUM_PATH is still missing" >&2; exit 1; }
