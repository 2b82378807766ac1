#!/bin/bash
# After each application deployment: ask this instance's agent for a fresh software inventory.
# The manager compares it with the last one and, when the deployment changed the software, queues
# a recommendation scan (virtual patches for the new versions, removal for patched ones).
# Needs PALISADE_API_KEY_PARAMETER (SSM SecureString, operator key) and ssm:GetParameter on it.
set -u
param=$(/opt/elasticbeanstalk/bin/get-config environment -k PALISADE_API_KEY_PARAMETER 2>/dev/null || true)
[ -n "$param" ] || { echo "palisade: PALISADE_API_KEY_PARAMETER not set; no recommendation scan after this deploy"; exit 0; }
identity=/var/lib/palisade-agent/agent.json
[ -f "$identity" ] || { echo "palisade: agent not activated; no recommendation scan" >&2; exit 0; }
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$identity" | head -n 1; }
agent_id=$(field agentId)
manager=$(field managerUrl)
key=$(aws ssm get-parameter --with-decryption --name "$param" --query Parameter.Value --output text) ||
  { echo "palisade: cannot read $param from SSM; no recommendation scan" >&2; exit 0; }
cacert=()
[ -f /var/lib/palisade-agent/manager-ca.pem ] && cacert=(--cacert /var/lib/palisade-agent/manager-ca.pem)
# a failed scan request must not fail the application deployment: report it and go on
if ! out=$(curl -fsS "${cacert[@]}" -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  --data '{"kind":"send-inventory"}' "$manager/api/v1/computers/$agent_id/commands" 2>&1); then
  echo "palisade: recommendation scan request failed: $out" >&2
  exit 0
fi
echo "palisade: asked agent $agent_id for a fresh inventory (recommendation scan follows on change)"
