#!/bin/sh
# `helm kubevet [COMMAND] CHART [FLAGS]`: Helm runs this with the plugin's arguments.
# Without a kubevet command, `check` is meant. Helm's namespace (`helm -n X kubevet ...`,
# exported as HELM_NAMESPACE) becomes the release namespace; a `-n` given here wins.
set -eu
if ! command -v kubevet >/dev/null 2>&1; then
  echo "helm kubevet: kubevet is not on PATH (pip install kubevet)" >&2
  exit 2
fi
case "${1:-}" in
  check | fix | upgrade | netpol | footprint | rules | rule | completion | --version | -h | --help)
    command="$1"
    shift
    ;;
  *) command=check ;;
esac
case "$command" in
  check | fix | upgrade | netpol | footprint)
    if [ -n "${HELM_NAMESPACE:-}" ]; then
      set -- --namespace "$HELM_NAMESPACE" "$@"
    fi
    ;;
esac
exec kubevet "$command" "$@"
