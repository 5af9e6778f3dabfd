# lib.sh — what the test scripts share (sourced): a temporary folder removed on exit, and check,
# which counts a condition (a shell expression) as passed or failed; finish prints
# "N passed, N failed" and gives the exit status.
# VERBOSE=1 prints each passed check too.
# No "| grep -q" in the test scripts: under pipefail, grep -q closing the pipe early fails the pipeline.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); if [ -n "${VERBOSE:-}" ]; then echo "ok: $1"; fi; else failed=$((failed + 1)); echo "FAILED: $1"; fi; }
# The address a starting fovea server prints in LOG (waiting up to 10 s; empty if none came).
served_url() {
  local url=
  for _ in $(seq 1 500); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$1" 2>/dev/null) && break
    sleep 0.02
  done
  echo "$url"
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
