# syntax=docker/dockerfile:1
#
# The momentum service image. Build from the repository root:
#   docker build -t momentum:0.1.0 .
# Run it on SQLite with the database in a named volume:
#   docker run --rm -p 8080:8080 -v momentum-data:/data \
#     -e MOMENTUM_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" momentum:0.1.0
# The Helm chart in helm/momentum deploys it on Kubernetes.

# The toolchain the project is developed with (Cargo.toml's rust-version is the
# minimum). The build and runtime images must share the Debian release, so the
# binary finds the same glibc.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Only what the build reads: the manifest, the lock file, the build script
# (it lists migrations/), the sources and the files the binary embeds with
# include_str! (migrations, message templates, the example program).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY examples ./examples
# The registry and target/ live in BuildKit caches, so a rebuild after a
# source change recompiles only the crate; the binary is copied out of the cache.
# The server only: without the default feature `local` (the simulated
# workspaces, the demo, the playground and `momentum bench`), optimised as
# one program (the `server` profile in Cargo.toml).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile server --locked --no-default-features \
 && install -m 0755 target/server/momentum /usr/local/bin/momentum

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# CA certificates: Slack's API is called over TLS with the system's roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A numeric, non-root user (the Helm chart runs as the same 10001:10001) that
# owns /data, where the SQLite database lives.
RUN groupadd --system --gid 10001 momentum \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin momentum \
 && mkdir /data \
 && chown 10001:10001 /data
COPY --from=build /usr/local/bin/momentum /usr/local/bin/momentum

LABEL org.opencontainers.image.title="momentum" \
      org.opencontainers.image.description="Keeps a coaching or leadership program alive between sessions, in Slack and Microsoft Teams." \
      org.opencontainers.image.licenses="Apache-2.0"

USER 10001:10001
WORKDIR /data
# Listen on every interface (the service's default, 127.0.0.1, is unreachable
# from outside a container). SQLite by default, in /data; set
# MOMENTUM_DATABASE_URL=postgres://... for PostgreSQL. MOMENTUM_SECRET_KEY must
# come from the environment (a Secret), never from the image.
ENV MOMENTUM_LISTEN=0.0.0.0:8080 \
    MOMENTUM_DATABASE_URL=sqlite:///data/momentum.db
EXPOSE 8080
# momentum stops gracefully on SIGTERM (docker stop, Kubernetes).
ENTRYPOINT ["momentum"]
CMD ["serve"]
