#!/usr/bin/env bash
# End-to-end benchmark: vpcd against the Linux kernel on the same path.
#
# Path measured in both cases: a client in a private network (10.0.2.10) sends to a
# server on the "internet" (203.0.113.10) through stateful filtering and source NAT to
# 198.51.100.20; the server has no route back to 10.0.2.0/24, so nothing works
# without the NAT.
#
#   kernel  client ns --veth-- router ns --veth-- server ns
#           The router forwards (ip_forward=1) with nftables: a filter forward chain
#           that accepts ct state established,related and new tcp/udp 5201 and ping
#           from the client side (what the security group allows), and a nat
#           postrouting chain that masquerades to 198.51.100.20. Default veth offloads
#           (TSO/GSO), i.e. what a user gets.
#   vpcd    config/bench.toml: instance `client` in a private subnet, whose route
#           table sends 0.0.0.0/0 to a NAT gateway (Elastic IP 198.51.100.20) in a
#           public subnet, whose route table sends it to the internet gateway; a
#           security group with connection tracking, a network ACL on each subnet,
#           internet host `server`. Both ends are TUN devices owned by vpcd, which
#           forwards every packet in userspace.
#
# Tests (iperf3, client pinned to CPU 0 and server to CPU 1 with taskset; vpcd and
# the kernel's forwarding run wherever the scheduler puts them), each DURATION seconds
# (default 5), REPEAT times (default 5), the median is reported:
#   tcp-1      one TCP stream, client -> server: Gbit/s received by the server
#              (iperf3 end.sum_received.bits_per_second)
#   tcp-4      four parallel TCP streams (-P 4): Gbit/s received, summed
#   udp64-pps  UDP, 64-byte payloads (92-byte IP packets), sent as fast as the client
#              can (-b 0): datagrams per second that reached the server's UDP layer
#              (its namespace's Udp InDatagrams + InErrors; see udp_arrived); the
#              iperf3 server's own count (udp_pps) is shown in the report
# During each vpcd test the script also measures vpcd's CPU time (user + system, all
# threads, /proc/PID/stat) over the wall time of the iperf3 client run, as a
# percentage of one core (200 % = both cores of a 2-core machine), and vpcd's work per
# core: the packets it read from its ports (`vpcctl counters`, rx over every port; a
# superpacket counts as its segments) per CPU-second it used, which compares across
# machines and loads. For both topologies it counts the client-side drops: packets the
# client's kernel could not queue on its eth0 (for vpcd: what vpcd did not read in time).
#
# Reading the ratio: ratio = vpcd / kernel for the same test on the same machine in
# the same run. 1.00 means vpcd moves as much as the kernel does on the same path;
# 0.25 means a quarter of it. It compares whole paths, not forwarders alone:
#   - kernel: the client's sends run the forwarding (routing, conntrack, NAT) and the
#     server's TCP/UDP receive processing in softirq on the client's CPU 0; veths
#     carry GSO super-packets (up to 64 KiB: one forwarding decision for ~45
#     segments). The server sees some reordering (ACKs handled on the other CPU can
#     make the sender transmit from both CPUs), so the sender counts retransmits
#     although no veth drops anything (see the report's counters).
#   - vpcd: the client's sends stop at its TUN device's queue; vpcd (any CPU, shared
#     with the client and the server) reads every packet, runs the dataplane and writes
#     it to the server's TUN device, whose receive processing runs in vpcd's write.
#     Whether the TUN devices carry GSO super-packets (vnet_hdr) depends on the vpcd
#     build; the report shows the client's `vnet_hdr on|off`. Packets vpcd does not
#     read in time are dropped by the client's kernel (client eth0 TX dropped).
#   - udp64-pps: on 2 cores the iperf3 server's receive rate is often the limit on
#     both sides (server UDP receive-buffer errors in the report).
# On a 2-core machine the client, the server and the forwarder compete for the cores,
# so absolute numbers are low and move with any other load (the report prints the
# load average); compare ratios from one run on a quiet machine.
#
# Output: progress on stderr; on stdout, where packets were lost (kernel and device
# counters, the router's nftables counters, vpcctl counters and nat-gateways), a
# table, then exactly one `RESULT <test> vpcd=<v> kernel=<v> unit=<u> ratio=<r>` line
# per test, one `CPU vpcd <test>=<pct>% ...` line, one `WORK vpcd <test>=<packets per
# CPU-second> ...` line and one `DROPS client <test>=<kernel>/<vpcd> ...` line (medians
# per run).
#
# Usage (as root):  scripts/bench-e2e.sh
#   DURATION=10 REPEAT=3 scripts/bench-e2e.sh
#   VPCD=/path/to/vpcd [VPCCTL=/path/to/vpcctl] scripts/bench-e2e.sh   (no build)
#   THREADS=2 scripts/bench-e2e.sh         (vpcd run --threads 2; default 1)
#   IO=xdp scripts/bench-e2e.sh            (vpcd run --io xdp: AF_XDP ports; default tun)
#   TESTS="udp64-pps" scripts/bench-e2e.sh (a subset of the tests)
#   PERF=/some/dir scripts/bench-e2e.sh    (an extra, uncounted run of each test under
#                                           perf record; a report per test in that dir)
# Everything it creates (namespaces named vb<pid>-..., veths inside them, the daemon,
# iperf3 servers, a temporary directory) is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C   # "." as the decimal separator for printf, awk and $EPOCHREALTIME

REPO=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-5}
REPEAT=${REPEAT:-5}
PORT=5201
read -r -a TESTS <<<"${TESTS:-tcp-1 tcp-4 udp64-pps}"
THREADS=${THREADS:-1}
IO=${IO:-tun}

# Addresses, the same in both topologies.
CLIENT_IP=10.0.2.10
ROUTER_IN=10.0.2.1
NAT_IP=198.51.100.20
SERVER_IP=203.0.113.10

# Every namespace this run creates starts with PREFIX.
PREFIX="vb$$-"
K_CLIENT="${PREFIX}k-client"
K_ROUTER="${PREFIX}k-router"
K_SERVER="${PREFIX}k-server"
V_PREFIX="${PREFIX}v-"           # vpcd --netns-prefix: namespaces ${V_PREFIX}client, ...server
V_CLIENT="${V_PREFIX}client"
V_SERVER="${V_PREFIX}server"

TMP=""
VPCD_SOURCE=""
LOAD_BEFORE=""
VPCD_PID=""
IPERF_PID=""
KERNEL_UP=0
declare -A RESULTS=()   # "kernel tcp-1" -> "v1 v2 v3"
declare -A EXTRA=()     # "vpcd tcp-1"   -> per-run details for the table
declare -A CPU=()       # "tcp-1"        -> "pct1 pct2 pct3"
declare -A WORK=()      # "tcp-1"        -> vpcd's packets per CPU-second, per run
declare -A DROPS=()     # "kernel tcp-1" -> client eth0 TX drops, per run

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-e2e: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites

check_prerequisites() {
    [ "$(id -u)" -eq 0 ] || die "run as root: it creates network namespaces and TUN devices (e.g. sudo -E env \"PATH=\$PATH\" $0)"
    local missing=() packages=() tool pkg
    for tool in iperf3:iperf3 nft:nftables jq:jq ip:iproute2 ss:iproute2 taskset:util-linux \
        ping:iputils-ping getconf:libc-bin sysctl:procps; do
        pkg=${tool#*:}
        tool=${tool%%:*}
        if ! command -v "$tool" >/dev/null; then
            missing+=("$tool")
            [[ " ${packages[*]} " == *" $pkg "* ]] || packages+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        printf 'bench-e2e: missing %s: apt-get install -y %s\n' "${missing[*]}" "${packages[*]}" >&2
        exit 1
    fi
    [ "$(nproc)" -ge 2 ] || die "needs at least 2 CPUs (client on CPU 0, server on CPU 1)"
    [[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive number of seconds"
    [[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer"
}

build_vpcd() {
    if [ -n "${VPCD:-}" ]; then
        [ -x "$VPCD" ] || die "VPCD=$VPCD is not an executable"
        VPCCTL=${VPCCTL:-$(dirname "$VPCD")/vpcctl}
    else
        command -v cargo >/dev/null || die "cargo not found (or give VPCD=/path/to/vpcd)"
        log "cargo build --release --locked -p vpcd -p vpcctl"
        (cd "$REPO" && cargo build --release --locked -p vpcd -p vpcctl) >&2
        local target=${CARGO_TARGET_DIR:-$REPO/target}
        VPCD=$target/release/vpcd
        VPCCTL=${VPCCTL:-$target/release/vpcctl}
    fi
    [ -x "$VPCCTL" ] || VPCCTL=$(command -v vpcctl || true)
    if [ -z "$VPCCTL" ] || [ ! -x "$VPCCTL" ]; then
        die "vpcctl not found next to $VPCD (set VPCCTL=)"
    fi
    # Run private copies: a cargo build elsewhere in the tree during the benchmark
    # must not replace the binary between two tests.
    cp "$VPCD" "$TMP/vpcd"
    cp "$VPCCTL" "$TMP/vpcctl"
    VPCD_SOURCE=$VPCD
    VPCD=$TMP/vpcd
    VPCCTL=$TMP/vpcctl
    "$VPCD" check "$REPO/config/bench.toml" >&2
}

# ---------------------------------------------------------------- cleanup

stop_iperf_server() {
    if [ -n "$IPERF_PID" ]; then
        kill "$IPERF_PID" 2>/dev/null || true
        wait "$IPERF_PID" 2>/dev/null || true
        IPERF_PID=""
    fi
}

# Our namespaces still present (kernel ones, and vpcd's if it could not remove them).
our_namespaces() {
    ip netns list | awk -v p="$PREFIX" 'index($1, p) == 1 { print $1 }'
}

stop_vpcd() {
    [ -n "$VPCD_PID" ] || return 0
    kill -TERM "$VPCD_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$VPCD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$VPCD_PID" 2>/dev/null; then
        echo "bench-e2e: vpcd (pid $VPCD_PID) ignored SIGTERM for 10 s; SIGKILL" >&2
        kill -KILL "$VPCD_PID" 2>/dev/null || true
    fi
    local rc=0
    wait "$VPCD_PID" 2>/dev/null || rc=$?
    VPCD_PID=""
    if [ "$rc" -ne 0 ]; then
        echo "bench-e2e: vpcd exited with status $rc; the end of its log:" >&2
        tail -n 20 "$TMP/vpcd.log" >&2
    fi
}

kernel_teardown() {
    [ "$KERNEL_UP" -eq 1 ] || return 0
    local ns
    for ns in "$K_CLIENT" "$K_ROUTER" "$K_SERVER"; do
        # Deleting a namespace deletes the veth ends in it, and so their peers.
        ip netns del "$ns" 2>/dev/null || true
    done
    KERNEL_UP=0
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    stop_iperf_server
    if [ "$rc" -ne 0 ] && [ -n "$VPCD_PID" ] && [ -s "$TMP/vpcd.log" ]; then
        echo "bench-e2e: failed while vpcd ran; the end of its log:" >&2
        tail -n 20 "$TMP/vpcd.log" >&2
    fi
    stop_vpcd
    kernel_teardown
    local ns
    for ns in $(our_namespaces); do
        echo "bench-e2e: removing leftover namespace $ns" >&2
        ip netns del "$ns"
    done
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$rc"
}

# ---------------------------------------------------------------- measuring

# CPU time (utime + stime, in clock ticks) of a process. /proc/PID/stat of a process
# sums all its threads, including threads that have exited. The command name can hold
# spaces and parentheses, so fields are counted after the last ')'.
cpu_ticks() {
    local line rest fields
    read -r line <"/proc/$1/stat"
    rest=${line##*) }
    read -r -a fields <<<"$rest"
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    echo $((fields[11] + fields[12]))
}

# Median of numbers (the mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Receiver-side throughput of a TCP test, Gbit/s: what the server received, as the
# server reported it to the client (end.sum_received, summed over the streams).
tcp_gbps() {
    jq -r '.end.sum_received.bits_per_second / 1e9' "$1"
}

# Datagrams per second that reached the iperf3 server in a UDP test. iperf3 3.12's
# client JSON has, in end.sum_received, the server's own figures: `packets` is the
# highest sequence number the server received, `lost_packets` the gaps in the sequence
# (an out-of-order arrival closes its gap again), `seconds` the server's receiving
# time. packets - lost_packets is therefore the datagrams received. Datagrams dropped
# after the last one that arrived are in neither figure; at DURATION >= 5 s they are
# noise. (end.sum.packets is the client's *sent* count, which includes everything
# dropped on the way - by the sender's own queue, the forwarder or the receiver's
# socket buffer - so it is not used; end.sum_sent.packets/seconds is shown as "offered".)
udp_pps() {
    jq -r '.end.sum_received | (.packets - .lost_packets) / .seconds' "$1"
}
udp_offered_pps() {
    jq -r '.end.sum_sent | .packets / .seconds' "$1"
}

# Where packets were lost inside the kernel, for the report: the client's eth0 TX
# drops (packets the client's kernel could not queue on its device: for a TUN device,
# packets vpcd did not read in time; the qdisc's and the device's queue are full) and
# the server's UDP receive errors (datagrams that arrived but found iperf3's socket
# buffer full: the server could not read as fast as they came).
kernel_drops() {
    local client=$1 server=$2 tx
    tx=$(ip -n "$client" -s -j link show dev eth0 \
        | jq -r '.[0].stats64.tx | "\(.packets) packets, \(.dropped) dropped"')
    echo "    client eth0 TX: $tx (qdisc: $(ip netns exec "$client" tc -s qdisc show dev eth0 \
        | awk '/dropped/ { sub(/^ */, ""); print; exit }'))"
    echo "    server UDP: $(ns_counter "$server" snmp Udp InDatagrams) datagrams delivered to sockets, $(ns_counter "$server" snmp Udp RcvbufErrors) receive-buffer errors"
    echo "    server TCP: $(ns_counter "$server" snmp Tcp InSegs) segments received, $(ns_counter "$server" netstat TcpExt TCPBacklogDrop) backlog drops, $(ns_counter "$server" netstat TcpExt TCPRcvQDrop) receive-queue drops, $(ns_counter "$server" netstat TcpExt TCPOFOQueue) out of order"
}

# Counter $4 of line $3 of /proc/net/$2 (snmp or netstat) in namespace $1: each
# protocol has a line of names and then a line of values.
ns_counter() {
    ip netns exec "$1" cat "/proc/net/$2" | awk -v p="$3:" -v n="$4" '
        $1 == p && !h { for (i = 2; i <= NF; i++) name[i] = $i; h = 1; next }
        $1 == p { for (i = 2; i <= NF; i++) if (name[i] == n) print $i }'
}

# Starts the iperf3 server in namespace $1, pinned to CPU 1, and waits until it listens.
start_iperf_server() {
    local ns=$1
    ip netns exec "$ns" taskset -c 1 iperf3 -s -p "$PORT" >"$TMP/iperf3-server-$ns.log" 2>&1 &
    IPERF_PID=$!   # ip netns exec and taskset exec, so this is iperf3's pid
    for _ in $(seq 1 50); do
        if ip netns exec "$ns" ss -Hltn "sport = :$PORT" | grep -q .; then
            return 0
        fi
        kill -0 "$IPERF_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/iperf3-server-$ns.log" >&2
    die "iperf3 server in $ns did not start"
}

# Runs the iperf3 client in namespace $1 (pinned to CPU 0) against the server with
# JSON output to file $2 and extra arguments $3...; retries while the server is
# still busy with the previous test.
run_iperf_client() {
    local ns=$1 out=$2 attempt
    shift 2
    for attempt in 1 2 3 4 5; do
        if ip netns exec "$ns" taskset -c 0 iperf3 -c "$SERVER_IP" -p "$PORT" -J "$@" >"$out" 2>&1; then
            return 0
        fi
        if grep -q 'busy' "$out" && [ "$attempt" -lt 5 ]; then
            sleep 1
            continue
        fi
        echo "bench-e2e: iperf3 -c $SERVER_IP $* in $ns failed:" >&2
        jq -r '.error // empty' "$out" >&2 2>/dev/null || cat "$out" >&2
        return 1
    done
}

# Checks that the server sees the client as the NAT address, i.e. that source NAT
# (masquerade, or the NAT gateway plus internet gateway) really happens. One second of
# TCP; doubles as a warm-up.
verify_nat() {
    local topo=$1 ns=$2 seen
    run_iperf_client "$ns" "$TMP/$topo-nat-check.json" -t 1 --get-server-output \
        || die "$topo: no iperf3 connection from $ns to $SERVER_IP"
    # The server runs without -J, so its output comes back as text:
    # "Accepted connection from 198.51.100.20, port N" (its control connection).
    seen=$(jq -r '.server_output_text // ""
        | capture("Accepted connection from (?<a>[0-9.]+)").a // "nothing"' \
        "$TMP/$topo-nat-check.json")
    [ "$seen" = "$NAT_IP" ] || die "$topo: the server sees the client as $seen, expected $NAT_IP (source NAT)"
    log "$topo: the server sees the client as $seen (source NAT works)"
}

# Packets the client's kernel dropped on eth0 of namespace $1 so far (TX: it could not
# queue them; for a TUN device, vpcd did not read them in time). With IO=xdp, plus the
# frames the XDP program could not hand to vpcd's sockets (a full ring: counted as
# receive drops on vpcd's end of the veth, in its port namespace).
client_tx_dropped() {
    local tx xdp=0
    tx=$(ip -n "$1" -s -j link show dev eth0 | jq -r '.[0].stats64.tx.dropped')
    if [ "$IO" = xdp ] && [ "$1" = "$V_CLIENT" ]; then
        xdp=$(ip -n "${V_PREFIX}vpcd+ports" -s -j link show \
            | jq '[.[] | select(.ifname != "lo") | .stats64.rx.dropped] | add // 0')
    fi
    echo $((tx + xdp))
}

# Packets vpcd has read from all its ports so far (ENIs and internet hosts).
vpcd_rx_packets() {
    "$VPCCTL" --socket "$TMP/vpcd.sock" counters --json \
        | jq '[.enis[].rx_packets, .hosts[].rx_packets] | add'
}

# Datagrams that reached the UDP layer of namespace $1 so far: delivered to a socket
# or dropped there (InErrors: mostly a full receive buffer).
udp_arrived() {
    echo $(($(ns_counter "$1" snmp Udp InDatagrams) + $(ns_counter "$1" snmp Udp InErrors)))
}

# Runs every test REPEAT times against topology $1 (client namespace $2, server
# namespace $3); with a vpcd pid as $4, measures its CPU use too.
run_suite() {
    local topo=$1 ns=$2 server_ns=$3 pid=${4:-} test run out args t0 t1 c0 c1 value pct detail
    local hz u0 u1 d0 d1 p0 p1 work
    hz=$(getconf CLK_TCK)
    for test in "${TESTS[@]}"; do
        case $test in
        tcp-1) args=(-t "$DURATION") ;;
        tcp-4) args=(-t "$DURATION" -P 4) ;;
        udp64-pps) args=(-t "$DURATION" -u -l 64 -b 0) ;;
        esac
        if [ -n "$pid" ] && [ -n "${PERF:-}" ]; then
            # An extra run under perf, not counted: where vpcd's CPU time goes.
            log "$topo $test: profiling vpcd (perf record -e cpu-clock -g) into $PERF"
            perf record -q -e cpu-clock -g -p "$pid" -o "$PERF/vpcd-$test.data" \
                -- sleep "$DURATION" 2>/dev/null &
            local perf_pid=$!
            run_iperf_client "$ns" "$TMP/perf-$test.json" "${args[@]}" || die "$topo $test profile run failed"
            wait "$perf_pid" || true
            perf report -i "$PERF/vpcd-$test.data" --no-children -g none --sort dso,symbol \
                --percent-limit 1.5 --stdio 2>/dev/null | grep -v '^$' >"$PERF/vpcd-$test.txt" || true
        fi
        for run in $(seq 1 "$REPEAT"); do
            out="$TMP/$topo-$test-$run.json"
            u0=$(udp_arrived "$server_ns")
            d0=$(client_tx_dropped "$ns")
            [ -z "$pid" ] || p0=$(vpcd_rx_packets)
            [ -z "$pid" ] || c0=$(cpu_ticks "$pid")
            t0=$EPOCHREALTIME
            run_iperf_client "$ns" "$out" "${args[@]}" || die "$topo $test run $run failed"
            t1=$EPOCHREALTIME
            [ -z "$pid" ] || c1=$(cpu_ticks "$pid")
            [ -z "$pid" ] || p1=$(vpcd_rx_packets)
            d1=$(client_tx_dropped "$ns")
            u1=$(udp_arrived "$server_ns")
            case $test in
            tcp-*)
                value=$(tcp_gbps "$out")
                detail=$(jq -r '"\(.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000) Gbit/s, \(.end.sum_sent.retransmits) retransmits"' "$out")
                ;;
            udp64-pps)
                # What the forwarding path delivered to the server's kernel, whether or
                # not iperf3 then read it in time (over the sender's seconds): the
                # result. iperf3's own count is shown too; on 2 cores it is mostly the
                # iperf3 server's reading speed, the same cap on both sides.
                value=$(jq -r --argjson n $((u1 - u0)) '$n / .end.sum_sent.seconds' "$out")
                detail=$(printf "%.0f pps reached the server's UDP layer, %.0f received by iperf3, of %.0f offered" \
                    "$value" "$(udp_pps "$out")" "$(udp_offered_pps "$out")")
                ;;
            esac
            RESULTS["$topo $test"]+="$value "
            DROPS["$topo $test"]+="$((d1 - d0)) "
            detail+=", client eth0 TX drops $((d1 - d0))"
            if [ -n "$pid" ]; then
                pct=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
                    'BEGIN { printf "%.1f", (b - a) / hz / (t1 - t0) * 100 }')
                work=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n=$((p1 - p0)) \
                    'BEGIN { s = (b - a) / hz; if (s > 0) printf "%.0f", n / s; else print 0 }')
                CPU["$test"]+="$pct "
                WORK["$test"]+="$work "
                detail+=", vpcd CPU $pct%, $((p1 - p0)) packets read: $work per CPU-second"
            fi
            EXTRA["$topo $test"]+="    run $run: $detail"$'\n'
            log "$topo $test run $run/$REPEAT: $detail"
        done
    done
}

# ---------------------------------------------------------------- kernel baseline

kernel_setup() {
    log "kernel: namespaces $K_CLIENT, $K_ROUTER, $K_SERVER"
    KERNEL_UP=1
    ip netns add "$K_CLIENT"
    ip netns add "$K_ROUTER"
    ip netns add "$K_SERVER"
    # The veths are created inside the namespaces: nothing appears in the host's.
    ip -n "$K_CLIENT" link add name eth0 type veth peer name rc netns "$K_ROUTER"
    ip -n "$K_SERVER" link add name eth0 type veth peer name rs netns "$K_ROUTER"
    local ns
    for ns in "$K_CLIENT" "$K_ROUTER" "$K_SERVER"; do
        ip -n "$ns" link set lo up
    done

    ip -n "$K_CLIENT" addr add "$CLIENT_IP/24" dev eth0
    ip -n "$K_CLIENT" link set eth0 up
    ip -n "$K_CLIENT" route add default via "$ROUTER_IN"

    ip -n "$K_ROUTER" addr add "$ROUTER_IN/24" dev rc
    ip -n "$K_ROUTER" addr add "$NAT_IP/24" dev rs
    ip -n "$K_ROUTER" link set rc up
    ip -n "$K_ROUTER" link set rs up
    ip -n "$K_ROUTER" route add "$SERVER_IP/32" dev rs
    ip netns exec "$K_ROUTER" sysctl -q -w net.ipv4.ip_forward=1

    # The server knows only its own /32 and the router's outside address: no route
    # to 10.0.2.0/24, so replies only work if the router masquerades.
    ip -n "$K_SERVER" addr add "$SERVER_IP/32" dev eth0
    ip -n "$K_SERVER" link set eth0 up
    ip -n "$K_SERVER" route add "$NAT_IP/32" dev eth0
    if ip -n "$K_SERVER" route get "$CLIENT_IP" >/dev/null 2>&1; then
        die "kernel: the server has a route to $CLIENT_IP; the NAT check would prove nothing"
    fi

    # Conntrack + masquerade, stateful like a security group (which allows the new
    # flows the client opens and their replies) and the NACLs.
    ip netns exec "$K_ROUTER" nft -f - <<EOF
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related counter accept
        ct state invalid counter drop
        iifname "rc" oifname "rs" ct state new tcp dport $PORT counter accept
        iifname "rc" oifname "rs" ct state new udp dport $PORT counter accept
        iifname "rc" oifname "rs" ct state new icmp type echo-request counter accept
        counter comment "dropped by the policy"
    }
}
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "rs" counter masquerade
    }
}
EOF
    ip netns exec "$K_CLIENT" ping -q -c 1 -W 2 "$SERVER_IP" >/dev/null \
        || die "kernel: $K_CLIENT cannot ping $SERVER_IP"
}

run_kernel() {
    kernel_setup
    start_iperf_server "$K_SERVER"
    verify_nat kernel "$K_CLIENT"
    run_suite kernel "$K_CLIENT" "$K_SERVER"
    stop_iperf_server
    {
        echo "kernel: drops outside the router, after the tests:"
        kernel_drops "$K_CLIENT" "$K_SERVER"
        echo "kernel: the router's nftables counters after the tests:"
        ip netns exec "$K_ROUTER" nft list ruleset | sed 's/^/    /'
        echo
    } >"$TMP/kernel-report.txt"
    kernel_teardown
}

# ---------------------------------------------------------------- vpcd

vpcd_start() {
    mkdir -p "$TMP/flow-logs"
    log "vpcd: $VPCD run --config config/bench.toml --netns-prefix $V_PREFIX --threads $THREADS --io $IO"
    "$VPCD" run --config "$REPO/config/bench.toml" --netns-prefix "$V_PREFIX" \
        --control-socket "$TMP/vpcd.sock" --flow-log-dir "$TMP/flow-logs" \
        --threads "$THREADS" --io "$IO" >"$TMP/vpcd.log" 2>&1 &
    VPCD_PID=$!
    local rc
    for _ in $(seq 1 300); do
        if ! kill -0 "$VPCD_PID" 2>/dev/null; then
            rc=0
            wait "$VPCD_PID" || rc=$?
            VPCD_PID=""
            cat "$TMP/vpcd.log" >&2
            die "vpcd exited during start-up (status $rc)"
        fi
        if "$VPCCTL" --socket "$TMP/vpcd.sock" status >/dev/null 2>&1; then
            break
        fi
        sleep 0.1
    done
    "$VPCCTL" --socket "$TMP/vpcd.sock" status >/dev/null 2>&1 || {
        cat "$TMP/vpcd.log" >&2
        die "vpcd did not answer on its control socket within 30 s"
    }
    for _ in $(seq 1 10); do
        if ip netns exec "$V_CLIENT" ping -q -c 1 -W 1 "$SERVER_IP" >/dev/null 2>&1; then
            log "vpcd: ready (pid $VPCD_PID), $V_CLIENT reaches $SERVER_IP"
            return 0
        fi
    done
    "$VPCCTL" --socket "$TMP/vpcd.sock" counters >&2 || true
    die "vpcd: $V_CLIENT cannot ping $SERVER_IP"
}

run_vpcd() {
    vpcd_start
    start_iperf_server "$V_SERVER"
    verify_nat vpcd "$V_CLIENT"
    run_suite vpcd "$V_CLIENT" "$V_SERVER" "$VPCD_PID"
    stop_iperf_server
    {
        echo "vpcd: drops outside vpcd, after the tests:"
        kernel_drops "$V_CLIENT" "$V_SERVER"
        echo "    client eth0: $(ip -n "$V_CLIENT" -d link show dev eth0 | grep -o 'tun type .*persist [a-z]*')"
        echo "vpcctl counters after the vpcd tests:"
        "$VPCCTL" --socket "$TMP/vpcd.sock" counters | sed 's/^/    /'
        echo
        echo "vpcctl nat-gateways after the vpcd tests:"
        "$VPCCTL" --socket "$TMP/vpcd.sock" nat-gateways | sed 's/^/    /'
        echo
    } >"$TMP/vpcd-report.txt"
    log "vpcd: SIGTERM to pid $VPCD_PID"
    stop_vpcd
}

# ---------------------------------------------------------------- report

unit_of() {
    case $1 in
    udp64-pps) echo pps ;;
    *) echo Gbit/s ;;
    esac
}

# Formats value $2 of test $1: Gbit/s with 3 decimals, pps as an integer.
fmt() {
    case $1 in
    udp64-pps) printf '%.0f' "$2" ;;
    *) printf '%.3f' "$2" ;;
    esac
}

ratio() {
    awk -v v="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", v / k; else print "nan" }'
}

report() {
    local test unit k v c
    echo "bench-e2e: DURATION=${DURATION}s REPEAT=$REPEAT; $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)); kernel $(uname -r)"
    echo "vpcd: $VPCD_SOURCE ($("$VPCD" --version)), tree $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown); iperf3 $(iperf3 --version | awk 'NR == 1 { print $2 }')"
    echo "load average before the tests: $LOAD_BEFORE (1, 5, 15 min); other work running on the cores lowers and scatters every number"
    echo
    cat "$TMP/kernel-report.txt" "$TMP/vpcd-report.txt"
    echo "Per run (median of $REPEAT runs of ${DURATION} s below):"
    for test in "${TESTS[@]}"; do
        echo "  $test kernel:"
        printf '%s' "${EXTRA["kernel $test"]}"
        echo "  $test vpcd:"
        printf '%s' "${EXTRA["vpcd $test"]}"
    done
    echo
    printf '%-10s %14s %14s %7s %8s %14s %18s  %s\n' test kernel vpcd ratio "vpcd CPU" \
        "vpcd pkts/CPU-s" "client drops k/v" unit
    local w dk dv
    for test in "${TESTS[@]}"; do
        unit=$(unit_of "$test")
        # shellcheck disable=SC2086 # the lists are space-separated numbers
        k=$(median ${RESULTS["kernel $test"]})
        # shellcheck disable=SC2086
        v=$(median ${RESULTS["vpcd $test"]})
        # shellcheck disable=SC2086
        c=$(median ${CPU["$test"]})
        # shellcheck disable=SC2086
        w=$(median ${WORK["$test"]})
        # shellcheck disable=SC2086
        dk=$(median ${DROPS["kernel $test"]})
        # shellcheck disable=SC2086
        dv=$(median ${DROPS["vpcd $test"]})
        printf '%-10s %14s %14s %7s %7.1f%% %14.0f %18s  %s\n' "$test" "$(fmt "$test" "$k")" \
            "$(fmt "$test" "$v")" "$(ratio "$v" "$k")" "$c" "$w" \
            "$(printf '%.0f/%.0f' "$dk" "$dv")" "$unit"
    done
    echo
    local cpu_line="CPU vpcd" work_line="WORK vpcd" drops_line="DROPS client"
    for test in "${TESTS[@]}"; do
        # shellcheck disable=SC2086
        k=$(median ${RESULTS["kernel $test"]})
        # shellcheck disable=SC2086
        v=$(median ${RESULTS["vpcd $test"]})
        # shellcheck disable=SC2086
        c=$(median ${CPU["$test"]})
        echo "RESULT $test vpcd=$(fmt "$test" "$v") kernel=$(fmt "$test" "$k") unit=$(unit_of "$test") ratio=$(ratio "$v" "$k")"
        cpu_line+=" $test=$(printf '%.1f' "$c")%"
        # shellcheck disable=SC2086
        work_line+=" $test=$(printf '%.0f' "$(median ${WORK["$test"]})")"
        # shellcheck disable=SC2086
        drops_line+=" $test=$(printf '%.0f' "$(median ${DROPS["kernel $test"]})")/$(printf '%.0f' "$(median ${DROPS["vpcd $test"]})")"
    done
    echo "$cpu_line"
    echo "$work_line"
    echo "$drops_line"
}

# ---------------------------------------------------------------- main

main() {
    check_prerequisites
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP=$(mktemp -d /tmp/bench-e2e.XXXXXX)
    build_vpcd
    LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
    log "DURATION=${DURATION}s REPEAT=$REPEAT, client on CPU 0, server on CPU 1, namespace prefix $PREFIX; load average $LOAD_BEFORE"
    if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l >= 1) }'; then
        log "warning: load average $LOAD_BEFORE: other work is running, the numbers will be low and noisy"
    fi
    run_kernel
    run_vpcd
    local left
    left=$(our_namespaces)
    [ -z "$left" ] || die "namespaces left behind: $left"
    log "clean: no namespace named ${PREFIX}* remains"
    report
}

main "$@"
