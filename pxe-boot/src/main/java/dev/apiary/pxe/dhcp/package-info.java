/**
 * DHCP for network boot, on Netty UDP.
 *
 * <ul>
 *   <li>{@link dev.apiary.pxe.dhcp.DhcpCodec}, {@link dev.apiary.pxe.dhcp.DhcpMessage},
 *       {@link dev.apiary.pxe.dhcp.DhcpOptions}: RFC 2131/2132 messages, pure and strict; bad
 *       input is an error value naming the problem, never an exception.
 *   <li>{@link dev.apiary.pxe.dhcp.BootFiles}, {@link dev.apiary.pxe.dhcp.PxeClient}: who is a PXE
 *       or iPXE client (option 60, 77, 93, 175) and what it boots; only machines the
 *       {@link dev.apiary.pxe.BootDecision} knows are answered.
 *   <li>{@link dev.apiary.pxe.dhcp.ProxyDhcpService} (default): proxyDHCP on 67 and 4011, never an
 *       address. {@link dev.apiary.pxe.dhcp.FullDhcpService}: pool, persistent per-MAC leases, for an
 *       isolated boot network.
 * </ul>
 *
 * <p>Pitfalls this package handles (boot-chain.md): several UEFI clients send the same xid, so
 * state is keyed on MAC + xid; iPXE sends user class 77 as a bare "iPXE" rather than RFC 3004
 * frames; a limited broadcast from a wildcard-bound socket fails ("Network is unreachable") on a
 * network with no default route, so replies are sent from a socket bound to the server address.
 */
package dev.apiary.pxe.dhcp;
