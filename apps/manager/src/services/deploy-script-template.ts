/** What one generated deployment script installs and how it activates (docs/deploy/deployment-script.md). */
export interface DeployScriptInput {
  managerUrl: string;
  /** The activation token (plain value): the script is a secret for as long as the token lives. */
  token: string;
  tokenExpiresAt: string;
  policyName: string | null;
  /** PEM of the manager's CA, pinned for the download from the manager and for activation. */
  caPem: string | null;
  bundle: {
    file: string;
    sha256: string;
    /** Absolute URL, or null: `<manager>/deploy/agent-bundles/<file>` (follows PALISADE_MANAGER_URL). */
    url: string | null;
    version: string;
  };
  tags: Record<string, string>;
  cloud: 'aws' | null;
  generatedAt: string;
}

/** Single-quoted for POSIX sh: nothing inside is expanded. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Exit codes of the script, by failure class, so wrappers (cloud-init, CloudFormation
 * WaitCondition, Ansible, Chef) can tell the reason without parsing text.
 */
export const DEPLOY_EXIT = {
  prerequisites: 2,
  download: 3,
  checksum: 4,
  install: 5,
  activationRefused: 6,
  activationUnreachable: 7,
  service: 8,
} as const;

/**
 * A POSIX sh script that downloads the agent bundle, verifies its SHA-256, installs it, activates
 * the host with retries and backoff, and starts the service, failing loudly at each step: the
 * last line says which step failed and why, the exit code names the class, and with
 * PALISADE_RESULT_FILE the same line is written to that file for the caller.
 */
export function renderDeployScript(input: DeployScriptInput): string {
  const q = shQuote;
  const tagArgs = Object.entries(input.tags)
    .map(([k, v]) => ` --tag ${q(`${k}=${v}`)}`)
    .join('');
  const ca = input.caPem ? input.caPem.trim() : '';
  if (ca.includes('PALISADE_CA_END')) throw new Error('the CA PEM contains the heredoc terminator');
  const e = DEPLOY_EXIT;
  return `#!/bin/sh
# Palisade agent deployment script (generated ${input.generatedAt}${input.policyName ? ` for policy ${input.policyName.replace(/\n/g, ' ')}` : ''}).
# Installs agent bundle ${input.bundle.file} (version ${input.bundle.version}), verifies its SHA-256,
# activates this host with ${input.managerUrl} and starts the palisade-agent service.
# It contains an activation token valid until ${input.tokenExpiresAt}: treat it as a secret.
#
# Run as root:  sh palisade-deploy.sh
# Environment overrides: PALISADE_MANAGER_URL, PALISADE_BUNDLE_URL, PALISADE_ACTIVATION_TOKEN,
#   PALISADE_PREFIX (/opt/palisade), PALISADE_DATA_DIR (/var/lib/palisade-agent),
#   PALISADE_NO_SYSTEMD=1, PALISADE_ATTEMPTS (6), PALISADE_BACKOFF_SECONDS (2),
#   PALISADE_RESULT_FILE (one line: OK ... or FAILED ...).
# Exit codes: 0 ok, ${e.prerequisites} prerequisites, ${e.download} download, ${e.checksum} checksum, ${e.install} install,
#   ${e.activationRefused} activation refused, ${e.activationUnreachable} manager unreachable, ${e.service} service did not start.
set -u

MANAGER_URL=\${PALISADE_MANAGER_URL:-${q(input.managerUrl)}}
BUNDLE_FILE=${q(input.bundle.file)}
BUNDLE_URL=\${PALISADE_BUNDLE_URL:-${input.bundle.url ? q(input.bundle.url) : `"$MANAGER_URL/deploy/agent-bundles/$BUNDLE_FILE"`}}
BUNDLE_SHA256=${q(input.bundle.sha256)}
TOKEN=\${PALISADE_ACTIVATION_TOKEN:-${q(input.token)}}
PREFIX=\${PALISADE_PREFIX:-/opt/palisade}
DATA_DIR=\${PALISADE_DATA_DIR:-/var/lib/palisade-agent}
NO_SYSTEMD=\${PALISADE_NO_SYSTEMD:-0}
ATTEMPTS=\${PALISADE_ATTEMPTS:-6}
BACKOFF=\${PALISADE_BACKOFF_SECONDS:-2}
RESULT_FILE=\${PALISADE_RESULT_FILE:-}

log() {
  printf '%s palisade-deploy: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# fail CODE STEP MESSAGE: the one line an operator needs, on stderr, in syslog and the result file
fail() {
  code=$1; step=$2; shift 2
  line="palisade-deploy: FAILED ($step): $*"
  printf '%s\\n' "$line" >&2
  if command -v logger >/dev/null 2>&1; then logger -t palisade-deploy -- "$line" 2>/dev/null || true; fi
  if [ -n "$RESULT_FILE" ]; then printf '%s\\n' "$line" >"$RESULT_FILE" || true; fi
  exit "$code"
}

succeed() {
  line="palisade-deploy: OK: $*"
  printf '%s\\n' "$line"
  if command -v logger >/dev/null 2>&1; then logger -t palisade-deploy -- "$line" 2>/dev/null || true; fi
  if [ -n "$RESULT_FILE" ]; then printf '%s\\n' "$line" >"$RESULT_FILE" || true; fi
  exit 0
}

# --- prerequisites ------------------------------------------------------------------------
[ "$(uname -s)" = Linux ] || fail ${e.prerequisites} prerequisites "this script installs the Linux agent; this is $(uname -s)"
[ "$(uname -m)" = x86_64 ] || fail ${e.prerequisites} prerequisites "the agent bundle is built for x86_64; this machine is $(uname -m)"
if [ "$(id -u)" != 0 ] && [ -z "\${PALISADE_PREFIX:-}" ]; then
  fail ${e.prerequisites} prerequisites "run as root (or set PALISADE_PREFIX and PALISADE_DATA_DIR to folders you can write)"
fi
command -v node >/dev/null 2>&1 || fail ${e.prerequisites} prerequisites "Node.js >= 20.19 is required on PATH and was not found (install the nodejs package)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  fail ${e.prerequisites} prerequisites "Node.js >= 20.19 is required; found $(node --version)"
for tool in tar gzip; do
  command -v "$tool" >/dev/null 2>&1 || fail ${e.prerequisites} prerequisites "$tool is required and was not found"
done
if command -v curl >/dev/null 2>&1; then fetcher=curl
elif command -v wget >/dev/null 2>&1; then fetcher=wget
else fail ${e.prerequisites} prerequisites "curl or wget is required to download the agent"; fi
if command -v sha256sum >/dev/null 2>&1; then hasher=sha256sum
elif command -v openssl >/dev/null 2>&1; then hasher=openssl
else fail ${e.prerequisites} prerequisites "sha256sum or openssl is required to verify the download"; fi

work=$(mktemp -d "\${TMPDIR:-/tmp}/palisade-deploy.XXXXXX") || fail ${e.prerequisites} prerequisites "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

CA_FILE=""
${
  ca
    ? `CA_FILE="$work/manager-ca.pem"
cat >"$CA_FILE" <<'PALISADE_CA_END'
${ca}
PALISADE_CA_END
`
    : '# no CA given: the host trust store verifies the manager'
}

# --- download -----------------------------------------------------------------------------
download() {
  # the pinned CA applies to the manager only; a relay URL is checked against the trust store
  cacert=""
  case "$BUNDLE_URL" in "$MANAGER_URL"/*) cacert=$CA_FILE ;; esac
  if [ "$fetcher" = curl ]; then
    curl -fsSL --connect-timeout 10 --max-time 600 \${cacert:+--cacert "$cacert"} -o "$work/bundle.tar.gz" "$BUNDLE_URL" 2>"$work/download.err"
  else
    wget -q -T 30 \${cacert:+--ca-certificate="$cacert"} -O "$work/bundle.tar.gz" "$BUNDLE_URL" 2>"$work/download.err"
  fi
}

n=1; delay=$BACKOFF
log "downloading $BUNDLE_URL"
until download; do
  reason=$(tr '\\n' ' ' <"$work/download.err")
  if [ "$n" -ge "$ATTEMPTS" ]; then
    fail ${e.download} download "cannot download the agent from $BUNDLE_URL after $n attempts: \${reason:-$fetcher failed}"
  fi
  log "download attempt $n/$ATTEMPTS failed (\${reason:-$fetcher failed}); retrying in $delay s"
  sleep "$delay"; n=$((n + 1)); delay=$((delay * 2)); [ "$delay" -gt 60 ] && delay=60
done

if [ "$hasher" = sha256sum ]; then actual=$(sha256sum "$work/bundle.tar.gz" | cut -d' ' -f1)
else actual=$(openssl dgst -sha256 -r "$work/bundle.tar.gz" | cut -d' ' -f1); fi
[ "$actual" = "$BUNDLE_SHA256" ] ||
  fail ${e.checksum} checksum "SHA-256 mismatch for $BUNDLE_URL: expected $BUNDLE_SHA256, got $actual (altered download or another version); nothing was installed"
log "checksum verified ($BUNDLE_SHA256)"

# --- install ------------------------------------------------------------------------------
tar -xzf "$work/bundle.tar.gz" -C "$work" 2>"$work/tar.err" || fail ${e.install} install "cannot unpack the bundle: $(tr '\\n' ' ' <"$work/tar.err")"
installer="$work/\${BUNDLE_FILE%.tar.gz}/install.sh"
[ -f "$installer" ] || fail ${e.install} install "the bundle holds no install.sh"
set -- --prefix "$PREFIX" --data-dir "$DATA_DIR"
[ "$NO_SYSTEMD" = 1 ] && set -- "$@" --no-systemd
sh "$installer" "$@" >"$work/install.out" 2>&1 || fail ${e.install} install "$(tail -n 3 "$work/install.out" | tr '\\n' ' ')"
log "$(tail -n 1 "$work/install.out")"

# --- activate -----------------------------------------------------------------------------
agent_id=""
if [ -f "$DATA_DIR/agent.json" ]; then
  log "already activated ($DATA_DIR/agent.json exists): keeping that identity"
  agent_id=$(sed -n 's/.*"agentId": *"\\([^"]*\\)".*/\\1/p' "$DATA_DIR/agent.json" | head -n 1)
else
  n=1; delay=$BACKOFF
  while :; do
    PALISADE_ACTIVATION_TOKEN=$TOKEN "$PREFIX/bin/palisade" agent activate --manager "$MANAGER_URL" \\
      \${CA_FILE:+--ca "$CA_FILE"} --data-dir "$DATA_DIR"${input.cloud ? ` --cloud ${input.cloud}` : ''}${tagArgs} --json >"$work/activate.out" 2>"$work/activate.err"
    if [ $? -eq 0 ]; then
      agent_id=$(sed -n 's/.*"agentId": *"\\([^"]*\\)".*/\\1/p' "$work/activate.out" | head -n 1)
      break
    fi
    reason=$(tr '\\n' ' ' <"$work/activate.err")
    case "$reason" in
      # the manager answered and said no (bad, expired, revoked or used-up token): retrying cannot help
      *AGENT_ACTIVATION_REFUSED*"HTTP 4"* | *AGENT_BAD_ARGUMENT* | *AGENT_CA_UNREADABLE* | *AGENT_ALREADY_*)
        fail ${e.activationRefused} activation "the manager at $MANAGER_URL refused the activation: $reason" ;;
    esac
    if [ "$n" -ge "$ATTEMPTS" ]; then
      fail ${e.activationUnreachable} activation "could not activate with $MANAGER_URL after $n attempts: $reason"
    fi
    log "activation attempt $n/$ATTEMPTS failed ($reason); retrying in $delay s"
    sleep "$delay"; n=$((n + 1)); delay=$((delay * 2)); [ "$delay" -gt 60 ] && delay=60
  done
  log "activated as agent $agent_id"
fi

# --- service ------------------------------------------------------------------------------
if [ "$NO_SYSTEMD" != 1 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl enable --now palisade-agent >"$work/systemctl.out" 2>&1 ||
    fail ${e.service} service "systemctl enable --now palisade-agent failed: $(tr '\\n' ' ' <"$work/systemctl.out")"
  sleep 3
  systemctl is-active --quiet palisade-agent ||
    fail ${e.service} service "palisade-agent is not running: $(journalctl -u palisade-agent -n 5 --no-pager 2>/dev/null | tr '\\n' ' ')"
  succeed "agent $agent_id installed in $PREFIX, activated with $MANAGER_URL, service palisade-agent running"
fi
succeed "agent $agent_id installed in $PREFIX and activated with $MANAGER_URL; start it with: $PREFIX/bin/palisade agent start --data-dir $DATA_DIR"
`;
}
