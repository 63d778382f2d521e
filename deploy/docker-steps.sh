#!/usr/bin/env bash
# The Dockerfile's build and run steps, without a Docker engine (CI has none), so that the image
# cannot rot unnoticed. Every instruction of ./Dockerfile is read here and carried out in order,
# in a throw-away folder that stands for the image's file system (<tmp>/root/app is the image's
# /app, <tmp>/root/data its /data):
#
#   FROM python:X    a fresh virtual environment of this machine's python3 (version X or newer)
#   ENV, WORKDIR,    the same, with the image's absolute paths below <tmp>/root
#   COPY, VOLUME
#   RUN              the same command (sh -c, in the WORKDIR, the virtual environment first on
#                    PATH), except steps that manage the image's users (useradd, chown): they need
#                    root and would change this machine, so they are named and skipped
#   USER             named and skipped: the steps run as the caller
#   EXPOSE           the port the CMD binds; here a free port on 127.0.0.1 instead
#   CMD              started exactly as written but bound to 127.0.0.1:<free port>; then the
#   HEALTHCHECK      health check as written (on that port), a few pages and API answers, and a stop
#
# An instruction the script does not know, or a RUN step that would touch an absolute path of
# this machine, stops it with a message: teach the script, never skip quietly.
#
#   deploy/docker-steps.sh           do it all (minutes: installs requirements.txt into a new venv)
#   deploy/docker-steps.sh --plan    print each instruction and what stands for it; change nothing
#                                    (tests/test_deploy.py compares the plan with the Dockerfile)
#   PYTHON=python3.12 deploy/...     build the venv with another interpreter; KEEP=1 keeps <tmp>
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dockerfile=${DOCKERFILE:-$repo/Dockerfile}
python=${PYTHON:-python3}
plan=""
[ "${1:-}" = "--plan" ] && plan=1

step() { echo "==> $*"; }
fail() { echo "docker-steps: $*" >&2; exit 1; }

# One instruction per line: continuation lines joined, comments and blank lines dropped.
instructions() {
  sed -e 's/\r$//' "$dockerfile" | awk '
    /^[ \t]*#/ { next }
    {
      line = (cont ? buf : "") $0
      if (line ~ /\\$/) { sub(/\\$/, "", line); buf = line; cont = 1; next }
      cont = 0
      if (line ~ /[^ \t]/) print line
    }'
}

# What stands for each instruction here; the plan prints it, the run does it.
SKIP_RUN='(^|[;&| ])(useradd|groupadd|adduser|chown)([ ]|$)'
action() {  # action KEYWORD ARGS -> "do" or "skip: why"
  case "$1" in
    RUN) if [[ " $2" =~ $SKIP_RUN ]]; then echo "skip: manages the image's users (needs root, would change this machine)"
         else echo "do"; fi ;;
    USER) echo "skip: the steps run as the caller" ;;
    FROM|ENV|WORKDIR|COPY|VOLUME|EXPOSE|HEALTHCHECK|CMD) echo "do" ;;
    *) echo "unknown" ;;
  esac
}

work=""
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$work" ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

if [ -z "$plan" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/docker-steps.XXXXXX")
  root=$work/root
  mkdir -p "$root"
  step "image file system in $root (KEEP=1 keeps it)"
fi
workdir=""
exposed=""
healthcheck=""
cmd_json=""

in_image() {  # a path of the image, as it lies here
  case "$1" in
    /*) echo "$root$1" ;;
    *) echo "${workdir:-$root}/$1" ;;
  esac
}

do_from() {
  local want
  want=$(sed -nE 's/^python:([0-9]+\.[0-9]+).*/\1/p' <<<"$1")
  [ -n "$want" ] || fail "FROM $1: only python:X.Y images are known here"
  "$python" -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$want'.split('.'))))" \
    || fail "FROM $1: $python is older than Python $want"
  step "FROM $1: a virtual environment of $("$python" -V 2>&1)"
  "$python" -m venv "$work/venv"
  export PATH="$work/venv/bin:$PATH" VIRTUAL_ENV="$work/venv"
}

do_env() {
  local pair key value
  [[ "$1" == *=* ]] || fail "ENV $1: write ENV KEY=VALUE"
  [[ "$1" != *[\"\']* ]] || fail "ENV $1: quoted values are not known here"
  for pair in $1; do
    key=${pair%%=*}
    value=${pair#*=}
    case "$value" in /*) value=$(in_image "$value") ;; esac
    export "$key=$value"
    echo "    $key=$value"
  done
}

do_copy() {
  local args=($1) dst src
  [[ "${args[0]}" != --* ]] || fail "COPY $1: options are not known here"
  dst=$(in_image "${args[-1]}")
  for src in "${args[@]:0:${#args[@]}-1}"; do
    if [ -d "$repo/$src" ]; then
      mkdir -p "$dst"
      cp -R "$repo/$src/." "$dst/"
    elif [ "${#args[@]}" -gt 2 ] || [[ "${args[-1]}" == */ ]] || [ -d "$dst" ]; then
      mkdir -p "$dst"
      cp "$repo/$src" "$dst/"
    else
      mkdir -p "$(dirname "$dst")"
      cp "$repo/$src" "$dst"
    fi
  done
}

do_run() {
  local word
  for word in $1; do  # a RUN step here must not reach the machine's own file system
    case "$word" in /*|\"/*|\'/*) fail "RUN $1: touches $word, an absolute path; teach deploy/docker-steps.sh" ;; esac
  done
  (cd "${workdir:-$root}" && sh -c "$1")
}

while IFS= read -r line; do
  keyword=${line%%[[:space:]]*}
  args=$(sed -E 's/^[A-Za-z]+[[:space:]]+//' <<<"$line")
  what=$(action "$keyword" "$args")
  [ "$what" != unknown ] || fail "instruction $keyword is not known here: teach deploy/docker-steps.sh ($line)"
  if [ -n "$plan" ]; then
    printf '%s\t%s\n' "$line" "$what"
    continue
  fi
  if [[ "$what" == skip:* ]]; then
    step "$line  -- skipped (${what#skip: })"
    continue
  fi
  [ "$keyword" = FROM ] || step "$line"
  case "$keyword" in
    FROM) do_from "$args" ;;
    ENV) do_env "$args" ;;
    WORKDIR) workdir=$(in_image "$args"); mkdir -p "$workdir" ;;
    COPY) do_copy "$args" ;;
    RUN) do_run "$args" ;;
    VOLUME) mkdir -p "$(in_image "$args")" ;;
    EXPOSE) exposed=${args%%/*} ;;
    HEALTHCHECK) healthcheck=$(sed -E 's/^(--[a-z-]+=[^ ]+ +)*CMD +//' <<<"$args") ;;
    CMD) cmd_json=$args ;;
  esac
done < <(instructions)

[ -n "$plan" ] && exit 0
[ -n "$cmd_json" ] || fail "the Dockerfile has no CMD"

# The CMD as written, bound to a free loopback port instead of the exposed one.
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mapfile -d '' argv < <("$python" - "$cmd_json" "$port" <<'EOF'
import json, sys
argv, port = json.loads(sys.argv[1]), sys.argv[2]
if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
    sys.exit("CMD must be a JSON array of strings (exec form)")
for flag in ("--bind", "-b"):
    if flag in argv:
        argv[argv.index(flag) + 1] = f"127.0.0.1:{port}"
        break
else:
    sys.exit("CMD names no --bind address to move to loopback")
sys.stdout.write("\0".join(argv) + "\0")
EOF
)
step "CMD ${argv[*]}  (as written, on 127.0.0.1:$port; the data volume starts empty, so the demo is generated)"
(cd "$workdir" && exec "${argv[@]}") > "$work/server.log" 2>&1 &
server_pid=$!

url="http://127.0.0.1:$port"
get() {  # get PATH -> body; fails on anything but 200
  "$python" - "$url$1" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as resp:
    sys.stdout.write(resp.read().decode("utf-8", "replace"))
EOF
}
for _ in $(seq 1 180); do
  if get /healthz >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    fail "the server stopped while starting (its log is above)"
  fi
  sleep 1
done
get /healthz >/dev/null || { cat "$work/server.log" >&2; fail "no answer on $url/healthz after 180 s"; }

if [ -n "$healthcheck" ]; then
  step "HEALTHCHECK ${healthcheck//:$exposed\//:$port/}"
  (cd "$workdir" && sh -c "${healthcheck//:$exposed\//:$port/}") || fail "the HEALTHCHECK command failed"
fi
step "pages and API answers"
get / | grep -q "<title>Ortsatlas" || fail "/ is not the atlas page"
get /api/v1/indicators | "$python" -c 'import json, sys; n = json.load(sys.stdin)["count"]; assert n > 0, n' \
  || fail "/api/v1/indicators lists no indicators"
get /api/v1/reports | "$python" -c 'import json, sys; n = json.load(sys.stdin)["count"]; assert n > 0, n' \
  || fail "/api/v1/reports lists no report templates (is reports/ copied into the image?)"
step "stopping the server (SIGTERM, as docker stop does)"
kill -TERM "$server_pid"
wait "$server_pid" || fail "gunicorn did not stop cleanly on SIGTERM (exit $?)"
server_pid=""
step "the Dockerfile's steps ran, the app answered, and it stopped cleanly"
