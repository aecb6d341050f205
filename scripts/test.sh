#!/usr/bin/env bash
# Runs every check CI runs: installs the tools the tests use (Debian packages
# prometheus, prometheus-alertmanager, docker-compose, chromium, and kubectl
# where an apt source has it) when missing, then
# gofmt, go vet, go test -race, the generated-artifact check, a short run of
# every fuzz target and the shared corpus replayed against the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
apt_updated=""
apt_install() { # apt_install PACKAGE...: install after one apt-get update
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# Headless Chromium for the status page browser test (probe/worker/page_browser_test.go).
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
if ((${#need[@]})); then
  echo "== installing ${need[*]}"
  apt_install "${need[@]}"
fi
# kubectl (for kubectl kustomize) comes from whichever apt source the machine
# has; without it the kustomize test skips and says so.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "== installing kubectl"
  apt_install kubectl || echo "kubectl is not installable here: the kustomize test will skip"
fi
# The Debian packages start their services; the tests run their own copies.
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted"
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
timeline=$(mktemp)
LLMPROBE_E2E_TIMELINE="$timeline" go test -race -count=1 ./...
if [ -s "$timeline" ]; then
  echo "== end-to-end alerting timeline (deploy/e2e_test.go)"
  cat "$timeline"
fi
rm -f "$timeline"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== generated artifacts are committed and current"
go run ./cmd/llmprobe generate --out deploy >/dev/null
changed=$(git status --porcelain -- deploy dashboards)
if [ -n "$changed" ]; then
  echo "$changed"
  git --no-pager diff --stat -- deploy dashboards
  echo "llmprobe generate changed committed files: run 'go run ./cmd/llmprobe generate --out deploy' and commit the result"
  exit 1
fi

# Every fuzz target, found in the sources so that a new one runs too: the
# classifier 20s, the others FUZZ_SECONDS (default 5) each.
echo "== fuzz every target"
fuzzed=0
while IFS=: read -r file name; do
  pkg="./$(dirname "$file")"
  secs=${FUZZ_SECONDS:-5}
  [ "$name" = FuzzClassify ] && secs=20
  echo "-- $name in $pkg (${secs}s)"
  if ! out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$pkg" 2>&1); then
    echo "$out"
    exit 1
  fi
  echo "$out" | grep -E '^fuzz: elapsed' | tail -1
  fuzzed=$((fuzzed + 1))
done < <(git grep -o -P '^func \KFuzz\w+(?=\(f \*testing\.F\))' -- '*_test.go' | sort -u)
[ "$fuzzed" -gt 0 ] || { echo "no fuzz targets found"; exit 1; }

if [ -f ../shared/tools/corpus_harness.py ] && command -v python3 >/dev/null && command -v openssl >/dev/null; then
  echo "== shared corpus against the built binary"
  go build -o "$tmp/llmprobe" ./cmd/llmprobe
  python3 ../shared/tools/corpus_harness.py ../shared/corpus/cases.jsonl "$tmp/llmprobe"
else
  echo "== shared corpus skipped: needs ../shared, python3 and openssl"
fi
echo "== all checks passed"
