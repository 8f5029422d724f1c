# syntax=docker/dockerfile:1
# recflow: one image for the API (default command) and the training worker (node dist/worker.js).

# --- build: dev dependencies, native modules, TypeScript -----------------------------------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json vite.config.ts ./
COPY src ./src
COPY migrations ./migrations
COPY openapi.yaml ./
# npm ci runs `prepare`: the TypeScript build, then vite bundles the dashboard into dist/web. The image has network here, so the optional
# @tensorflow/tfjs-node installs (its install script downloads libtensorflow) and training uses
# native TensorFlow instead of the wasm fallback.
RUN npm ci
RUN node -e "require('@tensorflow/tfjs-node'); console.log('tfjs-node ok')"
RUN npm prune --omit=dev

# --- run: production dependencies only, non-root --------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_PATH=/data/recflow.db \
    MODEL_DIR=/data/models \
    LOG_PRETTY=false
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/migrations ./migrations
COPY --from=build --chown=node:node /app/openapi.yaml ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
