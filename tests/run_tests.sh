#!/bin/sh
# Runs each test program given, adds up their "TESTS passed failed [skipped]" lines and
# ends with "N passed, N failed" (", N skipped" when some were skipped).
pass=0; fail=0; skip=0; crashed=""
# cartoonize keeps a result cache under $XDG_CACHE_HOME: the suite runs with a fresh, empty
# one (never the user's, and no earlier run's entries answering a test that times its runs)
XDG_CACHE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/cartoon-test-cache-XXXXXX") || exit 1
export XDG_CACHE_HOME
for t in "$@"; do
    name=$(basename "$t")
    echo "== $name"
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^TESTS '
    line=$(printf '%s\n' "$out" | grep '^TESTS ' | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $name: exited with status $rc before its summary (crash?)"
        fail=$((fail + 1)); crashed="$crashed $name"; continue
    fi
    p=$(echo "$line" | cut -d' ' -f2); f=$(echo "$line" | cut -d' ' -f3)
    s=$(echo "$line" | cut -d' ' -f4); s=${s:-0}
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exit status $rc"; fail=$((fail + 1))
    fi
done
rm -rf "$XDG_CACHE_HOME"
[ -n "$crashed" ] && echo "crashed:$crashed"
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
