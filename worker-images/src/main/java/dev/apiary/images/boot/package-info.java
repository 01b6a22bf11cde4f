/**
 * What a worker image boots, read straight from its disk: the partition table, the ext2/3/4 root
 * filesystem and its extlinux configuration, so the server can hand iPXE the kernel and initrd over
 * HTTP instead of the slower sanboot path. Read-only, and every number read from the disk is
 * checked before it is used: images are input, not trusted.
 */
package dev.apiary.images.boot;
