#!/usr/bin/env bash
# Creates ops/ml/.venv with the pinned training toolchain (PyPI), once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "ml: creating $here/.venv (python3 -m venv)…"
  python3 -m venv "$here/.venv"
fi
if ! "$here/.venv/bin/python" -c 'import sklearn, skl2onnx' 2>/dev/null || [ "$here/requirements.txt" -nt "$here/.venv/.installed" ]; then
  echo "ml: installing ops/ml/requirements.txt…"
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$here/.venv/.installed"
fi
