# syntax=docker/dockerfile:1
# One image per service, chosen by build target:
#   docker build --target api -t ghcr.io/flowgate/api:0.1.0 .   (also worker, processor, logger, operator)
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything, compile the TypeScript project references ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY services/common/package.json services/common/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
COPY services/processor/package.json services/processor/
COPY services/logger/package.json services/logger/
COPY services/operator/package.json services/operator/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY services/ services/
RUN npx tsc -b

# ---- production dependencies only, no build tools ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/services/common/package.json services/common/
COPY --from=build /app/services/api/package.json services/api/
COPY --from=build /app/services/worker/package.json services/worker/
COPY --from=build /app/services/processor/package.json services/processor/
COPY --from=build /app/services/logger/package.json services/logger/
COPY --from=build /app/services/operator/package.json services/operator/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# ---- runtime base: production node_modules and @flowgate/common, as the non-root `node` user ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A smaller young generation and a slower-growing old one (--heap-growing-percent, in the entrypoint:
# NODE_OPTIONS does not accept it) keep each service's resident memory well under its 256 MiB limit.
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
# Code stays root-owned: the app cannot modify it, and pods mount the root filesystem read-only.
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/package.json ./
COPY --from=build /app/services/common/package.json services/common/
COPY --from=build /app/services/common/dist services/common/dist
USER node
# Exec form: node runs as PID 1 and receives SIGTERM itself, so each service's shutdown handler
# (the worker finishing its active jobs, the api draining requests) runs before exit.
# The tracing bootstrap loads before the service (a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set).
ENTRYPOINT ["node", "--heap-growing-percent=50", "--import", "/app/services/common/dist/tracing/register.js"]

FROM runtime AS api
COPY --from=build /app/services/api/package.json services/api/
COPY --from=build /app/services/api/dist services/api/dist
EXPOSE 8000
# The migration Job runs this image with: node services/common/dist/bin/migrate.js
CMD ["services/api/dist/main.js"]

FROM runtime AS worker
COPY --from=build /app/services/worker/package.json services/worker/
COPY --from=build /app/services/worker/dist services/worker/dist
CMD ["services/worker/dist/main.js"]

FROM runtime AS processor
COPY --from=build /app/services/processor/package.json services/processor/
COPY --from=build /app/services/processor/dist services/processor/dist
CMD ["services/processor/dist/main.js"]

FROM runtime AS logger
COPY --from=build /app/services/logger/package.json services/logger/
COPY --from=build /app/services/logger/dist services/logger/dist
CMD ["services/logger/dist/main.js"]

FROM runtime AS operator
COPY --from=build /app/services/operator/package.json services/operator/
COPY --from=build /app/services/operator/dist services/operator/dist
ENTRYPOINT ["node", "services/operator/dist/main.js"]
CMD ["run"]
