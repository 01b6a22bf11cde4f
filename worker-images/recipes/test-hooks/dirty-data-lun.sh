#!/usr/bin/env bash
# A boot-test.sh --hook: enrolls MAC (default 52:54:00:aa:00:03) and writes 1 MiB of 0xab at the
# start of its data LUN, through the target with the worker's own CHAP credentials (libiscsi,
# qemu-io). The data LUN then holds data but no filesystem, and apiary-data must refuse to
# format it: the boot should print "APIARY-DATA none: ... not blank; not formatting it".
#   boot-test.sh IMG --hook worker-images/recipes/test-hooks/dirty-data-lun.sh --boots bios:52:54:00:aa:00:03
set -euo pipefail
mac=${1:-52:54:00:aa:00:03}
script=$(curl -fsS "$BOOT_URL/boot/$mac")   # enrolls the machine; dhcp: off serves loopback
val() { sed -n "s/^set $1 //p" <<<"$script"; }
uri=$(grep -o 'iscsi:[^ ]*' <<<"$script" | head -n 1)   # iscsi:<host>::<port>:<lun>:<target iqn>
target=$(cut -d: -f6- <<<"$uri")
qemu-io --image-opts -c 'write -P 0xab 0 1M' "driver=raw,file.driver=iscsi,file.transport=tcp,\
file.portal=127.0.0.1:$ISCSI_PORT,file.target=$target,file.lun=1,file.user=$(val username),\
file.password=$(val password),file.initiator-name=$(val initiator-iqn)"
