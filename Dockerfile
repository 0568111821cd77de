# Multi-stage build of the helhed binary; the runtime image holds the binary and libpq only.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin helhed

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home helhed
COPY --from=build /src/target/release/helhed /usr/local/bin/helhed
COPY docker/issuers.toml /etc/helhed/issuers.toml
USER helhed
ENV HELHED_BIND=0.0.0.0:8080 HELHED_ISSUERS=/etc/helhed/issuers.toml RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["helhed"]
CMD ["serve"]
