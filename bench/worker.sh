#!/usr/bin/env bash
# bench/worker.sh: one llmprobe worker with 1,000 checks against the loopback
# fakes at a 15 s interval, and beside it, in the same run, Debian's
# prometheus-blackbox-exporter probing the same fake endpoints with the same
# request mix at the same rate (a real Prometheus scrapes 1,000 blackbox
# targets every 15 s, the way blackbox is deployed). Prints one summary table.
#
# Everything listens on 127.0.0.1 on ports picked free at start; every process
# it starts is stopped on exit. See bench/README.md.
#
# Environment (all optional):
#   BENCH_SECONDS      measured window after the warm-up, seconds (default 120)
#   BENCH_WARMUP       warm-up before the window, seconds (default: one interval)
#   BENCH_CHECKS       worker checks = blackbox targets (default 1000)
#   BENCH_INTERVAL     probe and scrape interval, seconds (default 15)
#   BENCH_TIMEOUT      per-probe timeout, seconds (default 10)
#   BENCH_CONCURRENCY  LLMPROBE_CONCURRENCY (default 64, the worker's default)
#   BENCH_LOG_LEVEL    LLMPROBE_LOG_LEVEL (default info, the worker's default)
#   BENCH_SCRAPE_WORKER  1 (default): Prometheus scrapes the worker's /metrics
#                      every interval, as in production, and that cost is in
#                      the worker's CPU; 0: only the script's two scrapes
#   BENCH_SCRAPE_FORMAT  protobuf (default: deploy/prometheus's configs ask
#                      for it first, with native histograms) or text
#                      (OpenMetrics, what Prometheus asks for by default)
#   BENCH_WORKER_ENV   extra NAME=value words for the worker's environment,
#                      e.g. "GOGC=200 GOMAXPROCS=1", to measure a runtime
#                      setting (the worker otherwise runs with none)
#   BENCH_KEEP=1       keep the work directory (configs, logs, scrapes)
#   BENCH_PPROF=DIR    run the worker with LLMPROBE_PPROF=true, take a CPU
#                      profile over the window (at most 50 s of it) and a heap
#                      profile at its end into DIR with the binary, and print
#                      their top entries (the profiling costs the worker some
#                      CPU: leave it off for the figures)
set -euo pipefail

BENCH_SECONDS=${BENCH_SECONDS:-120}
BENCH_INTERVAL=${BENCH_INTERVAL:-15}
BENCH_WARMUP=${BENCH_WARMUP:-$BENCH_INTERVAL}
BENCH_CHECKS=${BENCH_CHECKS:-1000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-10}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-64}
BENCH_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_SCRAPE_WORKER=${BENCH_SCRAPE_WORKER:-1}
BENCH_SCRAPE_FORMAT=${BENCH_SCRAPE_FORMAT:-protobuf}
BENCH_PPROF=${BENCH_PPROF:-}
BENCH_WORKER_ENV=${BENCH_WORKER_ENV:-}
KEY=demo-key
MODEL=gpt-4o-mini

die() { echo "bench/worker.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for v in BENCH_SECONDS BENCH_INTERVAL BENCH_WARMUP BENCH_CHECKS BENCH_TIMEOUT BENCH_CONCURRENCY; do
	case ${!v} in '' | *[!0-9]*) die "$v must be a whole number, got '${!v}'" ;; esac
done
((BENCH_SECONDS >= 10)) || die "BENCH_SECONDS must be at least 10"
[[ $BENCH_SCRAPE_WORKER == [01] ]] || die "BENCH_SCRAPE_WORKER must be 0 or 1"
[[ $BENCH_SCRAPE_FORMAT == protobuf || $BENCH_SCRAPE_FORMAT == text ]] || die "BENCH_SCRAPE_FORMAT must be protobuf or text"
((BENCH_INTERVAL >= 1)) || die "BENCH_INTERVAL must be at least 1"
((BENCH_CHECKS >= 1 && BENCH_CHECKS <= 9999)) || die "BENCH_CHECKS must be in 1..9999"
((BENCH_TIMEOUT >= 1 && BENCH_TIMEOUT <= BENCH_INTERVAL)) || die "BENCH_TIMEOUT must be in 1..BENCH_INTERVAL"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n $BENCH_PPROF ]]; then
	mkdir -p "$BENCH_PPROF" || die "BENCH_PPROF: cannot create $BENCH_PPROF"
	BENCH_PPROF=$(cd "$BENCH_PPROF" && pwd)
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmprobe-bench.XXXXXX")
PIDS=()
CLEANED=0

cleanup() {
	local rc=$? pid i
	((CLEANED)) && return
	CLEANED=1
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for i in $(seq 1 50); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if ((rc != 0)); then
		for f in fake worker blackbox prometheus; do
			[[ -s $WORK/$f.log ]] && { echo "--- last lines of $f.log" >&2; tail -n 5 "$WORK/$f.log" >&2; }
		done
	fi
	if [[ $BENCH_KEEP == 1 || $rc != 0 ]]; then
		echo "work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ----------------------------------------------------------------
need_pkgs=()
command -v curl >/dev/null || need_pkgs+=(curl)
command -v prometheus-blackbox-exporter >/dev/null || need_pkgs+=(prometheus-blackbox-exporter)
command -v prometheus >/dev/null || need_pkgs+=(prometheus)
if ((${#need_pkgs[@]})); then
	((EUID == 0)) || die "missing ${need_pkgs[*]}: run as root, or apt-get install ${need_pkgs[*]}"
	log "installing ${need_pkgs[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >"$WORK/apt.log" 2>&1
	apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >>"$WORK/apt.log" 2>&1 ||
		die "apt-get install ${need_pkgs[*]} failed; see $WORK/apt.log"
fi
command -v go >/dev/null || die "go is not on PATH"
CLK_TCK=$(getconf CLK_TCK)

log "building llmprobe"
(cd "$ROOT" && go build -o "$WORK/llmprobe" ./cmd/llmprobe)
cd "$WORK" # nothing below writes into the source tree

# --- ports ----------------------------------------------------------------
# Ports below the kernel's ephemeral range, so no outgoing connection of
# another process holds them, and with no socket of any state on them.
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
((EPHEMERAL_LOW > 12000)) || EPHEMERAL_LOW=32768
USED=" "
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
		[[ $USED == *" $p "* ]] && continue
		if command -v ss >/dev/null; then
			[[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]] || continue
		fi
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		echo "$p"
		return
	done
}
# Each assignment on its own line: $(...) runs in a subshell, so USED is
# appended to here from the printed port.
P_CF=$(free_port); USED+="$P_CF "
P_GFE=$(free_port); USED+="$P_GFE "
P_ADMIN=$(free_port); USED+="$P_ADMIN "
P_WORKER=$(free_port); USED+="$P_WORKER "
P_BB=$(free_port); USED+="$P_BB "
P_PROM=$(free_port); USED+="$P_PROM "
FAKE=http://127.0.0.1:$P_CF

wait_http() { # url what seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	die "$2 did not answer on $1 within $3 s"
}

# Every child gets a clean environment: no proxies, no OTEL_*, no API keys
# from the caller, nothing that could send traffic off the machine.
CLEAN_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C)

# --- fakes ----------------------------------------------------------------
log "starting the fake providers on $FAKE"
env -i "${CLEAN_ENV[@]}" "$WORK/llmprobe" demo --serve --key "$KEY" \
	--cloudflare-listen "127.0.0.1:$P_CF" --google-listen "127.0.0.1:$P_GFE" --admin-listen "127.0.0.1:$P_ADMIN" \
	>"$WORK/fake.log" 2>&1 &
PIDS+=($!)
PID_FAKE=$!
code=none # without a key the fake answers 401 with OpenAI's JSON error
for ((i = 0; i < 200; i++)); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$FAKE/b0000/v1/models" || true)
	[[ $code == 401 ]] && break
	kill -0 "$PID_FAKE" 2>/dev/null || break
	sleep 0.1
done
[[ $code == 401 ]] || die "fake provider not answering (last status '$code')"

# --- the checks: ids b0000.. with a key give reach+chat+stream; the rest of
# BENCH_CHECKS (0-2) are ids without a key, reach only ----------------------
KEYED=$((BENCH_CHECKS / 3))
UNKEYED=$((BENCH_CHECKS % 3))
NIDS=$((KEYED + UNKEYED))
WENV=("${CLEAN_ENV[@]}"
	LLMPROBE_REGION=bench
	LLMPROBE_INTERVAL="${BENCH_INTERVAL}s"
	LLMPROBE_TIMEOUT="${BENCH_TIMEOUT}s"
	LLMPROBE_LISTEN="127.0.0.1:$P_WORKER"
	"LLMPROBE_CHECKS=reach,chat,stream"
	LLMPROBE_CONCURRENCY="$BENCH_CONCURRENCY"
	LLMPROBE_CONTROL_TARGETS=
	LLMPROBE_STATUS_PAGES=false
	LLMPROBE_DAILY_REQUEST_BUDGET=0
	LLMPROBE_DAILY_TOKEN_BUDGET=0
	LLMPROBE_LOG_LEVEL="$BENCH_LOG_LEVEL")
[[ -n $BENCH_PPROF ]] && WENV+=(LLMPROBE_PPROF=true)
for kv in $BENCH_WORKER_ENV; do
	[[ $kv == [A-Z]*=* ]] || die "BENCH_WORKER_ENV: '$kv' is not NAME=value"
	WENV+=("$kv")
done
ids=()
for ((i = 0; i < NIDS; i++)); do
	id=$(printf 'b%04d' "$i")
	ID=${id^^}
	ids+=("$id")
	WENV+=("LLMPROBE_${ID}_BASE_URL=$FAKE/$id/v1")
	if ((i < KEYED)); then
		WENV+=("LLMPROBE_${ID}_MODEL=$MODEL" "${ID}_API_KEY=$KEY")
	fi
done
idlist=$(IFS=,; echo "${ids[*]}")
WENV+=("LLMPROBE_CUSTOM_PROVIDERS=$idlist" "LLMPROBE_PROVIDERS=$idlist")

env -i "${WENV[@]}" "$WORK/llmprobe" run --check-config >"$WORK/check-config.txt" 2>&1 ||
	{ cat "$WORK/check-config.txt" >&2; die "llmprobe run --check-config failed"; }
got=$(sed -n 's/^configuration ok: .*, \([0-9][0-9]*\) checks$/\1/p' "$WORK/check-config.txt")
[[ $got == "$BENCH_CHECKS" ]] || die "--check-config yields '$got' checks, want $BENCH_CHECKS"
# Only our ids, only loopback base URLs: nothing may probe a real provider.
bad=$(awk 'hdr && NF >= 4 && !/^not probed/ { if ($1 !~ /^b[0-9][0-9][0-9][0-9]$/ || index($0, "http://127.0.0.1:") == 0) print } /^PROVIDER[[:space:]]/ { hdr = 1 }' "$WORK/check-config.txt")
[[ -z $bad ]] || die "--check-config lists a check that is not a loopback fake: $bad"

# --- blackbox exporter: the same request mix on the same URLs ----------------
cat >"$WORK/blackbox.yml" <<EOF
# reach: GET <base>/models with the key (the worker's keyed reach check)
# reach_nokey: the same without a key, 401 with the provider's JSON error
# chat: POST <base>/chat/completions, 2xx with the answer in the body
# stream: the same with "stream":true, read to the end of the event stream
modules:
  reach:
    prober: http
    timeout: ${BENCH_TIMEOUT}s
    http:
      method: GET
      headers:
        Authorization: Bearer $KEY
      valid_status_codes: [200]
      fail_if_body_not_matches_regexp: ['"data"']
      preferred_ip_protocol: ip4
  reach_nokey:
    prober: http
    timeout: ${BENCH_TIMEOUT}s
    http:
      method: GET
      valid_status_codes: [401]
      fail_if_body_not_matches_regexp: ['"error"']
      preferred_ip_protocol: ip4
  chat:
    prober: http
    timeout: ${BENCH_TIMEOUT}s
    http:
      method: POST
      headers:
        Authorization: Bearer $KEY
        Content-Type: application/json
      body: '{"model":"$MODEL","messages":[{"role":"user","content":"reply with pong"}],"max_tokens":5}'
      valid_status_codes: [200]
      fail_if_body_not_matches_regexp: ['"content":"pong"']
      preferred_ip_protocol: ip4
  stream:
    prober: http
    timeout: ${BENCH_TIMEOUT}s
    http:
      method: POST
      headers:
        Authorization: Bearer $KEY
        Content-Type: application/json
      body: '{"model":"$MODEL","messages":[{"role":"user","content":"reply with pong"}],"max_tokens":5,"stream":true}'
      valid_status_codes: [200]
      fail_if_body_not_matches_regexp: ['\[DONE\]']
      preferred_ip_protocol: ip4
EOF

SCRAPE_TIMEOUT=$((BENCH_TIMEOUT < BENCH_INTERVAL ? BENCH_TIMEOUT : BENCH_INTERVAL))
{
	cat <<EOF
global:
  scrape_interval: ${BENCH_INTERVAL}s
  scrape_timeout: ${SCRAPE_TIMEOUT}s
scrape_configs:
EOF
	if [[ $BENCH_SCRAPE_WORKER == 1 ]]; then
		echo "  - job_name: llmprobe"
		echo "    static_configs: [{targets: ['127.0.0.1:$P_WORKER']}]"
	fi
	cat <<EOF
  - job_name: blackbox_exporter
    static_configs: [{targets: ['127.0.0.1:$P_BB']}]
EOF
	for module in reach reach_nokey chat stream; do
		case $module in
		reach | reach_nokey) path=models ;;
		*) path=chat/completions ;;
		esac
		echo "  - job_name: bb_$module"
		echo "    metrics_path: /probe"
		echo "    params: {module: [$module]}"
		echo "    relabel_configs:"
		echo "      - {source_labels: [__address__], target_label: __param_target}"
		echo "      - {source_labels: [__param_target], target_label: instance}"
		echo "      - {target_label: __address__, replacement: '127.0.0.1:$P_BB'}"
		echo "    static_configs:"
		echo "      - targets:"
		if [[ $module == reach_nokey ]]; then
			from=$KEYED to=$NIDS
		else
			from=0 to=$KEYED
		fi
		for ((i = from; i < to; i++)); do
			printf "          - '%s/b%04d/v1/%s'\n" "$FAKE" "$i" "$path"
		done
	done
} >"$WORK/prometheus.yml"
nbb=$(grep -c "^          - '$FAKE/" "$WORK/prometheus.yml" || true)
[[ $nbb == "$BENCH_CHECKS" ]] || die "prometheus.yml has $nbb blackbox targets, want $BENCH_CHECKS"

prometheus-blackbox-exporter --config.check --config.file="$WORK/blackbox.yml" >"$WORK/blackbox-check.log" 2>&1 ||
	{ cat "$WORK/blackbox-check.log" >&2; die "blackbox.yml is invalid"; }

# --- start the worker, blackbox and Prometheus together ------------------------
log "starting the worker ($BENCH_CHECKS checks, ${BENCH_INTERVAL}s), blackbox exporter and Prometheus"
env -i "${WENV[@]}" "$WORK/llmprobe" run >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
PID_WORKER=$!
env -i "${CLEAN_ENV[@]}" prometheus-blackbox-exporter --config.file="$WORK/blackbox.yml" \
	--web.listen-address="127.0.0.1:$P_BB" --log.level=warn >"$WORK/blackbox.log" 2>&1 &
PIDS+=($!)
PID_BB=$!
mkdir -p "$WORK/tsdb"
# Prometheus 2.42 asks for protobuf (and reads native histograms) only
# with this feature on; it then asks every target for protobuf.
PROM_FEATURES=()
[[ $BENCH_SCRAPE_FORMAT == protobuf ]] && PROM_FEATURES=(--enable-feature=native-histograms)
env -i "${CLEAN_ENV[@]}" prometheus "${PROM_FEATURES[@]}" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$P_PROM" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PID_PROM=$!
wait_http "http://127.0.0.1:$P_WORKER/healthz" worker 20
wait_http "http://127.0.0.1:$P_BB/metrics" "blackbox exporter" 20
wait_http "http://127.0.0.1:$P_PROM/-/ready" prometheus 60

# Watchdog: the run is bounded whatever happens.
LIMIT=$((BENCH_WARMUP + BENCH_SECONDS + 120))
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	sleep "$LIMIT" &
	nap=$!
	wait "$nap"
	echo "bench/worker.sh: time limit ${LIMIT}s reached" >&2
	kill -TERM $$
) 2>/dev/null &
PIDS+=($!)

# --- measurement helpers -------------------------------------------------------
now() { date +%s.%N; }
cpu_ticks() { # utime+stime of a process, in clock ticks (fields 14, 15 of stat)
	local stat
	stat=$(<"/proc/$1/stat") || die "process $1 is gone"
	stat=${stat##*) } # drop "pid (comm) "; fields then start at 3 (state)
	# shellcheck disable=SC2086
	set -- $stat
	echo $((${12} + ${13}))
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
scrape() { curl -fsS --max-time 10 -o "$2" "$1" || die "scrape $1 failed"; }
msum() { # file metric [substring]: sum of the samples of one metric
	awk -v n="$2" -v f="${3:-}" '!/^#/ { m = $1; sub(/\{.*/, "", m); if (m == n && index($0, f) > 0) s += $NF }
		END { printf "%.6f\n", s + 0 }' "$1"
}
calc() { awk "BEGIN { printf \"$1\n\", ($2) }"; } # arithmetic only: no comparisons
promq() { # PromQL at time t -> first value or NaN
	curl -fsS --max-time 20 --get "http://127.0.0.1:$P_PROM/api/v1/query" \
		--data-urlencode "query=$1" --data-urlencode "time=$2" |
		sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p' | head -n 1 | grep . || echo NaN
}
# p99 and mean of the lateness histogram between two scrapes, interpolated
# inside the bucket as histogram_quantile does; also the highest bucket hit.
lateness() {
	awk -v q="$3" '
	function le(s) { sub(/.*le="/, "", s); sub(/".*/, "", s); return s }
	FNR == NR { if ($1 ~ /^llmprobe_schedule_lateness_seconds_bucket/) a[le($1)] = $NF
		else if ($1 == "llmprobe_schedule_lateness_seconds_sum") s0 = $NF
		next }
	$1 ~ /^llmprobe_schedule_lateness_seconds_bucket/ { n++; b[n] = le($1); d[n] = $NF - a[b[n]] }
	$1 == "llmprobe_schedule_lateness_seconds_sum" { s1 = $NF }
	END {
		total = d[n]
		if (n == 0 || total <= 0) { print "n/a n/a n/a 0"; exit }
		target = q * total; lo = 0; prev = 0; p = "n/a"
		for (i = 1; i <= n; i++) {
			if (d[i] >= target) {
				if (b[i] == "+Inf") p = ">" lo
				else p = sprintf("%.4f", lo + (b[i] - lo) * (target - prev) / (d[i] - prev))
				break
			}
			lo = b[i]; prev = d[i]
		}
		top = "0"
		for (i = 1; i <= n; i++) if (d[i] > (i > 1 ? d[i-1] : 0)) top = b[i]
		printf "%s %.6f %s %d\n", p, (s1 - s0) / total, top, total
	}' "$1" "$2"
}

# --- warm-up, then the window -------------------------------------------------
log "warm-up ${BENCH_WARMUP}s"
sleep "$BENCH_WARMUP"
curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$P_WORKER/readyz" ||
	log "note: worker not ready (first round not done) after the warm-up"

log "measuring for ${BENCH_SECONDS}s"
T0=$(now)
W_T0=$(cpu_ticks "$PID_WORKER")
B_T0=$(cpu_ticks "$PID_BB")
F_T0=$(cpu_ticks "$PID_FAKE")
P_T0=$(cpu_ticks "$PID_PROM")
scrape "http://127.0.0.1:$P_WORKER/metrics" "$WORK/worker-0.prom"
scrape "http://127.0.0.1:$P_BB/metrics" "$WORK/blackbox-0.prom"
W_RSS0=$(rss_kib "$PID_WORKER") B_RSS0=$(rss_kib "$PID_BB")
if [[ -n $BENCH_PPROF ]]; then
	PROF_SECONDS=$((BENCH_SECONDS > 55 ? 50 : BENCH_SECONDS - 5))
	cp "$WORK/llmprobe" "$BENCH_PPROF/llmprobe"
	curl -fsS --max-time $((PROF_SECONDS + 20)) -o "$BENCH_PPROF/worker-cpu.pprof" \
		"http://127.0.0.1:$P_WORKER/debug/pprof/profile?seconds=$PROF_SECONDS" &
	PID_PROF=$!
fi
W_RSS_MAX=$W_RSS0 B_RSS_MAX=$B_RSS0 SAMPLES=0
END=$(calc "%.3f" "$T0 + $BENCH_SECONDS")
while awk -v e="$END" -v t="$(now)" 'BEGIN { exit !(t < e) }'; do
	r=$(rss_kib "$PID_WORKER")
	((r > W_RSS_MAX)) && W_RSS_MAX=$r
	r=$(rss_kib "$PID_BB")
	((r > B_RSS_MAX)) && B_RSS_MAX=$r
	SAMPLES=$((SAMPLES + 1))
	sleep "$(awk -v e="$END" -v t="$(now)" 'BEGIN { l = e - t; if (l > 1) l = 1; if (l < 0) l = 0; printf "%.3f\n", l }')"
done
W_RSS1=$(rss_kib "$PID_WORKER") B_RSS1=$(rss_kib "$PID_BB")
((W_RSS1 > W_RSS_MAX)) && W_RSS_MAX=$W_RSS1
((B_RSS1 > B_RSS_MAX)) && B_RSS_MAX=$B_RSS1
W_T1=$(cpu_ticks "$PID_WORKER")
B_T1=$(cpu_ticks "$PID_BB")
F_T1=$(cpu_ticks "$PID_FAKE")
P_T1=$(cpu_ticks "$PID_PROM")
T1=$(now)
scrape "http://127.0.0.1:$P_WORKER/metrics" "$WORK/worker-1.prom"
scrape "http://127.0.0.1:$P_BB/metrics" "$WORK/blackbox-1.prom"
WALL=$(calc "%.3f" "$T1 - $T0")
if [[ -n $BENCH_PPROF ]]; then
	wait "$PID_PROF" || log "note: the CPU profile failed"
	curl -fsS --max-time 20 -o "$BENCH_PPROF/worker-heap.pprof" "http://127.0.0.1:$P_WORKER/debug/pprof/heap" ||
		log "note: the heap profile failed"
fi
WIN=$(calc "%d" "$WALL + 0.5")

# --- figures ---------------------------------------------------------------------
w0=$WORK/worker-0.prom w1=$WORK/worker-1.prom
W_PROBES=$(calc "%d" "$(msum "$w1" llmprobe_probes_total) - $(msum "$w0" llmprobe_probes_total)")
W_OK=$(calc "%d" "$(msum "$w1" llmprobe_probes_total 'outcome="success"') - $(msum "$w0" llmprobe_probes_total 'outcome="success"')")
W_SKIP=$(calc "%d" "$(msum "$w1" llmprobe_probes_skipped_total) - $(msum "$w0" llmprobe_probes_skipped_total)")
W_CPU=$(calc "%.3f" "($W_T1 - $W_T0) / $CLK_TCK")
W_CPU_METRIC=$(calc "%.3f" "$(msum "$w1" process_cpu_seconds_total) - $(msum "$w0" process_cpu_seconds_total)")
W_G0=$(msum "$w0" go_goroutines) W_G1=$(msum "$w1" go_goroutines)
W_THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$PID_WORKER/status")
W_RSS_SPLIT=$(awk '/^Rss(Anon|File):/ { printf "%s%s %.1f", sep, $1, $2 / 1024; sep = ", " }' "/proc/$PID_WORKER/status")
read -r W_P99 W_MEAN W_TOP W_LCOUNT <<<"$(lateness "$w0" "$w1" 0.99)"
read -r W_P50 _ _ _ <<<"$(lateness "$w0" "$w1" 0.50)"
W_METRICS_BYTES=$(wc -c <"$w1")
W_SERIES=$(grep -vc '^#' "$w1" || true)

b0=$WORK/blackbox-0.prom b1=$WORK/blackbox-1.prom
B_CPU=$(calc "%.3f" "($B_T1 - $B_T0) / $CLK_TCK")
B_G0=$(msum "$b0" go_goroutines) B_G1=$(msum "$b1" go_goroutines)
B_PROBES=$(promq "sum(count_over_time(probe_success[${WIN}s]))" "$T1")
B_OK=$(promq "sum(sum_over_time(probe_success[${WIN}s]))" "$T1")
B_PROBES=$(calc "%d" "${B_PROBES/NaN/0}")
B_OK=$(calc "%d" "${B_OK/NaN/0}")
B_P99DUR=$(promq "quantile(0.99, probe_duration_seconds)" "$T1")
W_GMAX=$(promq "max_over_time(go_goroutines{job=\"llmprobe\"}[${WIN}s])" "$T1")
B_GMAX=$(promq "max_over_time(go_goroutines{job=\"blackbox_exporter\"}[${WIN}s])" "$T1")
W_SCRAPE=$(promq "avg_over_time(scrape_duration_seconds{job=\"llmprobe\"}[${WIN}s])" "$T1")
# Series of the worker's duration histogram stored as native histograms:
# more than 0 only when Prometheus scraped protobuf.
W_NATIVE=$(promq "count(llmprobe_probe_duration_seconds{job=\"llmprobe\"}) or vector(0)" "$T1")
F_CPU=$(calc "%.3f" "($F_T1 - $F_T0) / $CLK_TCK")
P_CPU=$(calc "%.3f" "($P_T1 - $P_T0) / $CLK_TCK")

W_WARN=$(grep -c 'level=WARN' "$WORK/worker.log" || true)
W_ERR=$(grep -c 'level=ERROR' "$WORK/worker.log" || true)
W_LOGLINES=$(wc -l <"$WORK/worker.log")

share() { calc "%.1f%%" "100 * $1 / $WALL"; }
perprobe() { if (($2 > 0)); then calc "%.0f" "1e6 * $1 / $2"; else echo n/a; fi; }
ratio() { if (($2 > 0)); then calc "%.2f%%" "100 * $1 / $2"; else echo n/a; fi; }
rate() { calc "%.1f" "$1 / $WALL"; }
mib() { calc "%.1f" "$1 / 1024"; }
ms() { case $1 in n/a | NaN) echo n/a ;; ">"*) echo ">$(calc "%.0f" "1000 * ${1#>}") (+Inf bucket)" ;; *) calc "%.2f" "1000 * $1" ;; esac; }
g() { calc "%d" "${1/NaN/0}"; }
gmax() { awk -v a="${1/NaN/0}" -v b="$2" -v c="$3" 'BEGIN { m = a + 0; if (b + 0 > m) m = b + 0; if (c + 0 > m) m = c + 0; printf "%d\n", m }'; }

echo
echo "llmprobe bench/worker.sh: $BENCH_CHECKS checks at ${BENCH_INTERVAL}s, window ${WALL}s after ${BENCH_WARMUP}s warm-up"
echo "machine: $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg), $(go version | awk '{print $3, $4}'), $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR == 1 {print "blackbox_exporter", $3}')"
[[ -n $BENCH_WORKER_ENV ]] && echo "worker environment: $BENCH_WORKER_ENV"
echo "Prometheus scrapes the worker's /metrics: $([[ $BENCH_SCRAPE_WORKER == 1 ]] && echo "yes, every ${BENCH_INTERVAL}s, as $BENCH_SCRAPE_FORMAT" || echo no)"
echo "request mix (both): $KEYED x GET /models with key, $UNKEYED x GET /models without key, $KEYED x POST /chat/completions, $KEYED x POST /chat/completions stream"
echo
{
	printf '%s\t%s\t%s\n' "" "llmprobe run" "blackbox_exporter"
	printf '%s\t%s\t%s\n' "checks / targets" "$BENCH_CHECKS" "$nbb"
	printf '%s\t%s\t%s\n' "probes in window" "$W_PROBES" "$B_PROBES"
	printf '%s\t%s\t%s\n' "probes/s (target $(calc "%.1f" "$BENCH_CHECKS / $BENCH_INTERVAL"))" "$(rate "$W_PROBES")" "$(rate "$B_PROBES")"
	printf '%s\t%s\t%s\n' "success" "$(ratio "$W_OK" "$W_PROBES")" "$(ratio "$B_OK" "$B_PROBES")"
	printf '%s\t%s\t%s\n' "CPU seconds in window" "$W_CPU" "$B_CPU"
	printf '%s\t%s\t%s\n' "CPU share of one core" "$(share "$W_CPU")" "$(share "$B_CPU")"
	printf '%s\t%s\t%s\n' "CPU per probe (us)" "$(perprobe "$W_CPU" "$W_PROBES")" "$(perprobe "$B_CPU" "$B_PROBES")"
	printf '%s\t%s\t%s\n' "RSS start/end/max (MiB)" "$(mib "$W_RSS0")/$(mib "$W_RSS1")/$(mib "$W_RSS_MAX")" "$(mib "$B_RSS0")/$(mib "$B_RSS1")/$(mib "$B_RSS_MAX")"
	printf '%s\t%s\t%s\n' "goroutines start/end/max" "$(g "$W_G0")/$(g "$W_G1")/$(gmax "$W_GMAX" "$W_G0" "$W_G1")" "$(g "$B_G0")/$(g "$B_G1")/$(gmax "$B_GMAX" "$B_G0" "$B_G1")"
	printf '%s\t%s\t%s\n' "p99 schedule lateness (ms)" "$(ms "$W_P99")" "-"
	printf '%s\t%s\t%s\n' "p50 / mean lateness (ms)" "$(ms "$W_P50") / $(ms "$W_MEAN")" "-"
	printf '%s\t%s\t%s\n' "highest lateness bucket hit (s)" "le=$W_TOP" "-"
} | awk -F'\t' '{ printf "  %-34s %-22s %s\n", $1, $2, $3 }'
echo
echo "worker detail: process_cpu_seconds_total delta ${W_CPU_METRIC}s; skipped probes $W_SKIP; lateness observations $W_LCOUNT;" \
	"OS threads $W_THREADS; RSS sampled $SAMPLES times; /metrics $(calc "%.1f" "$W_METRICS_BYTES / 1048576") MiB, $W_SERIES samples," \
	"Prometheus scrape $(ms "$W_SCRAPE") ms avg, native duration histograms stored $W_NATIVE; log: $W_LOGLINES lines, WARN $W_WARN, ERROR $W_ERR"
mibm() { calc "%.1f" "$(msum "$w1" "$1") / 1048576"; }
echo "worker memory at the end (MiB): heap in use $(mibm go_memstats_heap_inuse_bytes), heap idle $(mibm go_memstats_heap_idle_bytes)" \
	"(released to the OS $(mibm go_memstats_heap_released_bytes)), next GC at $(mibm go_memstats_next_gc_bytes)," \
	"stacks $(mibm go_memstats_stack_inuse_bytes); RSS $W_RSS_SPLIT; runtime other $(calc "%.1f" "($(msum "$w1" go_memstats_sys_bytes) - $(msum "$w1" go_memstats_heap_sys_bytes) - $(msum "$w1" go_memstats_stack_sys_bytes)) / 1048576")"
echo "blackbox detail: p99 probe_duration_seconds at the end $(ms "$B_P99DUR") ms"
echo "not counted: fake providers $(share "$F_CPU") of a core, Prometheus $(share "$P_CPU") of a core"
if ((W_WARN + W_ERR > 0)); then
	echo "worker WARN/ERROR messages (distinct, first 5):"
	grep -E 'level=(WARN|ERROR)' "$WORK/worker.log" | sed 's/^time=[^ ]* //; s/request_id=[^ ]*//; s/edge_ray=[^ ]*//' |
		sort | uniq -c | sort -rn | head -n 5 | sed 's/^/  /'
fi
if [[ -n $BENCH_PPROF ]]; then
	echo
	echo "profiles in $BENCH_PPROF (CPU over ${PROF_SECONDS}s of the window; heap at its end):"
	for p in "cpu -top" "heap -sample_index=inuse_space -top" "heap -sample_index=alloc_space -top"; do
		read -r kind args <<<"$p"
		[[ -s $BENCH_PPROF/worker-$kind.pprof ]] || continue
		# shellcheck disable=SC2086
		go tool pprof $args -nodecount=15 "$BENCH_PPROF/llmprobe" "$BENCH_PPROF/worker-$kind.pprof" 2>/dev/null |
			sed -n '/^Showing nodes/,$p' | sed 's/^/  /'
	done
fi
