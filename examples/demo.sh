#!/bin/sh
# The examples run as tools, each command shown before its output (`make demo` sets PATH so that
# bin/ and the venv come first). Logs go to stderr, results to stdout.
set -eu

show() { printf '\n$ %s\n' "$*" >&2; }
run() { show "$@"; "$@"; }

run noop --debug-level=CONSOLE
run snooze --seconds=1 --debug-level=CONSOLE
run factorial --debug-level=CONSOLE
run busy --debug-level=CONSOLE

# The server in the background on a free port, the client against it, then stop the server.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
show server --port="$port" --debug-level=CONSOLE "&"
server --port="$port" --debug-level=CONSOLE &
server=$!
trap 'kill -INT $server 2>/dev/null || true' EXIT
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
wait "$server"
trap - EXIT
