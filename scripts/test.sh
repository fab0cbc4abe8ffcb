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
for tool in ip ping sysctl tcpdump python3 setpriv; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: missing ${missing[*]}: apt-get install iproute2 iputils-ping procps tcpdump python3 util-linux" >&2
    exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== unit, integration and end-to-end tests"
cargo test --workspace --locked
echo "== all checks passed"
