# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh: the shell functions the benchmark scripts share (bench/run,
# bench/compare, bench/callgrind), sourced by them. They expect $build (m2md,
# m2mctl, m2m-sim there), $src (the source tree), $world (a scratch
# directory), $port (m2md's UDP port; its metrics on the next), $hz
# (getconf CLK_TCK) and a note function for messages; m2md_up sets $pid.

# GET /metrics over bash's /dev/tcp (no curl needed), body only.
metrics() {
	local line body=0
	exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))" || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
	while IFS= read -r line <&3 || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [ $body = 1 ]; then printf '%s\n' "$line"; elif [ -z "$line" ]; then body=1; fi
	done
	exec 3<&-
}
# m NAME FILE: a counter (m2md_NAME_total) or gauge (m2md_NAME), unlabelled.
m() { awk -v a="m2md_$1_total" -v b="m2md_$1" '$1 == a || $1 == b { print $2; exit }' "$2"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# CPU ticks of m2md's threads whose name starts with $1 (m2md-w, hsm-pool-).
thread_ticks() {
	local t n=0
	for t in /proc/"$pid"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		"$1"*) n=$((n + $(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null || echo 0))) ;;
		esac
	done
	echo $n
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
# CPU ticks of PostgreSQL: the postmaster with its reaped children (autovacuum
# workers come and go) and its processes (m2md's connections stay).
pg_ticks() {
	local p n
	n=$(awk '{ print $16 + $17 }' "/proc/$pm/stat")
	for p in $pm $(ps -o pid= --ppid "$pm"); do
		n=$((n + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $n
}
# Checkpoints so far: after one, the first change of each page writes the
# whole page to the WAL, which random updates across a large table feel.
checkpoints() { psql -XAtc "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"; }
# Datagrams the kernel dropped for a full socket receive buffer (all sockets).
udp_drops() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp; }	# RcvbufErrors
# Ticks of cpu0, then cpu1, from /proc/stat: busy (user, nice, system, irq,
# softirq), idle (with iowait) and stolen (given by the hypervisor to others).
cores() { awk '$1 == "cpu0" || $1 == "cpu1" { printf "%d %d %d ", $2+$3+$4+$7+$8, $5+$6, $9 }' /proc/stat; }
# jn KEY FILE: a number from m2m-sim's JSON report: "handshakes.ok", "latency.handshake.p99".
jn() {
	case $1 in
	latency.*) local k=${1#latency.}
		sed -n "s/^ *\"${k%%.*}\": {.*\"${k#*.}\": \([0-9.]*\).*/\1/p" "$2" | head -n 1 ;;
	*.*) sed -n "s/^ *\"${1%%.*}\": {.*\"${1#*.}\": \([0-9.]*\).*/\1/p" "$2" | head -n 1 ;;
	*) sed -n "s/^ *\"$1\": \([0-9.]*\).*/\1/p" "$2" ;;
	esac
}
calc() { awk "BEGIN { printf \"$1\\n\", $2 }"; }
lat() {	# lat KIND FILE: "p50 / p90 / p99 / p99.9 / max" in ms
	local f=$2 k=$1
	calc "%.2f / %.2f / %.2f / %.2f / %.2f" "$(jn latency.$k.p50 "$f")/1000, \
$(jn latency.$k.p90 "$f")/1000, $(jn latency.$k.p99 "$f")/1000, \
$(jn latency.$k.p99.9 "$f")/1000, $(jn latency.$k.max "$f")/1000"
}
lag() {	# lag FILE: m2m-sim's read lag "p50 / p99" in ms
	calc "%.2f / %.2f" "$(jn latency.read_lag.p50 "$1")/1000, $(jn latency.read_lag.p99 "$1")/1000"
}
# hq NAME HIST Q: the Q quantile, in ms, of m2md's histogram HIST (rx_wait,
# handshake, db_lookup, hsm_derive, db_commit) over phase NAME, from its
# buckets' growth, linear within a bucket as Prometheus' histogram_quantile.
hq() {
	awk -v h="m2md_$2_seconds_bucket{" -v q="$3" '
	index($0, h) != 1 { next }
	FNR == NR { a[$1] = $2; next }
	{ le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); b[++n] = le; c[n] = $2 - a[$1] }
	END {
		if (n == 0 || c[n] == 0) { print "-"; exit }
		r = q * c[n]; prev = 0; lo = 0
		for (i = 1; i <= n; i++) {
			if (c[i] >= r && c[i] > prev) {
				if (b[i] == "+Inf") { printf ">%g\n", lo * 1000; exit }
				printf "%.2f\n", (lo + (b[i] - lo) * (r - prev) / (c[i] - prev)) * 1000
				exit
			}
			prev = c[i]; lo = b[i]
		}
	}' "$world/$1.m0" "$world/$1.m1"
}
# stages NAME Q: m2md's own stages at quantile Q over phase NAME, in ms.
stages() {
	echo "$(hq "$1" rx_wait "$2") / $(hq "$1" handshake "$2") / $(hq "$1" db_lookup "$2") /" \
		"$(hq "$1" hsm_derive "$2") / $(hq "$1" db_commit "$2")"
}


# phase NAME SIM-ARGS...: runs m2m-sim on core 1 against m2md; leaves the
# figures in $world/NAME.{json,m0,m1} and sets ph_* for the caller. The
# figures start once m2m-sim has made its keys (it says so on stderr).
phase() {
	local name=$1 c0 c1 t0 t1 g0 g1 d0 d1 spid
	shift
	set +e
	taskset -c 1 "$build/m2m-sim" --server "127.0.0.1:$port" \
		--credentials "$world/creds" --threads 1 --json --quiet \
		--timeout 1000 "$@" > "$world/$name.json" 2> "$world/$name.err" &
	spid=$!
	case " $* " in *" --precompute "*)
		until grep -qs "keys precomputed" "$world/$name.err" || ! kill -0 $spid 2>/dev/null; do
			sleep 0.01
		done ;;
	esac
	metrics > "$world/$name.m0"
	t0=$(date +%s.%N); c0=$(cpu_ticks); read -r b0 i0 s0 b1 i1 s1 <<< "$(cores)"
	g0=$(pg_ticks); d0=$(udp_drops); k0=$(checkpoints)
	wait $spid
	ph_rc=$?
	set -e
	c1=$(cpu_ticks); t1=$(date +%s.%N); read -r b0e i0e s0e b1e i1e s1e <<< "$(cores)"
	g1=$(pg_ticks); d1=$(udp_drops); k1=$(checkpoints)
	ph_sim_s=$(jn cpu_s "$world/$name.json")
	ph_pg_s=$(calc "%.4f" "($g1 - $g0) / $hz")
	ph_drops=$((d1 - d0))
	ph_ckpt=$((k1 - k0))
	metrics > "$world/$name.m1"
	ph_wall=$(calc "%.3f" "$t1 - $t0")
	ph_cpu_s=$(calc "%.4f" "($c1 - $c0) / $hz")
	ph_cpu_pct=$(calc "%.0f" "100 * $ph_cpu_s / $ph_wall")
	ph_hs=$(( $(m handshakes_completed "$world/$name.m1") - $(m handshakes_completed "$world/$name.m0") ))
	ph_data=$(( $(m data_acked "$world/$name.m1") - $(m data_acked "$world/$name.m0") ))
	ph_batches=$(( $(m db_batches "$world/$name.m1") - $(m db_batches "$world/$name.m0") ))
	ph_items=$(( $(m db_batch_items "$world/$name.m1") - $(m db_batch_items "$world/$name.m0") ))
	ph_el=$(jn elapsed_s "$world/$name.json")
	ph_err=$(jn errors.total "$world/$name.json")
	ph_retx=$(jn retransmissions "$world/$name.json")
	ph_core0=$(calc "%.0f" "100 * ($b0e - $b0) / ($b0e - $b0 + $i0e - $i0 + $s0e - $s0 + 1e-9)")
	ph_core1=$(calc "%.0f" "100 * ($b1e - $b1) / ($b1e - $b1 + $i1e - $i1 + $s1e - $s1 + 1e-9)")
	# Time the hypervisor gave to others: a tail that comes with it is the box's.
	ph_steal=$(calc "%.1f" "100 * ($s0e - $s0 + $s1e - $s1) / ($b0e - $b0 + $i0e - $i0 + $s0e - $s0 + $b1e - $b1 + $i1e - $i1 + $s1e - $s1 + 1e-9)")
	[ -n "$ph_el" ] || { cat "$world/$name.err" >&2; note "m2m-sim failed in phase $name"; exit 1; }
	if [ "$ph_rc" != 0 ] || [ "$ph_err" != 0 ]; then
		note "phase $name: m2m-sim exit $ph_rc, $ph_err errors (kept in the report)"
		sed -n '/"errors"/p' "$world/$name.json" >&2
	fi
	kill -0 "$pid" 2>/dev/null || { cat "$world/m2md.log" >&2; note "m2md died in phase $name"; exit 1; }
}

# world_up MODULES WORKERS POOL: a SoftHSM2 token with the server key, the
# database PG* points at migrated, MODULES enrolled ($world/creds), and
# $world/m2md.conf; sourced $world/env; PostgreSQL pinned to core 1 ($pm
# its postmaster).
world_up() {
	local p
	"$src/tests/server/setup-world" "$world" "$build" "$src" "$1" "$port" "$2"
	. "$world/env"
	# m2md reaches PostgreSQL over its Unix socket, as on a machine running both
	# (the throwaway cluster allows only peer authentication there: password it).
	sockdir=$(psql -XAtc "SHOW unix_socket_directories" | cut -d, -f1)
	sed -i "1i local all all scram-sha-256" "$(psql -XAtc "SHOW hba_file")"
	psql -XAtqc "SELECT pg_reload_conf()" >/dev/null
	sed -i -e "s|^conninfo =.*|conninfo = host=$sockdir|" \
		-e "s|^pool_threads = .*|pool_threads = $3|" "$world/m2md.conf"
	grep -q "^pool_threads = $3\$" "$world/m2md.conf" ||
		{ note "setup-world's m2md.conf has no pool_threads line to set"; exit 1; }
	# PostgreSQL shares core 1 with the simulator: core 0 is m2md's alone.
	pgdata=$(psql -XAtc "SHOW data_directory")
	pm=$(head -n 1 "$pgdata/postmaster.pid")
	for p in $pm $(ps -o pid= --ppid "$pm"); do taskset -a -p -c 1 "$p" >/dev/null 2>&1 || :; done
}

# m2md_up [WRAPPER...]: m2md on core 0 (under WRAPPER, e.g. valgrind), its
# log in $world/m2md.log; returns once its metrics page answers (polled
# every 50 ms, at most $m2md_wait times: default 200, 10 s).
m2md_up() {
	local i
	taskset -c 0 "$@" "$build/m2md" -f -c "$world/m2md.conf" 2> "$world/m2md.log" &
	pid=$!
	i=0
	until metrics > /dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt "${m2md_wait:-200}" ] || { cat "$world/m2md.log" >&2; note "m2md did not start"; exit 1; }
		sleep 0.05
	done
}

# machine: the line that describes the box in a report.
machine() {
	echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores" \
		"($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)," \
		"$(awk '$1 == "MemTotal:" { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
		"$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | sed 's/.\+/hypervisor &,/')" \
		"Linux $(uname -r)"
}

# install_missing PACKAGE...: Debian packages a benchmark needs, installed
# with apt-get when missing (as root, or through sudo), as tools/quickstart does.
install_missing() {
	local p missing=
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	note "installing$missing"
	# shellcheck disable=SC2086
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
	else
		sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
	fi >&2
}

# tls_world: in $world/tls, a P-256 CA, a server certificate for 127.0.0.1
# and a client certificate, made now; the server key also imported into the
# world's token (label nginx, with its certificate, as the pkcs11 engine
# finds an EC key's public half), and an OpenSSL configuration loading the
# pkcs11 engine on SoftHSM2 ($world/tls/openssl.cnf).
tls_world() {
	local d=$world/tls n ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
	mkdir -p "$d"
	# shellcheck disable=SC2086
	openssl req -x509 -new $ec -keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=bench-ca \
		-days 2 2>/dev/null
	for n in server client; do
		# shellcheck disable=SC2086
		openssl req -new $ec -keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=bench-$n" 2>/dev/null
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -out "$d/$n.crt" \
			-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') 2>/dev/null
	done
	softhsm2-util --import "$d/server.key" --token m2m --label nginx --id 6e67 \
		--pin "$(cat "$world/pin")" >/dev/null
	openssl x509 -in "$d/server.crt" -outform der -out "$d/server.der"
	pkcs11-tool --module "$M2M_PKCS11_MODULE" --token-label m2m --login \
		--pin "$(cat "$world/pin")" --write-object "$d/server.der" --type cert \
		--id 6e67 --label nginx >/dev/null 2>&1
	cat > "$d/openssl.cnf" <<CNF
openssl_conf = init
[init]
engines = engines
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
dynamic_path = $(openssl version -e | sed 's/^ENGINESDIR: "\(.*\)"$/\1/')/pkcs11.so
MODULE_PATH = $M2M_PKCS11_MODULE
PIN = $(cat "$world/pin")
init = 1
CNF
}

# nginx_conf NAME PORT KEY: $world/NAME/nginx.conf, nginx 1.22 as the TLS
# peer: TLS 1.3 only, P-256, the client's certificate required, no tickets
# and no session cache (every connection a full handshake), one worker on
# core 0, a 3-byte answer to any request. KEY: a file or engine:pkcs11:URI.
nginx_conf() {
	local d=$world/$1
	mkdir -p "$d"
	cat > "$d/nginx.conf" <<CONF
$([ "$(id -u)" -ne 0 ] || echo "user root;")
worker_processes 1;
worker_cpu_affinity 1;
pid $d/nginx.pid;
error_log $d/error.log;
env SOFTHSM2_CONF;
env OPENSSL_CONF;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $d/body;
	server {
		listen 127.0.0.1:$2 ssl;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve prime256v1;
		ssl_certificate $world/tls/server.crt;
		ssl_certificate_key "$3";
		ssl_client_certificate $world/tls/ca.crt;
		ssl_verify_client on;
		ssl_session_tickets off;
		ssl_session_cache off;
		location / { return 200 "ok\n"; }
	}
}
CONF
}
