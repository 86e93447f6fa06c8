# fiscal-engine: the `fiscal` CLI as the entry point, run as a non-root user (docs/deploy.md).
#   docker build -t fiscal-engine .
#   docker run --rm fiscal-engine worker --queue amqp://… --ledger postgres://…
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 (the embedded ledger and queue) compiles from source on Node 20
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY formats ./formats
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY formats ./formats
RUN useradd --system --create-home --home-dir /var/lib/fiscal --uid 10001 fiscal && mkdir -p /data && chown fiscal /data
USER fiscal
WORKDIR /var/lib/fiscal
ENTRYPOINT ["node", "/app/bin/fiscal.js"]
CMD ["--help"]
