# One image for every part of the split deployment (docker-compose.yml picks the part with --only).
FROM node:20-bookworm-slim
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
EXPOSE 1883 3000 9464
CMD ["node", "--import", "tsx", "app/main.ts"]
