# One image for every part of the split deployment (docker-compose.yml picks the part with --only).
# Stage 1 compiles the service and the dashboard page; stage 2 holds dist/, the production dependencies and the
# demo farm, and runs compiled JavaScript with plain node as an unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts/start.mjs /app/scripts/sources.mjs ./scripts/
COPY --from=build /app/config ./config
# The image's own user (uid 1000, from the node image) owns only the data directory.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1883 3000 9464
# Every part serves /health on HTTP_PORT (200 while it works, also "degraded" while InfluxDB is away).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/app/healthcheck.js"]
# As npm start: a larger young generation, so readings waiting in a batch die young instead of being copied to the
# old generation (garbage collection was a third of the service's time under load; README "Performance"). Through
# NODE_OPTIONS so compose's commands (node dist/app/main.js --only PART) get it too.
ENV NODE_OPTIONS=--max-semi-space-size=64
CMD ["node", "dist/app/main.js"]
