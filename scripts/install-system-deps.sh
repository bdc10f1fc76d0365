#!/usr/bin/env bash
# Installs the system packages codeloop needs (Debian/Ubuntu), then the npm dependencies.
#   bubblewrap  - the OS sandbox for untrusted code (user, PID, mount and network namespaces)
#   python3     - runs the sandbox supervisor and Python programs
#   python3-numpy - numpy for programs and tests that import it (EvalPlus original-format tests do)
#   python3-pytest - pytest, for `codeloop solve --file X.py --test-command "pytest ..."` (and its end-to-end test)
#   util-linux  - setpriv, to drop root before entering the sandbox
#   chromium    - headless browser that the report tests drive (playwright-core, executablePath)
#   neovim      - a third-party LSP client for the end-to-end test of `codeloop serve --lsp`
#   fonts-dejavu-core - a font for the report's screenshots
#   redis-server - the job queue's store for `codeloop worker` / `--queue` (scale-out), started by its tests
#   python3-pytest-timeout python3-pycryptodome python3-argon2 python3-jwt python3-lxml python3-yaml python3-requests
#               - what CWEval's pytest files import (cweval-py, cweval-js; docs/security.md)
# Then the Node modules CWEval's JavaScript tasks require (and the recheck ReDoS checker), pinned in
# scripts/cweval-node/package-lock.json, into /usr/local/lib/codeloop-cweval (under /usr, so the sandbox sees it;
# another folder: CODELOOP_CWEVAL_NODE_MODULES_PREFIX here, CODELOOP_CWEVAL_NODE_MODULES=<it>/node_modules for codeloop).
# package.json's allowScripts (npm >= 11.16) denies onnxruntime-node's postinstall, which would fetch CUDA files from
# outside the npm registry (its CPU library is inside the package; with an older npm set ONNXRUNTIME_NODE_INSTALL=skip),
# and the tree-sitter grammars' native builds (codeloop loads their .wasm files); node-llama-cpp's postinstall runs.
set -euo pipefail
packages=(bubblewrap python3 python3-numpy python3-pytest util-linux chromium fonts-dejavu-core neovim redis-server
  python3-pytest-timeout python3-pycryptodome python3-argon2 python3-jwt python3-lxml python3-yaml python3-requests)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "codeloop: please install ${missing[*]} with your package manager (no apt-get here)." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
npm ci
cweval_prefix="${CODELOOP_CWEVAL_NODE_MODULES_PREFIX:-/usr/local/lib/codeloop-cweval}"
here="$(cd "$(dirname "$0")" && pwd)"
if ! cmp -s "$here/cweval-node/package-lock.json" "$cweval_prefix/package-lock.json" 2>/dev/null; then
  sudo=""
  [ -w "$(dirname "$cweval_prefix")" ] || [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo mkdir -p "$cweval_prefix"
  $sudo cp "$here/cweval-node/package.json" "$here/cweval-node/package-lock.json" "$cweval_prefix/"
  (cd "$cweval_prefix" && $sudo npm ci --omit=dev --no-audit --no-fund)
fi
