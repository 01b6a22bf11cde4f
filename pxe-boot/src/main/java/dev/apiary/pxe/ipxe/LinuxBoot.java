package dev.apiary.pxe.ipxe;

/**
 * A kernel and initrd that iPXE fetches over HTTP and boots itself, with the command line the
 * disk's own boot loader would pass; the paths are absolute on the server the script came from.
 */
public record LinuxBoot(String kernelPath, String initrdPath, String cmdline) {}
