# syntax=docker/dockerfile:1
# b24-mts-sms: a multi-stage build. The first stage compiles better-sqlite3 and builds the
# service and its admin page; the second holds only what runs (no compiler, no dev
# dependencies), as a non-root user, with the SQLite data in a volume.
#   docker build -t b24-mts-sms .
#   docker run -d --env-file .env -p 3000:3000 -v b24sms-data:/data b24-mts-sms
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 is compiled from source (.prebuild-installrc: buildFromSource): nothing is downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .prebuild-installrc ./
# Dependencies first (cached while only the sources change); the one native build is
# better-sqlite3's.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATABASE_URL=sqlite:/data/b24-mts-sms.sqlite
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# As `npm start` does: V8's young generation capped at 1 MiB semi-spaces.
CMD ["node", "--max-semi-space-size=1", "dist/cli/index.js", "serve"]
