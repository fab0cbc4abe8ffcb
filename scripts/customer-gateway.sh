#!/usr/bin/env bash
# customer-gateway.sh: the customer side of a site-to-site VPN in one command.
#
#   customer-gateway.sh up   SITE bird|frr
#   customer-gateway.sh down SITE
#
# SITE is a customer gateway of vpcd's configuration; vpcd has made its namespace
# (named SITE, or ${VPCD_PREFIX}SITE), holding the gateway's public address. `up`
# renders the site's files with `vpcctl vpn-config` into
# ${VPCD_SITE_DIR:-/var/lib/vpcd/sites}/SITE (not under /run: each charon gets a private
# /run bound over it), then starts in the namespace, one after the other, one charon per
# tunnel (strongSwan, kernel-libipsec; its TUN device renamed to the tunnel's interface
# with the customer's inside address), loads the tunnels, installs the static
# connections' routes, and starts BIRD or FRR. Every PID it starts goes to DIR/pids.
# `down` stops exactly those PIDs (TERM, up to 5 s, then KILL), deletes the placeholder
# TUN device it made and removes DIR.
#
# Environment: VPCCTL (default: vpcctl on PATH, else target/release/vpcctl or
# target/debug/vpcctl of this checkout), VPCCTL_ARGS (e.g. "--socket /tmp/x.sock"),
# VPCD_PREFIX, VPCD_SITE_DIR, CHARON (default /usr/lib/ipsec/charon), FRR_BIN (default
# /usr/lib/frr).
set -euo pipefail

usage() {
  echo "usage: $0 up SITE bird|frr | $0 down SITE" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
action=$1
site=$2
bgp=${3:-}
case $site in
  '' | */* | .*) echo "bad site name: $site" >&2; exit 2 ;;
esac
ns="${VPCD_PREFIX:-}${site}"
base="${VPCD_SITE_DIR:-/var/lib/vpcd/sites}"
dir="${base%/}/${site}"
pids_file="$dir/pids"
# vpcctl: $VPCCTL, else the one on PATH, else this checkout's build (release first).
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${VPCCTL:-} ]]; then
  vpcctl=$VPCCTL
elif command -v vpcctl >/dev/null; then
  vpcctl=vpcctl
elif [[ -x $here/target/release/vpcctl ]]; then
  vpcctl=$here/target/release/vpcctl
elif [[ -x $here/target/debug/vpcctl ]]; then
  vpcctl=$here/target/debug/vpcctl
else
  vpcctl=vpcctl
fi
read -r -a vpcctl_args <<<"${VPCCTL_ARGS:-}"
charon=${CHARON:-/usr/lib/ipsec/charon}
frr_bin=${FRR_BIN:-/usr/lib/frr}

# alive PID NAME: PID runs and is still NAME (so a reused PID is left alone).
alive() {
  [[ -r /proc/$1/comm ]] && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]]
}

# The ipsecN devices in the namespace, one per line.
ipsec_links() {
  ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^ipsec[0-9]+$' || true
}

do_down() {
  if [[ ! -e $pids_file && ! -d $dir ]]; then
    echo "site $site is not up (no $dir)"
    return 0
  fi
  local -a pids=() names=()
  local pid name
  if [[ -e $pids_file ]]; then
    while read -r pid name; do
      [[ $pid =~ ^[0-9]+$ ]] || continue
      pids+=("$pid")
      names+=("$name")
    done <"$pids_file"
  fi
  local i
  for i in "${!pids[@]}"; do
    if alive "${pids[$i]}" "${names[$i]}"; then
      kill -TERM "${pids[$i]}" 2>/dev/null || true
      echo "stopping ${names[$i]} (pid ${pids[$i]})"
    fi
  done
  local _ left
  for _ in $(seq 50); do
    left=0
    for i in "${!pids[@]}"; do
      alive "${pids[$i]}" "${names[$i]}" && left=1
    done
    [[ $left == 0 ]] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if alive "${pids[$i]}" "${names[$i]}"; then
      echo "killing ${names[$i]} (pid ${pids[$i]}): still running after 5 s"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  if [[ -e $dir/placeholder ]] && ip -n "$ns" link show ipsec0 >/dev/null 2>&1; then
    ip -n "$ns" link del ipsec0 || true
  fi
  rm -rf -- "$dir"
  echo "site $site is down"
}

# wait_for PATH PID NAME: until PATH exists (up to 5 s) while PID runs.
wait_for() {
  local _
  for _ in $(seq 50); do
    [[ -e $1 ]] && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$3 (pid $2) exited; see its log in $dir" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$3 (pid $2): no $1 after 5 s" >&2
  return 1
}

# wait_pidfile FILE NAME: until FILE holds the PID of a running NAME (up to 5 s).
wait_pidfile() {
  local _ pid
  for _ in $(seq 50); do
    if [[ -s $1 ]]; then
      pid=$(tr -dc 0-9 <"$1")
      if [[ -n $pid ]] && alive "$pid" "$2"; then
        echo "$pid"
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "$2: no running pid in $1 after 5 s" >&2
  return 1
}

do_up() {
  case $bgp in
    bird | frr) ;;
    *) usage ;;
  esac
  if [[ ! -e /run/netns/$ns ]]; then
    echo "no namespace $ns (vpcd makes it for customer gateway $site)" >&2
    exit 1
  fi
  if [[ -e $pids_file ]]; then
    local pid name running=0
    while read -r pid name; do
      [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" "$name" && running=1
    done <"$pids_file"
    if [[ $running == 1 ]]; then
      echo "site $site is already up ($pids_file); '$0 down $site' first"
      return 0
    fi
    echo "site $site: cleaning up a previous run that is no longer running"
    do_down >/dev/null
  fi
  if [[ -n "$(ipsec_links)" ]]; then
    echo "namespace $ns already has $(ipsec_links | tr '\n' ' ')device(s); the charons' TUN devices must be ipsec0" >&2
    exit 1
  fi
  # shellcheck disable=SC2154 # rc is assigned inside the trap
  trap 'rc=$?; echo "up failed; undoing" >&2; do_down >&2; exit $rc' ERR
  mkdir -p "$dir"
  : >"$pids_file"
  "$vpcctl" ${vpcctl_args[@]+"${vpcctl_args[@]}"} vpn-config "$site" --format strongswan --out "$dir"
  "$vpcctl" ${vpcctl_args[@]+"${vpcctl_args[@]}"} vpn-config "$site" --format "$bgp" --out "$dir"
  [[ -s $dir/tunnels ]] || { echo "$dir/tunnels is empty: no VPN connection for $site" >&2; false; }

  # One charon per tunnel, one after the other: the kernel names each TUN ipsec0.
  local n iface inside tdir pid
  local -a tunnel_numbers=()
  while read -r n iface inside <&3; do
    [[ -n $n ]] || continue
    tdir="$dir/tunnel$n"
    mkdir -p "$tdir/run"
    rm -f "$tdir/run/charon.pid" "$tdir/run/charon.vici"
    # `ip netns exec` gives the command a mount namespace of its own, so the bind mount
    # of the private /run is invisible outside; sh execs charon, so $! is charon's PID.
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner sh
    ip netns exec "$ns" sh -c 'mount --bind "$1/run" /run && STRONGSWAN_CONF="$1/strongswan.conf" exec "$2"' \
      sh "$tdir" "$charon" >"$tdir/charon.stdout" 2>&1 </dev/null &
    pid=$!
    echo "$pid charon" >>"$pids_file"
    wait_for "$tdir/run/charon.vici" "$pid" "charon of tunnel $n"
    if ! ip -n "$ns" link show ipsec0 >/dev/null 2>&1; then
      echo "charon of tunnel $n made no ipsec0 device" >&2
      false
    fi
    ip -n "$ns" link set ipsec0 name "$iface"
    ip -n "$ns" addr add "$inside" dev "$iface"
    ip -n "$ns" link set "$iface" mtu 1400 up
    tunnel_numbers+=("$n")
  done 3<"$dir/tunnels"

  # kernel-libipsec installs a route via ipsec0 for every CHILD SA (parked in a table
  # after main); it fails the SA without a device of that name.
  ip -n "$ns" tuntap add dev ipsec0 mode tun
  ip -n "$ns" link set ipsec0 up
  : >"$dir/placeholder"

  local out
  for n in "${tunnel_numbers[@]}"; do
    tdir="$dir/tunnel$n"
    if ! out=$(swanctl --load-all --noprompt --file "$tdir/swanctl.conf" --uri "unix://$tdir/run/charon.vici" 2>&1); then
      echo "$out" >&2
      false
    fi
    # swanctl looks for certificate directories next to the file; there are none.
    grep -v -e 'opening directory' -e '^loaded ' -e '^no .* found' -e 'successfully loaded' <<<"$out" || true
  done

  # Static connections: the VPC's CIDRs over the tunnels (they go with the interfaces).
  local prefix metric
  while read -r prefix iface metric <&3; do
    [[ -n $prefix ]] || continue
    ip -n "$ns" route replace "$prefix" dev "$iface" metric "$metric"
  done 3<"$dir/routes"

  if [[ $bgp == bird ]]; then
    rm -f "$dir/bird.pid" "$dir/bird.ctl"
    ip netns exec "$ns" bird -c "$dir/bird.conf" -s "$dir/bird.ctl" -P "$dir/bird.pid" </dev/null
    pid=$(wait_pidfile "$dir/bird.pid" bird)
    echo "$pid bird" >>"$pids_file"
  else
    # FRR drops its privileges to user frr: it writes its pid files, sockets and logs
    # as frr.
    mkdir -p "$dir/frr"
    chown frr:frr "$dir" "$dir/frr" "$dir/zebra.conf" "$dir/bgpd.conf"
    local daemon
    for daemon in zebra bgpd; do
      ip netns exec "$ns" "$frr_bin/$daemon" -d -f "$dir/$daemon.conf" -i "$dir/frr/$daemon.pid" \
        -z "$dir/frr/zserv.api" --vty_socket "$dir/frr" -P 0 </dev/null
      pid=$(wait_pidfile "$dir/frr/$daemon.pid" "$daemon")
      echo "$pid $daemon" >>"$pids_file"
    done
  fi
  trap - ERR

  echo "site $site is up in namespace $ns ($dir):"
  while read -r pid name; do
    echo "  $name pid $pid"
  done <"$pids_file"
  echo "watch it with:"
  for n in "${tunnel_numbers[@]}"; do
    echo "  swanctl --list-sas --uri unix://$dir/tunnel$n/run/charon.vici"
  done
  if [[ $bgp == bird ]]; then
    echo "  birdc -s $dir/bird.ctl show protocols"
    echo "  birdc -s $dir/bird.ctl show route"
  else
    echo "  vtysh --vty_socket $dir/frr -c 'show bgp summary'"
    echo "  vtysh --vty_socket $dir/frr -c 'show ip route bgp'"
  fi
  echo "  ip -n $ns route"
  echo "stop it with: $0 down $site"
}

case $action in
  up) do_up ;;
  down) do_down ;;
  *) usage ;;
esac
