#!/usr/bin/env bash
# Regenerates the netlink seed corpora (see capture.py) in a throwaway network namespace, as root.
# Usage: fuzz/capture.sh [NATKEEPER_BINARY]   (with the binary, natkeeper's own table is captured too)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ns="nkfuzz-capture-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
rm -rf "$here/corpus/nft_notifications" "$here/corpus/rtnl_decode"
NATKEEPER="${1:-}" ip netns exec "$ns" /usr/bin/python3 "$here/capture.py" "$here/corpus" "$here/.."
