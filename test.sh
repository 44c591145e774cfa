#!/bin/bash
# Builds Consilium and runs every test suite (unit, fuzz, integration, e2e).
# Ends with one line: "N passed, N failed[, N skipped]".
#   CS_SANITIZE=1  also build with -Db_sanitize=address,undefined and run the
#                  suites again under ASan/UBSan (CI sets it).
#   CS_SUITES="unit fuzz"  run only these suites.
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

./scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

SUITES=${CS_SUITES:-"unit fuzz integration e2e"}
passed=0; failed=0; skipped=0

run_build() { # dir, extra meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { cat "$dir.ninja.log"; return 1; }
}

count() { # dir
  python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result", "")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
except FileNotFoundError:
    pass
print(p, f, s)
PY
}

run_suites() { # dir label
  local dir=$1 label=$2 s p f k
  for s in $SUITES; do
    echo "== $label: suite $s"
    rm -f "$dir/meson-logs/testlog.json"
    meson test -C "$dir" --suite "$s" --print-errorlogs --num-processes 2 \
      ${CS_MESON_TEST_ARGS:-} 2>&1 | grep -vE '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout): +0 *$'
    read -r p f k < <(count "$dir")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  done
}

if run_build build; then
  run_suites build default
else
  echo "build failed"; failed=$((failed + 1))
fi

if [ "${CS_SANITIZE:-0}" = 1 ]; then
  if run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=1:suppressions=$ROOT/tests/asan.supp"}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-"suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-"print_stacktrace=1:halt_on_error=1"}
    run_suites build-asan asan
  else
    echo "asan build failed"; failed=$((failed + 1))
  fi
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
