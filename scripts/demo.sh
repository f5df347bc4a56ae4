#!/usr/bin/env bash
# demo.sh - build, run the demo program under threadlens, print its report.
# The demo has a lock-order bug on purpose, so the report's exit status 1
# ("error findings") is expected; any other failure fails the script, and a
# failing demo program fails it with the program's own exit status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2

demo_status=0
build/bin/threadlens run --db demo.db -- build/bin/tl-prog-demo_bank || demo_status=$?

report_status=0
build/bin/threadlens-top --report demo.db || report_status=$?

if [ "$demo_status" -ne 0 ]; then
    echo "demo.sh: tl-prog-demo_bank exited with status $demo_status" >&2
    exit "$demo_status"
fi
if [ "$report_status" -gt 1 ]; then
    echo "demo.sh: threadlens-top --report failed with status $report_status" >&2
    exit "$report_status"
fi
echo
echo "demo.sh: the database is demo.db; try: sqlite3 demo.db 'select * from findings'"
