"""Where webhooks may be delivered. An admin could subscribe any address, the service's
own network included (a generated test subscribed 101 URLs, and the service tried them
all): the service would then post, signed, to whatever answers inside. Outside development
and tests, a target must resolve to public addresses only, checked when subscribed and
again before each delivery (a name can be pointed elsewhere after it was checked); the
number of active subscriptions is capped."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_S = 3.0


class ForbiddenTarget(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse (ForbiddenTarget) a URL whose host is, or resolves to, a loopback, private,
    link-local or otherwise non-public address, unless `allow_private`."""
    if allow_private:
        return
    host = urlsplit(url).hostname
    if not host:
        raise ForbiddenTarget("the URL names no host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            raise ForbiddenTarget(f"the host {host!r} cannot be resolved") from exc
        addresses = sorted({str(info[4][0]) for info in infos})
    private = [a for a in addresses if not _public(a)]
    if private:
        raise ForbiddenTarget(
            f"the host {host!r} is (or resolves to) a non-public address ({private[0]}); "
            "webhooks are delivered to public addresses only"
        )
