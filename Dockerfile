# The two AgentCore Runtime containers and the task worker, one target each (the CDK app in deploy/
# builds them):
#   docker buildx build --platform linux/arm64 --target agent -t longrun-agent .
#   docker buildx build --platform linux/arm64 --target mcp-server -t longrun-mcp-server .
#   docker buildx build --platform linux/arm64 --target worker -t longrun-worker .
# AgentCore Runtime runs arm64 only, so every stage is arm64 whatever machine builds it.
# Node 22 runs the TypeScript sources directly (type stripping): no build step, no dist/.
# test/deploy/container-image.test.ts follows this file's COPY, RUN, ENV and CMD lines.
# The builder's own Dockerfile frontend is enough (there is no syntax directive), so a CodeBuild
# build pulls nothing from Docker Hub: it takes the Node base image from its ECR Public mirror.
# Pinned to an exact release (the one the project's own node dev dependency is): type stripping needs
# at least 22.18, and a floating node:22 from a stale cache could be older and crash at start.
ARG NODE_IMAGE=node:22.23.3-bookworm-slim

# Production dependencies only. --ignore-scripts skips `prepare`, which builds dist/ with tsc (a
# dev dependency the image does not need).
FROM --platform=linux/arm64 ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM --platform=linux/arm64 ${NODE_IMAGE} AS app
ENV NODE_ENV=production
ENV LONGRUN_DATA_DIR=/tmp/longrun
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
# package.json says "type": "module", which the sources need.
COPY package.json ./
COPY src ./src
# The image's own unprivileged user; it writes nowhere but /tmp.
USER node

# The agent runtime: POST /invocations and GET /ping on 8080.
FROM app AS agent
ENV PORT=8080
ENV RUNTIME_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/ping`).then(async (r) => process.exit(r.ok && (await r.json()).status?.startsWith('Healthy') ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--disable-warning=ExperimentalWarning", "src/entrypoint.ts"]

# The long-running MCP server: Streamable HTTP at /mcp and GET /ping on 8000.
FROM app AS mcp-server
ENV MCP_PORT=8000
ENV MCP_HOST=0.0.0.0
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.MCP_PORT}/ping`).then(async (r) => process.exit(r.ok && (await r.json()).status?.startsWith('Healthy') ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--disable-warning=ExperimentalWarning", "src/mcp-server-entrypoint.ts"]

# The task worker (`longrun worker`, MCP_TASK_BACKEND=redis): it takes background tasks from Redis,
# runs them and delivers their results, beside MCP server replicas that run none (MCP_RUN_WORKER=false).
# It listens on no port, so there is no HEALTHCHECK: the process itself is what is watched. SIGTERM
# gives running tools MCP_SHUTDOWN_GRACE_MS, puts what still runs back in the queue, publishes the
# queue depth once more and exits 0; the container's stop timeout must exceed that grace period.
FROM app AS worker
CMD ["node", "--disable-warning=ExperimentalWarning", "src/mcp-server-entrypoint.ts", "--worker"]
