# Helpers for the CLI tests (sourced): failure counting and error checks.
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_error NAME EXPECTED_TEXT COMMAND...: the command must exit non-zero
# and print EXPECTED_TEXT. Sets LAST_RC to its exit code.
expect_error() {
  local name=$1 text=$2
  shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  LAST_RC=$rc
  if [[ $rc -eq 0 ]]; then fail "$name: exit code 0"; return; fi
  grep -qF -- "$text" <<<"$out" || fail "$name: no '$text' in: $out"
}

# finish NAME: exit 1 if anything failed.
finish() {
  if [[ $failures -gt 0 ]]; then
    echo "$failures failure(s)" >&2
    exit 1
  fi
  echo "all $1 checks passed"
}
