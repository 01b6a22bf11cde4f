/**
 * Network boot: DHCP (proxyDHCP beside a home router, or full DHCP on a boot network), TFTP for
 * the iPXE binaries, HTTP for iPXE scripts, and Wake-on-LAN. Each protocol is one small service;
 * what a machine boots is decided by one interface the fleet implements. Built in the PXE issue.
 */
package dev.apiary.pxe;
