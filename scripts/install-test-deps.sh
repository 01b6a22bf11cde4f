#!/usr/bin/env bash
# The Debian packages the tests use as real peers: libiscsi's tools (iscsi-test-cu, iscsi-inq,
# iscsi-ls, iscsi-perf) and headers for the load generator, tgt as the reference target, QEMU with
# its iSCSI block driver, TFTP clients (atftp, tftp-hpa, curl) and busybox udhcpc for the DHCP
# tests in network namespaces; for the PXE boot test, Debian's iPXE binaries (ipxe), QEMU's iPXE
# NIC ROMs (ipxe-qemu), UEFI firmware (ovmf) and dnsmasq as the home router's DHCP server
# (dnsmasq-base: the binary only, no service started); for the user-story tests, what the worker
# image recipe needs (debootstrap, extlinux, GRUB's EFI modules, mtools, ...) and python3 (the
# test's apt repository and Wake-on-LAN listener); for the RBD store's tests, Ceph's daemons (a
# cluster on 127.0.0.1 started by integration/ceph/up.sh; no service is started by the packages
# here) and tgt's rbd backing store, the benchmark's reference. Installs only what is missing. (tftpd-hpa, the TFTP peer of the
# benchmark, is not here: its package starts a server on port 69; tftp-bench.sh installs it.)
set -euo pipefail
pkgs=(libiscsi-bin libiscsi-dev tgt qemu-system-x86 qemu-utils qemu-block-extra gcc iproute2 atftp tftp-hpa curl busybox
      ipxe ipxe-qemu ovmf dnsmasq-base
      debootstrap extlinux syslinux-common grub-efi-amd64-bin mtools dosfstools fdisk e2fsprogs python3
      ceph-mon ceph-mgr ceph-osd ceph-common tgt-rbd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing packages ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
