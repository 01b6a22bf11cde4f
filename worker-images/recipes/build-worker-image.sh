#!/usr/bin/env bash
# build-worker-image.sh: builds the Apiary worker image, a raw disk image of Debian 12 that boots
# from an iSCSI LUN under both BIOS and UEFI (docs/worker-image.md).
#
#   build-worker-image.sh [--out IMG] [--size 1536M] [--cache DIR] [--version VERSION]
#                         [--data-path /var/lib/rancher|none] [--poweroff-after-up]
#                         [--extra-packages "pkg1,pkg2"] [--apt-source URL]
#                         [--security-source URL|none] [--apiary-url URL] [--maintenance]
#                         [--overlay DIR] [--install-debs DIR]
#
#   --out IMG            the raw image (default ./apiary-worker.img; sparse, about 510 MiB allocated)
#   --size SIZE          its size (default 1536M): 64 MiB ESP, the rest the root filesystem
#   --cache DIR          where bases and .debs are kept (default /var/cache/apiary-worker)
#   --version V          the image version the agent reports (default bookworm-<UTC date.time>)
#   --data-path P|none   where the data LUN is mounted (default /var/lib/rancher)
#   --poweroff-after-up  power off after the APIARY-WORKER-UP marker (tests)
#   --extra-packages L   more Debian packages in the base, comma or space separated
#   --apt-source URL     the Debian mirror (default http://deb.debian.org/debian)
#   --security-source U  the security mirror (default http://deb.debian.org/debian-security)
#   --apiary-url URL     where the agent reports (default http://<iBFT target address>:8080)
#   --maintenance        boot in maintenance mode: apt full-upgrade, then power off (tests;
#                        Apiary's upgrade workflow tells the agent instead)
#   --overlay DIR        files copied over the root filesystem last (SSH keys, an apt source list,
#                        a unit of your own); not part of the cached base
#   --install-debs DIR   every DIR/*.deb installed with dpkg into this image (local packages)
#
# Two stages:
#  1. base (cached): debootstrap bookworm (minbase + systemd-sysv, udev, kmod, iproute2), then
#     linux-image-amd64, open-iscsi, initramfs-tools, zstd and multipath-tools(-boot) without
#     recommends, with the initramfs set up for an iSCSI root from the iBFT (through every
#     portal it names, dm-multipath over them); docs, locales and unneeded drivers trimmed.
#     Kept in --cache under a key of everything that goes into it, so a rebuild with a warm
#     cache skips this stage; downloaded .debs are kept there too.
#  2. image (every run, seconds): a copy of the base plus files/rootfs (the worker's units and
#     scripts), the version and settings, then the raw image with an MBR:
#       p1  ESP, FAT32, 64 MiB, type ef: \EFI\BOOT\BOOTX64.EFI (grub-mkstandalone)   UEFI
#       p2  ext4 root, active, fixed UUID: extlinux, with syslinux's mbr.bin in the MBR  BIOS
#
# Must run as root (debootstrap, chroot, a loop device for extlinux). Ends with
#   RESULT build ok out=... size=... allocated=... seconds=...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
files=$here/files
t0=$(date +%s)

# What a base is made of; bump BASE_REVISION when stage 1 changes in a way the key cannot see.
BASE_REVISION=2
SUITE=bookworm
INCLUDE=systemd-sysv,udev,kmod,iproute2
PACKAGES=(linux-image-amd64 open-iscsi initramfs-tools zstd multipath-tools multipath-tools-boot)
ROOT_UUID=5e1f0a7e-0b00-4d15-8c1e-55a5b007b001
CMDLINE="root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8 panic=10 net.ifnames=0"
ESP_START=2048       # sectors of 512 bytes
ESP_SECTORS=131072   # 64 MiB
ROOT_START=133120    # right after the ESP

OUT=apiary-worker.img
SIZE=1536M
CACHE=/var/cache/apiary-worker
VERSION=
DATA_PATH=/var/lib/rancher
POWEROFF=0
MAINTENANCE=0
EXTRA=()
APT_SOURCE=http://deb.debian.org/debian
SECURITY_SOURCE=http://deb.debian.org/debian-security
APIARY_URL=
OVERLAY=
INSTALL_DEBS=

die() { echo "build-worker-image: $*" >&2; exit 1; }
say() { echo "build-worker-image: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
    opt=$1
    shift
    case "$opt" in
        --poweroff-after-up) POWEROFF=1; continue ;;
        --maintenance) MAINTENANCE=1; continue ;;
        -h | --help) usage 0 ;;
        --*=*) val=${opt#*=}; opt=${opt%%=*} ;;
        --*) [ $# -ge 1 ] || die "$opt needs a value"; val=$1; shift ;;
        *) echo "build-worker-image: unexpected argument $opt" >&2; usage ;;
    esac
    case "$opt" in
        --out) OUT=$val ;;
        --size) SIZE=$val ;;
        --cache) CACHE=$val ;;
        --version) VERSION=$val ;;
        --data-path) DATA_PATH=$val ;;
        --extra-packages) read -r -a more <<<"${val//,/ }"; EXTRA+=("${more[@]}") ;;
        --apt-source) APT_SOURCE=${val%/} ;;
        --security-source) SECURITY_SOURCE=${val%/} ;;
        --apiary-url) APIARY_URL=${val%/} ;;
        --overlay) OVERLAY=$val ;;
        --install-debs) INSTALL_DEBS=$val ;;
        *) echo "build-worker-image: unknown option $opt" >&2; usage ;;
    esac
done

# --- checks before anything is touched --------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and a loop device for extlinux)"
[ -z "$OVERLAY" ] || [ -d "$OVERLAY" ] || die "--overlay: $OVERLAY is not a directory"
if [ -n "$INSTALL_DEBS" ]; then
    compgen -G "$INSTALL_DEBS/*.deb" >/dev/null || die "--install-debs: no .deb in $INSTALL_DEBS"
fi
missing=()
need() { # need PACKAGE COMMAND-OR-PATH...
    local pkg=$1 p; shift
    for p in "$@"; do
        if [[ "$p" == /* ]]; then [ -e "$p" ] || { missing+=("$pkg"); return; }
        else command -v "$p" >/dev/null 2>&1 || { missing+=("$pkg"); return; }
        fi
    done
}
need debootstrap debootstrap
need extlinux extlinux
need syslinux-common /usr/lib/syslinux/mbr/mbr.bin
need grub-efi-amd64-bin grub-mkstandalone /usr/lib/grub/x86_64-efi/linux.mod
need mtools mmd mcopy
need dosfstools mkfs.vfat
need fdisk sfdisk
need e2fsprogs mkfs.ext4 e2fsck
need mount losetup
need util-linux flock
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-worker-image: missing tools; install them with:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
fi

[ -n "$VERSION" ] || VERSION=$SUITE-$(date -u +%Y%m%d.%H%M)
# The agent reports the version; Apiary's boot HTTP service accepts 1-64 of these characters.
[[ "$VERSION" =~ ^[A-Za-z0-9._:+~@-]{1,64}$ ]] || die "--version must be 1-64 of A-Z a-z 0-9 . _ : + ~ @ -"
case "$DATA_PATH" in
    none) ;;
    /*) [[ "$DATA_PATH" =~ ^/[A-Za-z0-9._/-]+$ ]] && [[ "$DATA_PATH" != *..* ]] || die "--data-path: plain absolute path or none" ;;
    *) die "--data-path must be an absolute path or none" ;;
esac
for p in "${EXTRA[@]}"; do
    [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "--extra-packages: '$p' is not a Debian package name"
done
url_re='^https?://[][A-Za-z0-9.:/_~%+@-]+$'
for u in "$APT_SOURCE" "$SECURITY_SOURCE" "$APIARY_URL"; do
    [ -z "$u" ] || [ "$u" = none ] || [[ "$u" =~ $url_re ]] || die "not a plain http(s) URL: $u"
done
[[ -z "$APIARY_URL" || "$APIARY_URL" == http://* ]] || die "--apiary-url must be http:// (the agent speaks plain HTTP)"
[ "$APT_SOURCE" != none ] || die "--apt-source cannot be none"
size_bytes=$(numfmt --from=iec "${SIZE%B}" 2>/dev/null) || die "--size: not a size: $SIZE (e.g. 1536M, 2G)"
root_bytes=$(( (size_bytes - ROOT_START * 512) / 4096 * 4096 ))
[ "$root_bytes" -ge $((700 << 20)) ] || die "--size $SIZE is too small: the root needs about 700 MiB on top of the 65 MiB ESP"

CACHE=$(realpath -m "$CACHE")
[ "$CACHE" != / ] || die "--cache cannot be /"
OUT=$(realpath -m "$OUT")
mkdir -p "$CACHE" "$CACHE/debs" "$CACHE/archives" "$(dirname "$OUT")"
exec 9>"$CACHE/.lock"
flock -n 9 || die "another build is using $CACHE"

# --- clean-up of everything this run mounts, attaches or half-writes ----------------------------
mounts=()        # mount points, unmounted in reverse order
loop=
work=$CACHE/work.$$
partial_base=
partial_img=
# rm -rf, but never into something still mounted there (a chroot's bind-mounted /dev, say).
safe_rm() {
    if findmnt -rn -o TARGET | grep -qF "$1/"; then
        echo "build-worker-image: not removing $1: something is still mounted below it" >&2
        return 1
    fi
    rm -rf --one-file-system "$1"
}
cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        mountpoint -q "${mounts[i]}" && { umount "${mounts[i]}" || umount -l "${mounts[i]}"; }
    done
    [ -z "$loop" ] || losetup -d "$loop"
    safe_rm "$work"
    [ -z "$partial_base" ] || safe_rm "$partial_base"
    [ -z "$partial_img" ] || rm -f "$partial_img"
    [ "$rc" = 0 ] || echo "RESULT build failed rc=$rc seconds=$(( $(date +%s) - t0 ))"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() { mount "$@"; mounts+=("${!#}"); }
unmount_all() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}"; done
    mounts=()
}

# --- stage 1: the base root filesystem (cached) -------------------------------------------------
key=$( {
    echo "revision=$BASE_REVISION suite=$SUITE include=$INCLUDE"
    echo "packages=${PACKAGES[*]} extra=${EXTRA[*]}"
    echo "apt=$APT_SOURCE security=$SECURITY_SOURCE"
    (cd "$files/base" && find . -type f | LC_ALL=C sort | xargs sha256sum)
} | sha256sum | cut -c1-16)
base=$CACHE/base-$key
t_debootstrap=0 t_packages=0 t_trim=0 base_state=cached

build_base() {
    partial_base=$CACHE/base-$key.partial
    rm -rf "$partial_base"
    mkdir -p "$partial_base"
    local r=$partial_base/rootfs t
    t=$(date +%s)
    say "debootstrap $SUITE from $APT_SOURCE (minbase + $INCLUDE)"
    debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$CACHE/debs" \
        "$SUITE" "$r" "$APT_SOURCE" > "$partial_base/debootstrap.log" 2>&1 \
        || { tail -n 20 "$partial_base/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    t_debootstrap=$(( $(date +%s) - t ))

    t=$(date +%s)
    # dpkg path excludes and the initramfs/iSCSI settings go in before the kernel, so the
    # excluded files never land and the kernel's initramfs is built right the first time.
    cp -r --preserve=mode "$files/base/." "$r/"
    {
        echo "deb $APT_SOURCE $SUITE main"
        echo "deb $APT_SOURCE $SUITE-updates main"
        [ "$SECURITY_SOURCE" = none ] || echo "deb $SECURITY_SOURCE $SUITE-security main"
    } > "$r/etc/apt/sources.list"
    printf '#!/bin/sh\n# no daemons start inside the image build\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$r/etc/resolv.conf"   # DNS for apt in the chroot; emptied below
    mnt -t proc proc "$r/proc"
    mnt -t sysfs sysfs "$r/sys"
    mnt --bind /dev "$r/dev"
    mnt --bind /dev/pts "$r/dev/pts"
    mnt --bind "$CACHE/archives" "$r/var/cache/apt/archives"
    # debootstrap installs the point release; full-upgrade brings in bookworm-updates and
    # bookworm-security, so a fresh image starts current (a maintenance boot found 7 upgrades).
    say "installing ${PACKAGES[*]} ${EXTRA[*]} (no recommends), then full-upgrade"
    if ! chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C \
        sh -c 'apt-get update && apt-get install -y --no-install-recommends \
                 -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "$@" \
               && apt-get -y full-upgrade -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef' \
        apt "${PACKAGES[@]}" "${EXTRA[@]}" > "$partial_base/packages.log" 2>&1; then
        tail -n 30 "$partial_base/packages.log" >&2
        die "package installation failed (log above)"
    fi
    chroot "$r" dpkg-query -W -f '${Package} ${Version}\n' > "$partial_base/packages.txt"
    unmount_all
    t_packages=$(( $(date +%s) - t ))

    t=$(date +%s)
    say "trimming docs, locales and caches"
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/lintian/*
    find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old \
        "$r"/var/cache/apt/archives/partial "$r/usr/sbin/policy-rc.d"
    find "$r/var/log" -type f -delete
    # Every clone gets its own machine-id on its first boot, not the build's.
    : > "$r/etc/machine-id"
    rm -f "$r/var/lib/dbus/machine-id"
    : > "$r/etc/resolv.conf"
    [ -e "$r/vmlinuz" ] && [ -e "$r/initrd.img" ] || die "the kernel or initramfs is missing from the base"
    t_trim=$(( $(date +%s) - t ))
    touch "$partial_base/ok"
    mv "$partial_base" "$base"
    partial_base=
    base_state=built
    # Older bases are ~500 MB each; keep only this one (the .deb caches stay).
    for old in "$CACHE"/base-*; do
        [ "$old" = "$base" ] || { say "removing the old base $(basename "$old")"; rm -rf "$old"; }
    done
}

if [ -f "$base/ok" ]; then
    say "base $key from the cache ($base)"
else
    build_base
fi

# --- stage 2: this image's root filesystem ------------------------------------------------------
t_image0=$(date +%s)
mkdir -p "$work"
r=$work/rootfs
cp -a --reflink=auto "$base/rootfs" "$r"
# The worker's own files, root-owned; existing directories keep their modes.
tar -C "$files/rootfs" --owner=0 --group=0 -cf - . | tar -C "$r" --no-overwrite-dir -xf -
sed -i -e "s|^DATA_PATH=.*|DATA_PATH=$DATA_PATH|" -e "s|^APIARY_URL=.*|APIARY_URL=$APIARY_URL|" "$r/etc/apiary/worker.conf"
if [ -n "$OVERLAY" ]; then
    say "overlay $OVERLAY"
    tar -C "$OVERLAY" --owner=0 --group=0 -cf - . | tar -C "$r" --no-overwrite-dir -xf -
fi
if [ -n "$INSTALL_DEBS" ]; then
    mkdir -p "$r/tmp/apiary-debs"
    cp "$INSTALL_DEBS"/*.deb "$r/tmp/apiary-debs/"
    say "installing $(cd "$INSTALL_DEBS" && echo *.deb)"
    chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C \
        sh -c 'dpkg -i /tmp/apiary-debs/*.deb' > "$work/install-debs.log" 2>&1 \
        || die "dpkg -i failed: $(tail -n 3 "$work/install-debs.log")"
    rm -rf "$r/tmp/apiary-debs"
fi
echo "$VERSION" > "$r/etc/apiary/image-version"
[ "$POWEROFF" = 0 ] || touch "$r/etc/apiary/poweroff-after-up"
[ "$MAINTENANCE" = 0 ] || touch "$r/etc/apiary/maintenance"
echo apiary-worker > "$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tapiary-worker\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$r/etc/hosts"
printf '# the root LUN; apiary-data mounts the data LUN\nUUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$ROOT_UUID" > "$r/etc/fstab"
mkdir -p "$r/boot/extlinux"
sed "s|@CMDLINE@|$CMDLINE|" "$files/boot/extlinux.conf.in" > "$r/boot/extlinux/extlinux.conf"
systemctl --root="$r" --quiet enable apiary-identity.service apiary-data.service apiary-up.service apiary-agent.service
# Packages change through maintenance boots of the golden image, not on each worker; there is
# no LVM, so no e2scrub snapshots to check or reap (e2scrub_reap alone held multi-user.target
# back by 2 s under TCG).
systemctl --root="$r" --quiet mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service
kernel=$(basename "$(readlink "$r/vmlinuz")"); kernel=${kernel#vmlinuz-}

# --- the raw image ------------------------------------------------------------------------------
partial_img=$OUT.partial
rm -f "$partial_img"
truncate -s "$size_bytes" "$partial_img"
sfdisk --quiet "$partial_img" <<EOF
label: dos
label-id: 0x41706979
unit: sectors
start=$ESP_START, size=$ESP_SECTORS, type=ef
start=$ROOT_START, size=$((root_bytes / 512)), type=83, bootable
EOF
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$partial_img" bs=440 count=1 conv=notrunc status=none

# p2: ext4 filled straight from the directory (no mount). Conservative features for extlinux 6.04.
mkfs.ext4 -q -F -L apiary-root -U "$ROOT_UUID" -O ^64bit,^metadata_csum \
    -E offset=$((ROOT_START * 512)),nodiscard -d "$r" "$partial_img" $((root_bytes / 1024))k

# extlinux installs only into a mounted filesystem: a loop device over p2 alone.
loop=$(losetup --find --show --offset $((ROOT_START * 512)) --sizelimit "$root_bytes" "$partial_img")
e2fsck -fn "$loop" > "$work/e2fsck.log" 2>&1 || { cat "$work/e2fsck.log" >&2; die "the new root filesystem does not check clean"; }
mkdir -p "$work/mnt"
mnt "$loop" "$work/mnt"
extlinux --install "$work/mnt/boot/extlinux" > "$work/extlinux.log" 2>&1 || { cat "$work/extlinux.log" >&2; die "extlinux failed"; }
unmount_all
losetup -d "$loop"
loop=
# extlinux cannot ask a loop device where its partition starts (HDIO_GETGEO fails) and writes 0
# as the boot sector's hidden-sectors field (bsHidden, offset 0x1c), so it would look for
# ldlinux.sys at the wrong place. Patch it now that the loop device (and its page cache) is gone.
hidden_at=$((ROOT_START * 512 + 0x1c))
was=$(od -An -tu4 -j "$hidden_at" -N4 "$partial_img" | tr -d ' ')
[ "$was" = 0 ] || [ "$was" = "$ROOT_START" ] || die "unexpected bsHidden $was in the extlinux boot sector"
printf "$(printf '\\%03o' $((ROOT_START & 255)) $((ROOT_START >> 8 & 255)) $((ROOT_START >> 16 & 255)) $((ROOT_START >> 24 & 255)))" \
    | dd of="$partial_img" bs=1 seek="$hidden_at" conv=notrunc status=none

# p1: the ESP. The kernel here has no vfat, so it is made and filled with mtools, never mounted.
mkfs.vfat -F 32 -S 512 -s 1 -h "$ESP_START" -n APIARY-ESP --offset "$ESP_START" "$partial_img" $((ESP_SECTORS / 2)) > "$work/mkfs.vfat.log" 2>&1 \
    || { cat "$work/mkfs.vfat.log" >&2; die "mkfs.vfat failed"; }
sed -e "s|@CMDLINE@|$CMDLINE|" -e "s|@ROOT_UUID@|$ROOT_UUID|" "$files/boot/grub-embed.cfg.in" > "$work/grub.cfg"
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" --locales= --fonts= --themes= \
    "boot/grub/grub.cfg=$work/grub.cfg"
esp="$partial_img@@$((ESP_START * 512))"
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

mv -f "$partial_img" "$OUT"
partial_img=
t_image=$(( $(date +%s) - t_image0 ))
allocated=$(( $(stat -c %b "$OUT") * $(stat -c %B "$OUT") ))
rootfs_mb=$(du -sm "$r" | cut -f1)
say "base $base_state (debootstrap ${t_debootstrap}s, packages ${t_packages}s, trim ${t_trim}s); image ${t_image}s"
echo "RESULT build ok out=$OUT size=$((size_bytes >> 20))MiB allocated=$((allocated >> 20))MiB" \
    "seconds=$(( $(date +%s) - t0 )) version=$VERSION kernel=$kernel rootfs=${rootfs_mb}MB base=$base_state"
