# syntax=docker/dockerfile:1
# The calendly-gateway image: built in one stage, run from a small one, as a user of its own.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY migrations migrations
COPY config config
COPY tests tests
# The reference web client's built files, compiled into the binary (served only with demo.enabled,
# which production refuses).
COPY web/dist web/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p app-http --bin calendly-gateway \
 && cp target/release/calendly-gateway /usr/local/bin/calendly-gateway

FROM debian:bookworm-slim
# ca-certificates: Calendly's TLS certificate is checked against the system's roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /app gateway
WORKDIR /app
COPY --from=build /usr/local/bin/calendly-gateway /usr/local/bin/calendly-gateway
COPY config config
# Production refuses to start without real secrets (APP__AUTH__JWT_SECRET,
# APP__CALENDLY__TOKEN_ENCRYPTION_KEY) and listens on 0.0.0.0:8080 with JSON logs.
ENV APP_ENV=production
USER gateway
EXPOSE 8080
ENTRYPOINT ["calendly-gateway"]
CMD ["serve"]
