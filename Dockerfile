# The platform's services — connectors, recorder, strategies — as `ttxt` in a slim Python image.
# docker-compose.yml builds it once (`build: .`) and runs one service of a pipeline file per
# container. The broker is the `kafka` service (apache/kafka): no Java in this image.
# Stage 1 builds the wheel with a C compiler (hatch_build.py compiles the C readers: Kraken's
# trade pushes, the replay's block walk); the image itself stays slim, without one.
FROM python:3.11-slim AS wheel
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# What the wheel is built from: pyproject.toml's package, the folders ttxt_kafka/<name> links to
# (connectors, recorder, ...: they install as ttxt_kafka.<name>), the force-included folders and
# the build hook.
COPY pyproject.toml README.md hatch_build.py ./
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
RUN pip wheel --no-cache-dir --no-deps -w /wheels .

FROM python:3.11-slim
WORKDIR /opt/ttxt
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --home-dir /opt/ttxt ttxt \
    && mkdir -p /data /etc/ttxt && chown ttxt /data

# Not root; /data (the recorder's volume) is the one writable place.
USER ttxt
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["ttxt"]
CMD ["--help"]
