# Palisade manager image. Build context: the repository root.
#   docker build -f deploy/docker/manager.Dockerfile -t palisade-manager .
# Runs as uid 10001 with its data (CA, admin key, SQLite) in /data; PALISADE_DB=postgres://...
# selects PostgreSQL. The image also holds the agent bundle the manager serves to deployment scripts.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY apps ./apps
COPY packages ./packages
COPY rules ./rules
COPY bin ./bin
COPY scripts ./scripts
COPY deploy/agent-bundle ./deploy/agent-bundle
COPY deploy/systemd ./deploy/systemd
RUN npm ci --no-audit --no-fund \
 && node --import tsx scripts/build-agent-bundle.ts --out dist/agent

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production \
    PALISADE_AGENT_BUNDLE_DIR=/app/dist/agent
RUN mkdir /data && chown 10001:10001 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 4119
ENTRYPOINT ["node", "/app/bin/palisade.mjs"]
CMD ["manager", "start", "--data-dir", "/data", "--host", "0.0.0.0", "--port", "4119"]
