# Kho Lưu in a container (docker-compose.yml's "web" service): Debian 12 with the tools Kho Lưu
# calls, installed by the same scripts/bootstrap a bare machine uses, and `kholuu serve` (waitress)
# as the command. The data folder is a volume at /srv/kholuu; run `kholuu init` once in it.
FROM debian:bookworm-slim
WORKDIR /opt/kholuu
COPY . .
RUN scripts/bootstrap && rm -rf /var/lib/apt/lists/* /root/.cache
ENV PATH=/opt/kholuu/.venv/bin:$PATH KHOLUU_HOME=/srv/kholuu
VOLUME /srv/kholuu
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["kholuu", "serve", "--host", "0.0.0.0", "--port", "8080", "--scheduler"]
