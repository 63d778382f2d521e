# Ortsatlas: production image. Build: docker build -t ortsatlas .
# Run:   docker run -p 8050:8050 -v ortsatlas-data:/data ortsatlas
FROM python:3.11-slim

# Logs as JSON lines (request id, route, status, duration; never secrets) for the host's log collector.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    ATLAS_DATA_DIR=/data HOST=0.0.0.0 PORT=8050 ATLAS_LOG_FORMAT=json

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py ./
COPY atlas ./atlas
COPY auth ./auth
COPY layers ./layers
COPY assets ./assets
# Report templates (GET /api/v1/reports); read at run time like layers/.
COPY reports ./reports

RUN useradd --create-home --uid 10001 atlas && mkdir -p /data && chown atlas /data
USER atlas
# Build matplotlib's font cache now, not on the first map picture someone asks for.
RUN python -c "import matplotlib.font_manager"
VOLUME /data
EXPOSE 8050
# /readyz, not /healthz: healthy means the store can be read, not only that the process answers.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8050/readyz')"

# No --preload: each worker opens its own DuckDB connection after the fork.
# Workers read concurrently; uploads serialise on the store's write lock. Large extracts are
# checked in a background thread (ATLAS_UPLOAD_BACKGROUND_KB), so no request waits for a 1 M-row
# check; the timeout covers the rest (a big export or booklet page).
CMD ["gunicorn", "app:server", "--bind", "0.0.0.0:8050", "--workers", "2", "--threads", "4", \
     "--timeout", "120", "--keep-alive", "5", "--access-logfile", "-"]
