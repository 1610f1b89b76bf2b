#!/usr/bin/env bash
# Installs the Debian packages the tests need, when missing: libxml2-utils (xmllint validates
# the JUnit files against tests/support/junit.xsd) and chromium (renders the HTML report headless).
set -euo pipefail
need=()
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
    echo "Debian packages: all present"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${need[@]}" \
    || { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${need[@]}"; }
echo "Debian packages installed: ${need[*]}"
