# syntax=docker/dockerfile:1
# Multi-stage build from the same lock file as development; the runtime image has no build tools.
# BASE_IMAGE: any Debian bookworm image with python3.11 (`make image` builds one from Debian's packages
# with deploy/image/build-base.sh; the default is the public image).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
LABEL org.example.mfa-service.stage=build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN python3.11 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir --quiet uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN --mount=type=cache,target=/root/.cache/uv /opt/uv/bin/uv sync --frozen --no-dev --no-editable

FROM ${BASE_IMAGE} AS runtime
ARG BASE_IMAGE
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="mfa-service" \
      org.opencontainers.image.description="Authenticator-app (TOTP) multi-factor authentication service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
RUN groupadd --system --gid 10001 mfa && useradd --system --uid 10001 --gid mfa --no-create-home --home-dir /app mfa
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    MFA_ENV=production MFA_HOST=0.0.0.0 MFA_PORT=8000
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Follows MFA_PORT, the port `serve` listens on; the standard library only, no shell needed.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3.11", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('MFA_PORT', '8000'), timeout=2).status == 200 else 1)"]
CMD ["mfa-service", "serve"]
