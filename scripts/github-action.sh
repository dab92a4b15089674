#!/usr/bin/env bash
# The GitHub Action's steps (action.yml), kept in a script so they run the same locally:
#   github-action.sh install   pip-installs kubevet (KUBEVET_VERSION, or the action's copy)
#   github-action.sh check     runs kubevet check from the INPUT_* variables; annotations on
#                              stdout, SARIF in INPUT_SARIF_FILE, outputs in GITHUB_OUTPUT
set -euo pipefail

install() {
  if [ -n "${KUBEVET_VERSION:-}" ]; then
    python3 -m pip install --disable-pip-version-check -q "kubevet==${KUBEVET_VERSION}"
  else
    python3 -m pip install --disable-pip-version-check -q "${KUBEVET_SOURCE:?}"
  fi
}

check() {
  local sarif="${INPUT_SARIF_FILE:-kubevet.sarif}"
  local -a args=()
  read -r -a paths <<<"${INPUT_PATHS:-.}"
  [ -n "${INPUT_SELECT:-}" ] && args+=(--select "$INPUT_SELECT")
  [ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
  if [ -n "${INPUT_VALUES:-}" ]; then
    read -r -a values <<<"$INPUT_VALUES"
    for v in "${values[@]}"; do args+=(--values "$v"); done
  fi
  if [ -n "${INPUT_ARGS:-}" ]; then
    read -r -a extra <<<"$INPUT_ARGS"
    args+=("${extra[@]}")
  fi
  local code=0
  kubevet check "${paths[@]}" "${args[@]}" --format github --format "sarif=$sarif" || code=$?
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      echo "sarif-file=$sarif"
      echo "exit-code=$code"
    } >>"$GITHUB_OUTPUT"
  fi
  return "$code"
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  *)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
