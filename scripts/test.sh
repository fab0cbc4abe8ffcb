#!/usr/bin/env bash
# The test command of the README's quick start, and what CI runs (.ci/run):
# format check, clippy with warnings denied, unit tests and end-to-end tests.
# Run it as root: the end-to-end tests start the real daemon, which creates network
# namespaces and TUN devices (each test under its own name prefix, removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: run as root; the end-to-end tests create network namespaces and TUN devices" >&2
    echo "  e.g. sudo -E env \"PATH=\$PATH\" scripts/test.sh" >&2
    exit 1
fi
missing=()
for tool in ip ping sysctl tcpdump python3 setpriv iperf3 curl aws; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: missing ${missing[*]}: apt-get install iproute2 iputils-ping procps tcpdump python3 util-linux iperf3 curl; pip install awscli boto3" >&2
    exit 1
fi
# Terraform's acceptance test needs terraform and a filesystem mirror of the
# hashicorp/aws provider (nothing is downloaded); without them it is skipped, loudly.
if command -v terraform >/dev/null && [ -d "${VPCD_TF_MIRROR:-/opt/tf-plugins}/registry.terraform.io/hashicorp/aws" ]; then
    echo "== terraform: $(terraform version | head -1), provider mirror ${VPCD_TF_MIRROR:-/opt/tf-plugins}"
else
    echo "!! terraform or its provider mirror (${VPCD_TF_MIRROR:-/opt/tf-plugins}) is missing: the Terraform acceptance test is SKIPPED on this machine !!"
fi

# Site-to-site VPN's end-to-end test needs strongSwan, BIRD and FRR (.ci/run installs
# them); without them it is skipped, loudly.
for tool in /usr/lib/ipsec/charon /usr/sbin/swanctl /usr/sbin/bird /usr/lib/frr/bgpd; do
    if [ ! -x "$tool" ]; then
        echo "!! $tool is missing: the site-to-site VPN end-to-end test is SKIPPED (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins bird2 frr) !!"
        break
    fi
done

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== unit, integration and end-to-end tests"
cargo test --workspace --locked
echo "== all checks passed"
