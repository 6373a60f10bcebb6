#!/bin/sh
# A short demonstration: the examples run as tools, then the first steps of the tour with the
# ansar command in a home of its own. `make demo` sets PATH so that bin/ and the venv come first.
# Each command is shown before its output; logs go to stderr, results to stdout.
# DEMO_BUSY_INPUT names a smaller tree for busy-0 than the tour's 484 processes (the tests use it).
set -eu

show() { printf '\n$ %s\n' "$*" >&2; }
run() { show "$@"; "$@"; }

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill -INT "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$here/../bin" && pwd)
cd "$work"

# The examples as tools.
run noop --debug-level=CONSOLE
run snooze --seconds=1 --debug-level=CONSOLE
run factorial --debug-level=CONSOLE
run busy --debug-level=CONSOLE

# The server in the background on a free port, the client against it, then stop the server.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
show server --port="$port" --debug-level=CONSOLE "&"
server --port="$port" --debug-level=CONSOLE &
server=$!
python3 - "$port" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("server did not start listening")
        time.sleep(0.05)
PY
run client --port="$port" --debug-level=CONSOLE
show kill -INT "$server"
kill -INT "$server"
wait "$server" || true
server=

# The tour's first steps: a home whose bin is the checkout's launchers.
run ansar create --redirect-bin="$bin"
run ansar add noop
run ansar list
run ansar run --debug-level=CONSOLE
run ansar add snooze
run ansar update snooze-0 --seconds=1.0
run ansar settings snooze-0
run ansar run --debug-level=CONSOLE
run ansar add factorial
run ansar input factorial-0
run ansar input factorial-0 --set-file="$here/factorial-7"
run ansar run
run ansar add busy
run ansar input busy-0 --set-file="${DEMO_BUSY_INPUT:-$here/busy-input}"
show ansar run --debug-level=CONSOLE "2> busy.log"
status=0
ansar run --debug-level=CONSOLE 2> busy.log || status=$?
printf '(%s lines on stderr, in busy.log)\n' "$(wc -l < busy.log)" >&2
if [ "$status" -ne 0 ]; then grep -v ' ^ ' busy.log | tail -20 >&2; exit "$status"; fi
run ansar delete busy-0

# A zombie never ends: the run waits for Ctrl-C (here, SIGINT after a moment).
run ansar add zombie
show ansar run "zombie-0" --debug-level=CONSOLE "&" then Ctrl-C
ansar run "zombie-0" --debug-level=CONSOLE &
runner=$!
until ansar status zombie-0 | grep -q zombie-0; do sleep 0.1; done
kill -INT "$runner"
wait "$runner" || printf '(exit status %s after Ctrl-C)\n' "$?" >&2

# In the background: start, status, log, history, returned, stop.
run ansar update snooze-0 --seconds=10.0
run ansar start
run ansar status
run ansar status -l
show ansar start "(refused: already running)"
ansar start || true
run ansar log snooze-0
run ansar stop zombie-0
show ansar stop "(refused: not all running)"
ansar stop || true
run ansar -f stop
run ansar status
run ansar history zombie-0
run ansar returned zombie-0 --start=0
run ansar history noop-0
run ansar log zombie-0 --last=HOUR --count=12
