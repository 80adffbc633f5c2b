# Shared helpers for the setup, run and test scripts. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  # Installs Debian packages that are not there yet.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing with apt: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq || true; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$c"; return 0
    fi
  done
  echo "Python 3.11 is required" >&2; return 1
}

# The requirement files, each including the one before it: production, the demo (its local queue server), the tests.
REQUIREMENTS=(requirements.txt requirements-demo.txt requirements-test.txt)

ensure_venv() {
  # Creates .venv and installs the given requirement file (one of REQUIREMENTS) unless it, or a file that includes
  # it, was installed after the last change to any requirement file.
  local reqs="$1"
  if [ ! -x "$PY" ]; then
    local sys_py; sys_py="$(find_python)"
    say "Creating the virtual environment (.venv)"
    if ! "$sys_py" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"; apt_install python3-venv; "$sys_py" -m venv "$VENV"
    fi
  fi
  local covered=0 r stamp fresh
  for r in "${REQUIREMENTS[@]}"; do
    [ "$r" = "$reqs" ] && covered=1
    [ "$covered" = 1 ] || continue
    stamp="$VENV/.installed-$r"
    [ -f "$stamp" ] || continue
    fresh=1
    for f in "${REQUIREMENTS[@]}"; do [ "$f" -nt "$stamp" ] && fresh=0; done
    [ "$fresh" = 1 ] && return 0
  done
  say "Installing Python packages ($reqs)"
  # --no-compile: Python compiles each module on its first import instead, so only what runs is compiled (about
  # 10 s and 50 MB less on a first start). The bundled pip is recent enough: no upgrade on the first start.
  "$PY" -m pip install -q --no-compile -r "$reqs"
  touch "$VENV/.installed-$reqs"
}

ensure_env_file() {
  if [ ! -f .env ]; then
    say "Writing a development .env (DEBUG on, sandbox on, fresh random keys)"
    "$PY" - <<'PY'
import secrets
from cryptography.fernet import Fernet
open(".env", "w").write(
    "# Development settings written by scripts/setup. Never use this file in production.\n"
    "DEBUG=true\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"TOKEN_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
    "SANDBOX_ENABLED=true\n"
)
PY
  fi
}

ensure_messages() {
  # What `manage.py compilemessages` does (msgfmt --check-format on each .po), without starting Django.
  # --or-committed (the demo): without gettext, the .mo files in the repository serve as they are, instead of an
  # apt-get update and install on a fresh machine. The tests always compile.
  local po
  if ! command -v msgfmt >/dev/null 2>&1; then
    if [ "${1:-}" = "--or-committed" ]; then
      local missing=0
      for po in locale/*/LC_MESSAGES/*.po; do [ -e "$po" ] && [ ! -f "${po%.po}.mo" ] && missing=1; done
      if [ "$missing" = 0 ]; then
        say "Using the committed translations (.mo); install gettext to compile them from the .po files"
        return 0
      fi
    fi
    apt_install gettext
  fi
  for po in locale/*/LC_MESSAGES/*.po; do
    [ -e "$po" ] || continue
    msgfmt --check-format -o "${po%.po}.mo" "$po"
  done
}

prepare_database() {
  # Migrates, then runs the given management commands, in one Python process (each `manage.py` pays Django's
  # start-up again, seconds on a busy machine).
  "$PY" - "$@" <<'PY'
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
for command in sys.argv[1:]:
    call_command(command)
PY
}

python_packages() {
  # The project's Python packages (each top-level folder with an __init__.py) but the tests: what mypy checks.
  local d
  for d in */__init__.py; do [ "${d%/__init__.py}" = tests ] || echo "${d%/__init__.py}"; done
}
