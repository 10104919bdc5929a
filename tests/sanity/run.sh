#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection from a fresh copy under build/ansible_collections.
#
# - ansible-test must run from .../ansible_collections/<ns>/<name>; it resolves symlinks, so the
#   content is copied (git-tracked and untracked-but-not-ignored files, like ansible-test itself).
# - twin/ and bench/ are not collection content (galaxy.yml build_ignore), so they are not copied.
# - ansible-test bootstraps pip from a download host these machines cannot reach; it uses a cached
#   get-pip script when present, so we put tools/ansible-test-get-pip.py (stdlib ensurepip) there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# SANITY_VENV: a venv with another ansible-core (e.g. .matrix/oldest, made by tools/matrix.py)
venv="${SANITY_VENV:-$root/.venv}"
dest="$root/build/sanity/ansible_collections/vigil/openstack"

pip_version=$("$venv/bin/python" - <<'PY'
import inspect, re
import ansible_test._internal.python_requirements as m
print(re.search(r"pip='([^']+)'", inspect.getsource(m)).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp "$root/tools/ansible-test-get-pip.py" "$cache"

rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -z -co --exclude-standard \
  | python3 -c '
import os, sys
skip = ("twin/", "bench/", "tools/")
for p in sys.stdin.buffer.read().split(b"\0"):
    s = p.decode()
    if s and os.path.isfile(s) and not s.startswith(skip):
        sys.stdout.write(s + "\0")' \
  | tar --null -T - -cf - | tar -xf - -C "$dest"

cd "$dest"
# its own git repository, else ansible-test asks the parent repo, where build/ is ignored
git init -q .
export PATH="$venv/bin:$PATH"
ansible-test sanity --venv --python 3.11 --color no "$@"
