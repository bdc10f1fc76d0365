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
# package.json's allowScripts (npm >= 11.16) denies onnxruntime-node's postinstall, which would fetch CUDA files from
# outside the npm registry (its CPU library is inside the package; with an older npm set ONNXRUNTIME_NODE_INSTALL=skip),
# and the tree-sitter grammars' native builds (codeloop loads their .wasm files); node-llama-cpp's postinstall runs.
set -euo pipefail
packages=(bubblewrap python3 python3-numpy python3-pytest util-linux chromium fonts-dejavu-core neovim redis-server)
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
