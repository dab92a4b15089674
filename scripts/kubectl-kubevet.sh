#!/bin/sh
# `kubectl kubevet ...` as krew installs it. kubevet is a Python package, not a single binary,
# so this launcher runs it with Python 3.11+: a kubevet of this version already importable by
# KUBEVET_PYTHON (default python3) is used as it is; otherwise one private virtualenv per
# version is made on first use under XDG_DATA_HOME and kubevet@VERSION is pip-installed into
# it (pip's own settings, e.g. PIP_INDEX_URL, apply). Nothing else is downloaded.
set -eu
version="@VERSION@"
python="${KUBEVET_PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "kubectl kubevet: needs Python 3.11 or newer ($python not found; set KUBEVET_PYTHON)" >&2
  exit 2
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "kubectl kubevet: $python is older than Python 3.11 (set KUBEVET_PYTHON)" >&2
  exit 2
fi
if "$python" -c "import sys, kubevet; sys.exit(kubevet.__version__ != '$version')" 2>/dev/null; then
  exec "$python" -m kubevet "$@"
fi

venv="${XDG_DATA_HOME:-$HOME/.local/share}/kubevet/krew-$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kubevet' 2>/dev/null; then
  echo "kubectl kubevet: first run, installing kubevet $version into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "kubevet==$version" >&2
fi
exec "$venv/bin/python" -m kubevet "$@"
