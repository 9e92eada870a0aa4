#!/usr/bin/env bash
# Install Debian documentation packages with English prose and extract their
# paragraphs as plain text, one paragraph per line, into eval/work/source/.
# Needs root (apt-get). Reproducible: same Debian release -> same text.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-$HERE/work/source}"
PKGS="debian-handbook debian-reference-en python3-doc developers-reference debian-policy maint-guide jargon-text gnu-standards"
if [ "${SKIP_APT:-0}" != 1 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi
mkdir -p "$OUT"
# Record exact package versions for the corpus metadata.
dpkg-query -W -f='${Package}\t${Version}\n' $PKGS python3.11-doc 2>/dev/null | sort -u > "$OUT/packages.tsv"
python3 "$HERE/extract_text.py" --out "$OUT/paragraphs.txt" \
  /usr/share/doc/debian-handbook/html/en-US \
  /usr/share/debian-reference \
  /usr/share/doc/python3.11/html \
  /usr/share/doc/developers-reference \
  /usr/share/doc/debian-policy \
  /usr/share/doc/maint-guide/html \
  /usr/share/doc/jargon-text/jargon.txt.gz \
  /usr/share/doc/gnu-standards/standards.text.gz \
  /usr/share/doc/gnu-standards/maintain.text.gz
