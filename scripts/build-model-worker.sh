#!/usr/bin/env bash
# Build the local model worker (crates/vigil-llama: llama.cpp through llama-cpp-2) and
# print the path of the binary. Needs cmake, clang and libclang-dev (Debian/Ubuntu:
# `apt-get install cmake clang libclang-dev`); about 15 CPU-minutes the first time.
#
# llama.cpp is compiled for x86-64-v3 (AVX2, FMA, F16C; any x86 CPU since 2015): without
# a target CPU it is built without AVX2 and runs several times slower. Set
# VIGIL_TARGET_CPU=native to tune for this machine only.
#
# VIGIL_WORKER_TARGET_DIR moves the build folder (default target/worker) somewhere that
# outlives the checkout, e.g. a CI cache: cargo then rebuilds only what changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cpu="${VIGIL_TARGET_CPU:-x86-64-v3}"
case "$(uname -m)" in
    x86_64) flags="-C target-cpu=$cpu" ;;
    *) flags="" ;;
esac
target_dir="${VIGIL_WORKER_TARGET_DIR:-$root/target/worker}"
cd "$root/crates/vigil-llama"
RUSTFLAGS="$flags" CARGO_TARGET_DIR="$target_dir" cargo build --release --locked >&2
echo "$target_dir/release/vigil-model-worker"
