#!/usr/bin/env bash
# Creates ops/mlflow/.venv with the pinned MLflow server (PyPI), once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "mlflow: creating $here/.venv (python3 -m venv)…"
  python3 -m venv "$here/.venv"
fi
if [ ! -x "$here/.venv/bin/mlflow" ] || [ "$here/requirements.txt" -nt "$here/.venv/.installed" ]; then
  echo "mlflow: installing ops/mlflow/requirements.txt (about a minute)…"
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$here/.venv/.installed"
fi
