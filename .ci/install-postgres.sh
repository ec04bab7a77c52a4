#!/usr/bin/env bash
# Installs PostgreSQL 15 and builds pgvector from Debian's source package when missing.
# Idempotent: a machine that already has both skips every step.
set -euo pipefail
PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_updated=0
apt_update() { if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi; }

if [ ! -x "$PGBIN/postgres" ]; then
  echo "[ci] installing postgresql-$PGVER"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$PGVER" >/dev/null
fi

if [ ! -f "/usr/share/postgresql/$PGVER/extension/vector.control" ]; then
  echo "[ci] building pgvector from Debian's source package (trixie deb-src)"
  SRC_LIST=/etc/apt/sources.list.d/trixie-src.sources
  if [ ! -f "$SRC_LIST" ]; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee "$SRC_LIST" >/dev/null
  fi
  apt_updated=0; apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-server-dev-$PGVER" build-essential dpkg-dev >/dev/null
  work=$(mktemp -d)
  ( cd "$work" && apt-get source -qq pgvector >/dev/null 2>&1 )
  dir=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  [ -n "$dir" ] || { echo "[ci] apt-get source pgvector produced no source tree" >&2; exit 1; }
  make -s -C "$dir" PG_CONFIG="$PGBIN/pg_config" OPTFLAGS="" >/dev/null
  $SUDO make -s -C "$dir" PG_CONFIG="$PGBIN/pg_config" install >/dev/null
  rm -rf "$work"
fi
echo "[ci] PostgreSQL $PGVER with pgvector: $(ls /usr/share/postgresql/$PGVER/extension/vector--*.sql | sort -V | tail -n1 | sed 's/.*vector--//;s/\.sql//')"
