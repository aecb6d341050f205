#!/usr/bin/env bash
# bench/slowclients.sh: how late a worker's probes start, and whether any
# fails, while 2,000 slow clients hold its HTTP port; the worker runs under
# a descriptor limit of 1,024 (ulimit -n), first alone for a window, then
# under the clients for another. Flags go to bench/slowclients (Go):
#   -checks 300 -interval 15s -timeout 10s -concurrency 64 -clients 2000
#   -window 60s -nofile 1024 -keep
# Everything listens on 127.0.0.1; every process it starts is stopped on
# exit. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench/slowclients "$@"
