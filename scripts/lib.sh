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

ensure_venv() {
  local reqs="$1"
  if [ ! -x "$PY" ]; then
    local sys_py; sys_py="$(find_python)"
    say "Creating the virtual environment (.venv)"
    if ! "$sys_py" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"; apt_install python3-venv; "$sys_py" -m venv "$VENV"
    fi
    "$PY" -m pip install -q --upgrade pip
  fi
  local stamp="$VENV/.installed-$(basename "$reqs")"
  if [ ! -f "$stamp" ] || [ "$reqs" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
    say "Installing Python packages ($reqs)"
    "$PY" -m pip install -q -r "$reqs"
    touch "$stamp"
  fi
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
  command -v msgfmt >/dev/null 2>&1 || apt_install gettext
  "$PY" manage.py compilemessages -v 0 --ignore=.venv
}
