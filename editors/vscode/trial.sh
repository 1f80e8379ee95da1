#!/bin/sh
# The extension in real VS Code: install code-server (VS Code served to a browser) from npm if it is
# not there yet, then run the opt-in trial tests/vscode (headless Chromium types, hovers, completes,
# jumps to definitions and formats in policies/aputure.rpl). See docs/editors.md.
#
#   editors/vscode/trial.sh [pytest options]
#
# RPL_CODE_SERVER_DIR  where code-server is installed (default ~/.cache/rpl-code-server)
# PYTHON               the Python with rplang[test,lsp] installed (default: python3)
# RPL_VSCODE_SCREENSHOTS  a folder for the screenshots of each step (default: pytest's tmp folder)
#
# Needs Node 20, npm, gcc/make/python3 (node-gyp), pkg-config, the Kerberos headers (Debian:
# libkrb5-dev), ripgrep and chromium (apt-get install libkrb5-dev ripgrep chromium).
set -eu

# The newest code-server whose engine is Node 20: 4.103 and later need Node 22, 4.139 Node 24.
VERSION=4.100.3
DIR=${RPL_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rpl-code-server}
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CODE_SERVER=$DIR/node_modules/.bin/code-server

install_code_server() {
  case "$(node --version)" in v20.*) ;; *) echo "code-server $VERSION needs Node 20, not $(node --version)" >&2; exit 1 ;; esac
  for needed in rg pkg-config make gcc; do
    command -v "$needed" >/dev/null || { echo "$needed is missing (see the top of $0)" >&2; exit 1; }
  done
  pkg-config --exists krb5-gssapi || { echo "the Kerberos headers are missing (apt-get install libkrb5-dev)" >&2; exit 1; }
  mkdir -p "$DIR"
  cd "$DIR"
  [ -f package.json ] || npm init -y >/dev/null
  # code-server's own postinstall is done by hand: as root it stops at an `--unsafe-perm` check that
  # npm 9+ no longer has, and @vscode/ripgrep's postinstall downloads rg from GitHub; the native
  # modules are built with node-gyp instead, and Debian's rg stands in for the download.
  npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION"
  npm rebuild argon2
  cd node_modules/code-server/lib/vscode
  npm install --omit=dev --ignore-scripts --no-audit --no-fund
  npm_config_yes=true npm rebuild kerberos native-watchdog node-pty @parcel/watcher @vscode/deviceid @vscode/spdlog
  mkdir -p node_modules/@vscode/ripgrep/bin
  ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  cd extensions
  npm install --omit=dev --ignore-scripts --no-audit --no-fund
  node postinstall.mjs >/dev/null
}

"$CODE_SERVER" --version >/dev/null 2>&1 || install_code_server
echo "code-server: $("$CODE_SERVER" --version | head -n 1)"
[ -d "$ROOT/editors/vscode/node_modules" ] || (cd "$ROOT/editors/vscode" && npm ci --no-audit --no-fund)
cd "$ROOT"
RPL_CODE_SERVER=$CODE_SERVER exec "$PYTHON" -m pytest -m vscode tests/vscode "$@"
