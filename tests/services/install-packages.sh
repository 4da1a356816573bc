#!/usr/bin/env bash
# install-packages.sh PKG...  -> installs the Debian packages given that are not installed yet (apt-get, as root;
# one apt-get at a time across test processes). The browser tests use it for chromium.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
missing=()
for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
need_packages "${missing[@]}"
