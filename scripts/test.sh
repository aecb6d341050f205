#!/usr/bin/env bash
# Runs every check CI runs: installs the tools the tests use (Debian packages
# prometheus, prometheus-alertmanager, docker-compose, chromium, and kubectl
# where an apt source has it) when missing, builds Prometheus 3 once into a
# cache, then
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
# The tests start their own Prometheus and Alertmanager on free loopback
# ports; the services these packages may start are left alone.
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
# Prometheus 3 is not in Debian: build cmd/prometheus and cmd/promtool of
# this module version once per machine into a per-user cache (about 9
# CPU-minutes on a clean machine, then nothing), stamped with their version
# so that --version and prometheus_build_info say 3.x. The tests find them
# through LLMPROBETEST_PROMETHEUS3_DIR (internal/testkit/prometheus3.go).
prom3_module=github.com/prometheus/prometheus
prom3_module_version=v0.316.0 # keep in step with internal/testkit/prometheus3.go
prom3_version=3.16.0
export LLMPROBETEST_PROMETHEUS3_DIR="${LLMPROBETEST_PROMETHEUS3_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/llmprobe/prometheus-$prom3_module_version}"
prom3_ok() {
  for tool in prometheus promtool; do
    "$LLMPROBETEST_PROMETHEUS3_DIR/$tool" --version 2>/dev/null | grep -q "version $prom3_version " || return 1
  done
}
if ! prom3_ok; then
  echo "== building Prometheus $prom3_version ($prom3_module@$prom3_module_version) into $LLMPROBETEST_PROMETHEUS3_DIR (once per machine)"
  started=$SECONDS
  mkdir -p "$(dirname "$LLMPROBETEST_PROMETHEUS3_DIR")"
  staging=$(mktemp -d "$LLMPROBETEST_PROMETHEUS3_DIR.build.XXXXXX")
  v=github.com/prometheus/common/version
  # Outside the repository, so that our go.mod does not apply.
  # remove_all_sd leaves out the service-discovery plugins but file and
  # http (the tests use static targets): 9 CPU-minutes instead of 17.
  (cd "$staging" && GOBIN="$staging" go install -tags remove_all_sd \
    -ldflags "-X $v.Version=$prom3_version -X $v.Revision=$prom3_module_version -X $v.Branch=go-install -X $v.BuildUser=llmprobe-scripts-test.sh" \
    "$prom3_module/cmd/prometheus@$prom3_module_version" "$prom3_module/cmd/promtool@$prom3_module_version")
  mkdir -p "$LLMPROBETEST_PROMETHEUS3_DIR"
  # One rename per binary: a concurrent test sees the old build or the new one.
  mv -f "$staging/prometheus" "$staging/promtool" "$LLMPROBETEST_PROMETHEUS3_DIR/"
  rm -rf "$staging"
  prom3_ok || { echo "the Prometheus $prom3_version build in $LLMPROBETEST_PROMETHEUS3_DIR does not report its version"; exit 1; }
  echo "built in $((SECONDS - started))s"
fi
"$LLMPROBETEST_PROMETHEUS3_DIR/prometheus" --version | head -1
promtool --version | head -1

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
# -timeout: the slowest packages (slo's paging suite, the demo) take a few
# minutes of CPU each; a shared 2-core machine stretches them.
LLMPROBETEST_E2E_TIMELINE="$timeline" go test -race -count=1 -timeout 30m ./...
if [ -s "$timeline" ]; then
  echo "== end-to-end alerting timeline (deploy/e2e_test.go)"
  cat "$timeline"
fi
rm -f "$timeline"

echo "== every demo scenario, without the race detector (the race run plays one)"
go test -count=1 -timeout 20m -run '^TestDemo' ./probe/demo/

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
