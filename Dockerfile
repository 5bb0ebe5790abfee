# roomguard container image. Three stages: compile the TypeScript with every dependency, install the
# production dependencies alone, then a runtime image that holds only dist/, those dependencies and the
# example policies (for `roomguard demo`). It runs as a numeric non-root user and works with a read-only
# root filesystem: the only writable paths are the audit volume and /tmp. No secret is baked in; the
# config, policies and keys are mounted at run time (docs/deployment.md).
#
# Build:  docker build -t roomguard .
# Run:    see deploy/compose/ (or deploy/kubernetes/) — config at /etc/roomguard/roomguard.yaml.

# Node.js 24 LTS, the line the project is built and tested with (package.json engines: >=22); pin a
# digest too in your own registry mirror.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed by any runtime dependency; refusing them keeps the build reproducible.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
COPY --chown=0:0 package.json ./
COPY --chown=0:0 policies ./policies
# The audit chain is the one thing roomguard writes; it belongs on a volume owned by the runtime user.
RUN mkdir -p /var/lib/roomguard/audit /etc/roomguard \
 && chown 10001:10001 /var/lib/roomguard/audit \
 && chmod 0700 /var/lib/roomguard/audit
# Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup; owns none of the code.
USER 10001:10001
EXPOSE 8080 9464
VOLUME ["/var/lib/roomguard/audit"]
# /healthz answers without a session; Node's own fetch, because the slim image has no curl.
ENV ROOMGUARD_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.ROOMGUARD_HEALTHCHECK_URL).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/cli.js"]
CMD ["serve", "--config", "/etc/roomguard/roomguard.yaml"]
