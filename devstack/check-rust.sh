#!/usr/bin/env bash
# The native core (native/) needs cargo and rustc 1.85 or newer (jieba-rs is edition
# 2024). Debian's own rustc is older, so the toolchain comes from rustup.
set -euo pipefail
need=1.85
if ! command -v cargo >/dev/null || ! command -v rustc >/dev/null; then
  echo "error: cargo and rustc (>= $need) are needed to build native/;" \
       "install them with rustup (https://rustup.rs) and run make again" >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "error: rustc $have is too old to build native/ (need >= $need): rustup update" >&2
  exit 1
fi
