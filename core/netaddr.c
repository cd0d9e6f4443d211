/* netaddr.c: numeric "HOST:PORT" strings, as given in options and the API,
 * split and checked without any name lookup.
 *
 * Only IP literals are accepted: a listening or public address that needs
 * DNS would make start-up depend on the resolver, and a host name in an SDP
 * c= line is a classic source of one-way audio. inet_pton() does the real
 * checking; this file only finds where the host ends and reads the port,
 * with the strict decimal reader that the options' numbers use too.
 * IPv6 literals must be bracketed, so "::1:5060" is refused as ambiguous.
 * Pure functions: any thread may call them. */
#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

int netaddr_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !out || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int netaddr_split(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *h, *end, *p;
	unsigned long pt;
	size_t n;
	int af;

	if (!s || !host || !port)
		return -EINVAL;
	if (*s == '[') {
		h = s + 1;
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		p = end + 2;
		af = AF_INET6;
	} else {
		h = s;
		end = strchr(s, ':');
		if (!end || strchr(end + 1, ':'))
			return -EINVAL;
		p = end + 1;
		af = AF_INET;
	}

	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(buf) || n >= hostlen)
		return -EINVAL;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, addr) != 1 ||
	    netaddr_parse_ulong(p, 65535, &pt) != 0 || pt == 0)
		return -EINVAL;

	memcpy(host, buf, n + 1);
	*port = (uint16_t)pt;
	return 0;
}

/* IPv4-mapped loopback (::ffff:127.0.0.1) counts too: that is how a client
 * on 127.0.0.1 looks to a dual-stack IPv6 socket. */
bool netaddr_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!host)
		return false;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] == 127;
	}
	return false;
}
