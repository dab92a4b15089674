# kubevet in a small non-root image: build wheels in a full Python image, run on distroless
# (no shell, no package manager). Both bases are pinned by digest (refresh them with a tool
# such as Renovate; the tags are kept beside the digests for people).
#   docker build -t kubevet . && docker run --rm -v "$PWD:/work:ro" kubevet check /work

# python:3.11-slim-bookworm: the same CPython minor as the runtime below, so compiled
# wheels (rapidyaml, PyYAML) match its ABI.
FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip install --no-cache-dir --target /opt/kubevet . \
    && python -m compileall -q /opt/kubevet

# gcr.io/distroless/python3-debian12:nonroot: Debian 12's Python 3.11, user 65532.
FROM gcr.io/distroless/python3-debian12:nonroot@sha256:7d1042ce588ab97019fe95c24ffca7bc5a82ccdac572511d5e09bda4435c89c5
COPY --from=build /opt/kubevet /opt/kubevet
ENV PYTHONPATH=/opt/kubevet PYTHONDONTWRITEBYTECODE=1
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["python3", "-m", "kubevet"]
CMD ["--help"]
