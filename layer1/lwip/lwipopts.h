/*
 * lwIP's configuration for layer 1: the raw API only (NO_SYS), one
 * single-threaded main loop, IPv4 over one Ethernet netif on the NIC rings.
 * Everything not set here is lwIP's default (src/include/lwip/opt.h).
 */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

/* No threads, no OS: the payload's loop calls into lwIP and nothing else does. */
#define NO_SYS				1
#define SYS_LIGHTWEIGHT_PROT		0
#define LWIP_SOCKET			0
#define LWIP_NETCONN			0
#define LWIP_TIMERS			1

/* The protocols: IPv4 with ARP, ICMP, DHCP, UDP, TCP; raw for ping. */
#define LWIP_IPV4			1
#define LWIP_IPV6			0
#define LWIP_ARP			1
#define LWIP_ETHERNET			1
#define LWIP_ICMP			1
#define LWIP_RAW			1
#define LWIP_DHCP			1
#define LWIP_UDP			1
#define LWIP_TCP			1
#define LWIP_IGMP			0
#define LWIP_DNS			0
#define LWIP_AUTOIP			0
#define LWIP_SINGLE_NETIF		1
#define LWIP_NETIF_STATUS_CALLBACK	1
#define LWIP_NETIF_LINK_CALLBACK	0
#define LWIP_NETIF_LOOPBACK		0
#define LWIP_HAVE_LOOPIF		0

/*
 * Memory.  The heap holds what tcp_write copies and every PBUF_RAM; the pool
 * holds received frames, one frame a pbuf (PBUF_POOL_BUFSIZE defaults to
 * TCP_MSS plus every header: 1514 bytes).  RAM is plentiful next to these.
 */
#define MEM_ALIGNMENT			8
#define MEM_SIZE			(1024 * 1024)
#define PBUF_POOL_SIZE			512
#define MEMP_NUM_PBUF			64
/* kvstore serves up to 128 connections at once. */
#define MEMP_NUM_TCP_PCB		130
#define MEMP_NUM_TCP_PCB_LISTEN		4
#define MEMP_NUM_UDP_PCB		4
#define MEMP_NUM_RAW_PCB		2
#define MEMP_NUM_TCP_SEG		512
#define MEMP_NUM_REASSDATA		8
#define MEMP_NUM_ARP_QUEUE		32
#define ARP_TABLE_SIZE			16
/*
 * lwIP sizes its timeout pool for its own timers alone; netecho's ping
 * resend is one more.  Without it, a TCP connection opened within a second
 * of the ping's reply (the resend still pending) found the pool empty and
 * failed lwIP's assertion in sys_timeout.
 */
#define MEMP_NUM_SYS_TIMEOUT		(LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)

/*
 * TCP sized for throughput: a full 16-bit window of MSS-sized segments
 * each way (no window scaling, which QEMU's user net would not need).
 */
#define TCP_MSS				1460
#define TCP_WND				(44 * TCP_MSS)
#define TCP_SND_BUF			(44 * TCP_MSS)
#define TCP_SND_QUEUELEN		(4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT			(TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ			1
#define LWIP_TCP_KEEPALIVE		0

/* Checksums generated and checked in software: the rings carry raw frames. */
#define CHECKSUM_GEN_IP			1
#define CHECKSUM_GEN_UDP		1
#define CHECKSUM_GEN_TCP		1
#define CHECKSUM_GEN_ICMP		1
#define CHECKSUM_CHECK_IP		1
#define CHECKSUM_CHECK_UDP		1
#define CHECKSUM_CHECK_TCP		1
#define CHECKSUM_CHECK_ICMP		1
#define LWIP_CHECKSUM_ON_COPY		0

/* No statistics, no debug output. */
#define LWIP_STATS			0
#define LWIP_STATS_DISPLAY		0
#define LWIP_DEBUG_TIMERNAMES		0

#endif
