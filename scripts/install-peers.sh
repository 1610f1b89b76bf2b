#!/usr/bin/env bash
# Installs the interop peers into .peers/ (ignored by git), from PyPI and the npm registry:
#   .peers/py2   venv with the official Python SDK 2.x (stdio, Streamable HTTP)
#   .peers/py1   venv with the official Python SDK 1.x and its WebSocket extra
#   .peers/node  @modelcontextprotocol/server-everything (stdio, Streamable HTTP)
# Safe to run again: what is installed already is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .peers
python=${PYTHON:-python3}
for venv in py2:requirements.txt py1:requirements-ws.txt; do
  name=${venv%%:*}; requirements=cattackles/echo-python/${venv#*:}
  if [ ! -x ".peers/$name/bin/python" ]; then
    "$python" -m venv ".peers/$name"
  fi
  ".peers/$name/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
done
if [ ! -d .peers/node/node_modules/@modelcontextprotocol/server-everything ]; then
  npm install --silent --no-audit --no-fund --prefix .peers/node @modelcontextprotocol/server-everything@2026.8.31
fi
echo "interop peers installed in .peers/"
