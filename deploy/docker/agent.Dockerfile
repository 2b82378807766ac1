# Palisade agent image (for the Helm chart's DaemonSet). Build the bundle first, then:
#   npm run build:agent
#   docker build -f deploy/docker/agent.Dockerfile -t palisade-agent .
# The image holds the bundle installed in /opt/palisade by its own install.sh; the host mounts and
# capabilities come from the DaemonSet (deploy/helm).
FROM node:20-bookworm-slim
# nft: firewall module and IPS transparent mode; dmesg (util-linux): firewall log rules
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ARG BUNDLE=dist/agent/palisade-agent-0.1.0-linux-x64.tar.gz
COPY ${BUNDLE} /tmp/palisade-agent.tar.gz
RUN mkdir /tmp/palisade-agent \
 && tar -xzf /tmp/palisade-agent.tar.gz -C /tmp/palisade-agent --strip-components=1 \
 && sh /tmp/palisade-agent/install.sh --prefix /opt/palisade --no-systemd \
 && ln -s /opt/palisade/bin/palisade /usr/local/bin/palisade \
 && rm -rf /tmp/palisade-agent /tmp/palisade-agent.tar.gz
ENTRYPOINT ["/opt/palisade/bin/palisade"]
CMD ["agent", "start", "--data-dir", "/var/lib/palisade-agent"]
