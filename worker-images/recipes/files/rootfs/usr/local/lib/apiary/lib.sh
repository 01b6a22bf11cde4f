# Shared by apiary-identity, apiary-data and apiary-agent (sourced, not run).
#
# The worker learns who it is from the iBFT (iSCSI Boot Firmware Table) that iPXE's sanboot
# publishes: the initiator name (hence the hostname), the NIC's MAC (how Apiary knows the
# machine) and the target's address (where Apiary runs, unless worker.conf says otherwise).

APIARY_CONF=/etc/apiary/worker.conf
IBFT=/sys/firmware/ibft

# Defaults, then /etc/apiary/worker.conf (shell syntax, written by the image build).
DATA_PATH=/var/lib/rancher
DATA_LUN=auto
DATA_LABEL=apiary-data
APIARY_URL=
BOOT_HTTP_PORT=8080
REPORT_TIMEOUT=3
WATCH_INTERVAL=30
if [ -r "$APIARY_CONF" ]; then
    # shellcheck source=/dev/null
    . "$APIARY_CONF"
fi

# One line to the journal (stderr) and, for whoever watches the serial console, to ttyS0.
say() {
    echo "$*" >&2
    if [ -w /dev/ttyS0 ]; then
        # A console that is gone (no UART) must not stop the caller.
        { echo "$*" > /dev/ttyS0; } 2>/dev/null || true
    fi
}

# The iBFT is in /sys once the iscsi_ibft module is loaded (the initramfs loads it; harmless twice).
ibft_ready() {
    [ -d "$IBFT" ] || modprobe -q iscsi_ibft 2>/dev/null || true
    [ -d "$IBFT/initiator" ]
}

ibft_read() { # ibft_read initiator/initiator-name
    ibft_ready || return 1
    local v
    v=$(cat "$IBFT/$1" 2>/dev/null) || return 1
    [ -n "$v" ] || return 1
    printf '%s\n' "$v"
}

# The worker's name: the part of the iBFT initiator IQN after the last ':'
# (iqn.2026-11.dev.apiary:worker1 -> worker1), if it is a valid hostname.
worker_name() {
    local iqn name
    iqn=$(ibft_read initiator/initiator-name) || return 1
    name=${iqn##*:}
    [[ "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] || return 1
    printf '%s\n' "$name"
}

# The MAC Apiary booted the machine by: the iBFT NIC's, else the first Ethernet interface's.
worker_mac() {
    local mac f
    if mac=$(ibft_read ethernet0/mac); then
        printf '%s\n' "$mac"
        return 0
    fi
    for f in /sys/class/net/*/address; do
        [ "$(cat "${f%/address}/type" 2>/dev/null)" = 1 ] || continue
        mac=$(cat "$f")
        [ "$mac" != 00:00:00:00:00:00 ] && { printf '%s\n' "$mac"; return 0; }
    done
    return 1
}

# Apiary's boot HTTP service: worker.conf's APIARY_URL, else the iBFT target's address on the
# boot HTTP port (docs/boot.md: 8080 by default), since Apiary serves both.
apiary_url() {
    if [ -n "$APIARY_URL" ]; then
        printf '%s\n' "${APIARY_URL%/}"
        return 0
    fi
    local ip t c
    ip=$(ibft_read target0/ip-addr) || return 1
    # Booted through several portals (one iBFT target each), some maybe down: the first one this
    # machine has an iSCSI connection to.
    for t in "$IBFT"/target*; do
        for c in /sys/class/iscsi_connection/connection*/persistent_address; do
            if [ "$(cat "$t/ip-addr" 2>/dev/null)" = "$(cat "$c" 2>/dev/null)" ]; then
                ip=$(cat "$t/ip-addr")
                break 2
            fi
        done
    done
    case "$ip" in
        *:*) printf 'http://[%s]:%s\n' "$ip" "$BOOT_HTTP_PORT" ;;
        *) printf 'http://%s:%s\n' "$ip" "$BOOT_HTTP_PORT" ;;
    esac
}

image_version() {
    cat /etc/apiary/image-version 2>/dev/null || echo unknown
}
