#!/usr/bin/env bash
# install-deps.sh - the Debian packages up.sh needs: the Ceph daemons (mon, mgr, osd), the ceph
# and rbd CLIs with librados/librbd (ceph-common), and tgt's RBD backing store (tgt-rbd, the
# off-the-shelf baseline the RBD store is compared with). Installs only what is missing; needs root.
set -euo pipefail
pkgs=(ceph-mon ceph-mgr ceph-osd ceph-common tgt-rbd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The packages ship systemd units; without systemd nothing starts them, up.sh starts the daemons.
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}
