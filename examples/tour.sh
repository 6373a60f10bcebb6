#!/bin/sh
# The tour's development loop, played end to end in a copy of examples/: the Makefile's clean,
# home, start and test targets, with the tour's edits made here (the word map deployed, the
# client fixed, the map extended), then 40 more clients. `make demo` runs it after demo.sh.
#
#   BUILD  the build folder (default: build, launchers; BUILD=dist builds with pyinstaller)
#   PORT   the server's port (default: the examples' own)
set -eu

show() { printf '\n$ %s\n' "$*" >&2; }
run() { show "$@"; "$@"; }
# A step that is expected to fail, as the tour's do until the last test passes.
failing() { show "$@"; if "$@"; then echo "(expected a failure)" >&2; exit 1; fi; }

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() {
    (cd "$work/tour" 2>/dev/null && ansar -f stop > /dev/null 2>&1) || true
    rm -rf "$work"
}
trap cleanup EXIT
cp -r "$here" "$work/tour"
rm -rf "$work/tour/__pycache__" "$work/tour/lib/__pycache__" "$work/tour/.ansar-home" "$work/tour/testing"
cd "$work/tour"
unset MAKELEVEL MAKEFLAGS MFLAGS  # the loop's make as from a shell, also under make demo
make="make --no-print-directory BUILD=${BUILD:-build}${PORT:+ PORT=$PORT}"

# Start with nothing, create the multi-process configuration, establish an operational state.
run $make home
run $make start

# Begin development: nothing to deploy, three failed tests.
failing $make

# Deploying an operational file: one failure fewer.
run cp word-map.json testing/model-by-role/server-0
failing $make

# Editing source code (vi +51 client.py): the client is rebuilt and deployed.
show "vi +51 client.py  (b'fervent' becomes b'eager')"
sed "s/word, expect = b'eager', b'fervent'/word, expect = b'eager', b'eager'/" client.py > client.py.new
mv client.py.new client.py
failing $make

# Modifying an operational file: the last failure goes, the loop ends cleanly.
show "vi testing/model-by-role/server-0/word-map.json  (fly maps to droll)"
printf '{\n    "value": [\n        ["explain", "define"],\n        ["fly", "droll"]\n    ]\n}\n' \
    > testing/model-by-role/server-0/word-map.json
run $make
run $make
run ansar status -l

# Adding some workload: 40 more clients, all at 3/0.
run ansar add client 'test-client-{number}' --start=10 --count=40 ${PORT:+--port=$PORT}
run ansar set retry 'test-client-\d\d' --encoding-file=client-retry
run ansar get retry test-client-49
run $make
run ansar status -l
run $make clean
