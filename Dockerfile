# syntax=docker/dockerfile:1
# journeylens container image: `docker build -t journeylens .`
#
# NOTE: this image has not been built in the project's development sandbox, which has no Docker
# engine; test/unit/dockerfile.test.ts checks its structure and its agreement with the Helm
# chart, and a machine with Docker must do the first real build.
#
# Debian slim, not Alpine: hnswlib-node is a native addon compiled against glibc, and the
# TF.js backends are tested on glibc. Two stages: the build stage has the C++ toolchain and the
# dev dependencies; the runtime stage has only production node_modules, the compiled JS, the
# Avro schemas, the default model bundle and the web console's page, and runs as an
# unprivileged user.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# node-gyp needs python3, make and g++ to compile hnswlib-node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so code changes do not re-run the native build.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY tools ./tools
COPY bench ./bench
COPY schemas ./schemas
COPY models ./models
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 # fail the build here, not at run time, when the addon did not compile
 && node -e "require('hnswlib-node')"

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    JOURNEYLENS_METRICS_HOST=0.0.0.0 \
    JOURNEYLENS_METRICS_PORT=9464 \
    JOURNEYLENS_BUNDLE=/app/models/default
# A fixed numeric uid/gid (10001), matching the Helm chart's runAsUser, so Kubernetes can verify
# runAsNonRoot without looking the name up.
RUN groupadd --system --gid 10001 journeylens \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin journeylens
WORKDIR /app
# Owned by root and read-only for the app: the chart also mounts the root filesystem read-only
# and gives the process an emptyDir at /tmp.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the web console's page: served as it is, found from the package root (tsc does not copy it)
COPY --from=build /app/src/console/static ./src/console/static
COPY --from=build /app/bin ./bin
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/models ./models
RUN ln -s /app/bin/journeylens.js /usr/local/bin/journeylens
USER 10001:10001
EXPOSE 9464
# the web console, when turned on (JOURNEYLENS_UI_PORT; `journeylens ui` defaults to it)
EXPOSE 9465
# Docker's own health check; Kubernetes uses the chart's probes on the same endpoint instead.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.JOURNEYLENS_METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself (graceful shutdown: stop fetching, flush, commit).
ENTRYPOINT ["node", "/app/bin/journeylens.js"]
CMD ["run"]
