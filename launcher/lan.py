"""This machine's address on the local network, for the learners in a classroom.

Read from the machine's own interfaces (ioctl on a socket that is never used to send) and its
routing table: nothing leaves the machine to find it out, unlike the usual trick of
"connecting" a UDP socket to some outside address. Linux only; elsewhere, or when the guess is
wrong, name the interface (CELERY_LAB_LAN_INTERFACE) or the address (CELERY_LAB_PUBLIC_URL).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
ROUTES = Path("/proc/net/route")


def _ioctl(sock: socket.socket, request: int, name: str) -> bytes | None:
    import fcntl  # POSIX only: imported here so the module loads everywhere

    try:
        return fcntl.ioctl(sock.fileno(), request, struct.pack("256s", name.encode()[:15]))
    except OSError:
        return None  # no IPv4 address on it (or it went away meanwhile)


def interface_addresses() -> dict[str, str]:
    """Each interface that is up, not loopback and has an IPv4 address: name -> address."""
    found = {}
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return found
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in names:
            flags = _ioctl(sock, SIOCGIFFLAGS, name)
            if flags is None:
                continue
            (bits,) = struct.unpack_from("H", flags, 16)
            if not bits & IFF_UP or bits & IFF_LOOPBACK:
                continue
            raw = _ioctl(sock, SIOCGIFADDR, name)
            if raw is None:
                continue
            address = ipaddress.IPv4Address(raw[20:24])
            if not address.is_link_local:
                found[name] = str(address)
    return found


def default_route_interface() -> str | None:
    """The interface of the IPv4 default route (the one the room's Wi-Fi is on), if any."""
    try:
        lines = ROUTES.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == "00000000" and int(fields[3], 16) & 0x1:
            return fields[0]
    return None


def lan_address(interface: str = "") -> str | None:
    """The address learners should use: ``interface``'s, else the default route's, else any."""
    addresses = interface_addresses()
    if interface:
        if interface not in addresses:
            known = ", ".join(f"{n} ({a})" for n, a in addresses.items()) or "none"
            raise SystemExit(
                f"CELERY_LAB_LAN_INTERFACE={interface} has no IPv4 address that is up "
                f"(interfaces with one: {known})"
            )
        return addresses[interface]
    default = default_route_interface()
    if default in addresses:
        return addresses[default]
    private = [a for a in addresses.values() if ipaddress.IPv4Address(a).is_private]
    return (private or list(addresses.values()) or [None])[0]


def learners_url(
    classroom: bool,
    port: int,
    host: str | None = None,
    public_url: str = "",
    lan_interface: str = "",
) -> str:
    """Where learners join: CELERY_LAB_PUBLIC_URL if set, else (classroom mode) the LAN address.

    In classroom mode with ``host`` one address (not every interface), that address is it.
    Returns "" outside classroom mode with no public URL: the site then names itself after
    the address each request asked for, as before.
    """
    if public_url or not classroom:
        return public_url
    if host and host not in ("0.0.0.0", "::"):
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"
    address = lan_address(lan_interface)
    if address is None:
        raise SystemExit(
            "Classroom mode found no network address on this machine that learners could "
            "reach. Connect to the room's network, or set CELERY_LAB_PUBLIC_URL "
            "(e.g. http://192.168.1.20:8000) or CELERY_LAB_LAN_INTERFACE (e.g. wlan0)."
        )
    return f"http://{address}:{port}"
