# roomguard container image: build the TypeScript, then run as an unprivileged user with only the
# runtime dependencies. The root filesystem can be read-only; the audit log needs a writable volume.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY policies ./policies
RUN mkdir -p /var/lib/roomguard/audit && chown -R node:node /var/lib/roomguard
USER node
EXPOSE 8080
VOLUME ["/var/lib/roomguard/audit"]
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/roomguard.js"]
CMD ["serve", "--config", "/etc/roomguard/roomguard.yaml"]
