#!/usr/bin/env bash
# host_sqlite.sh THREADLENS - a program that uses SQLite itself sees its own library, untouched
# by the agent's: the sqlite3 shell configures SQLite at start (sqlite3_config), which fails
# with a warning on stderr when someone opened a database first in the same library.
set -euo pipefail
threadlens=$1
command -v sqlite3 > /dev/null || { echo "SKIP: no sqlite3 shell"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bare=$(sqlite3 :memory: "select sqlite_version(), 6*7" 2>&1)
under=$("$threadlens" run --db "$work/run.db" -- sqlite3 :memory: "select sqlite_version(), 6*7" 2>&1)
[ "$under" = "$bare" ] || { echo "FAIL: output under the agent: '$under', bare: '$bare'"; exit 1; }
echo "ok: sqlite3 shell unchanged under the agent ($bare)"
