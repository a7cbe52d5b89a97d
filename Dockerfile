# Pulse Audit: one image for every process of a deployment (web, clock, release).
# Build: docker build -t pulse-audit .   Run: see compose.yaml and README's *Deploying it*.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app

# The pinned lock, every file checked against its hash (it also pins the test tools; they are
# small, and one lock for tests and production means what was tested is what runs).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY surveys ./surveys
COPY storage ./storage
RUN pip install --no-deps . && rm -rf /app/bot /app/surveys /app/storage

# Never root: the app needs no privilege, and its files belong to root (read-only to it).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pulse
USER pulse
WORKDIR /home/pulse

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# `pulse web` by default; the clock and the migrations run the same image with another command.
CMD ["pulse", "web"]
