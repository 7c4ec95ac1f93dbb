# The platform's services — connectors, recorder, strategies — as `ttxt` in a slim Python image.
# docker-compose.yml builds it once (`build: .`) and runs one service of a pipeline file per
# container. The broker is the `kafka` service (apache/kafka): no Java in this image.
FROM python:3.11-slim

WORKDIR /opt/ttxt
# What the wheel is built from: pyproject.toml's package, the folders ttxt_kafka/<name> links to
# (connectors, recorder, ...: they install as ttxt_kafka.<name>) and the force-included folders.
COPY pyproject.toml README.md ./
COPY ttxt_kafka ttxt_kafka
COPY connectors connectors
COPY recorder recorder
COPY replayer replayer
COPY strategies strategies
COPY simulator simulator
COPY schemas schemas
COPY kafka kafka
COPY schema_registry schema_registry
COPY examples examples
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /opt/ttxt ttxt \
    && mkdir -p /data /etc/ttxt && chown ttxt /data

# Not root; /data (the recorder's volume) is the one writable place.
USER ttxt
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["ttxt"]
CMD ["--help"]
