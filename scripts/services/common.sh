# Shared by the service scripts: where things live, and stopping a process by its pid file.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${BYOP_PYTHON:-$ROOT/.venv/bin/python}
RUN_ROOT=${BYOP_SERVICES_DIR:-/tmp/byop-services}

log() { echo "$(basename "$0"): $*" >&2; }

alive() {  # $1 = pid file: whether the process it names is running
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_pidfile() {  # $1 = pid file, $2 = seconds to wait after SIGTERM before SIGKILL
  [ -s "$1" ] || return 0
  local p i
  p=$(cat "$1")
  if kill -TERM "$p" 2>/dev/null; then
    for i in $(seq $(( ${2:-10} * 10 ))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$1"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

since() {  # $1 = a start from now_ms: seconds elapsed, with one decimal
  local ms=$(( $(now_ms) - $1 ))
  printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}
