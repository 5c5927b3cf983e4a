/* SPDX-License-Identifier: MIT */
/*
 * listen: the metrics address, parsed and bound (see listen.h).
 *
 * We bind the socket ourselves (httpd passes it to libmicrohttpd with
 * MHD_OPTION_LISTEN_SOCKET) because MHD_start_daemon() reports every
 * failure as NULL, and the caller must be able to tell "port taken" from
 * "bad address".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "leakd/app/listen.h"

#define LISTEN_BACKLOG 64

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	/* decimal digits only: strtoul would take "+80", " 80", "0x50" */
	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int listen_parse(const char *listen, char host[LISTEN_HOST_MAX], uint16_t *port)
{
	const char *h, *portstr;
	size_t hlen;
	uint16_t p;

	if (!listen || !host || !port)
		return -EINVAL;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		char addr[LISTEN_HOST_MAX];
		struct in6_addr a6;
		char *pct;

		if (!close || close[1] != ':')
			return -EINVAL;
		h = listen + 1;
		hlen = (size_t)(close - h);
		portstr = close + 2;
		if (!hlen || hlen >= LISTEN_HOST_MAX || memchr(h, '[', hlen))
			return -EINVAL;
		/* brackets hold an IPv6 literal, possibly with a zone ("%eth0") */
		memcpy(addr, h, hlen);
		addr[hlen] = '\0';
		pct = strchr(addr, '%');
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			return -EINVAL;
	} else {
		const char *colon = strrchr(listen, ':');

		if (!colon)
			return -EINVAL;
		h = listen;
		hlen = (size_t)(colon - listen);
		portstr = colon + 1;
		/* "::1:9477" is ambiguous; Go's SplitHostPort rejects it too */
		if (memchr(h, ':', hlen) || memchr(h, '[', hlen) || memchr(h, ']', hlen))
			return -EINVAL;
		if (hlen >= LISTEN_HOST_MAX)
			return -EINVAL;
		/* a host name or IPv4 literal: nothing getaddrinfo would refuse later */
		for (size_t i = 0; i < hlen; i++)
			if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-' && h[i] != '_')
				return -EINVAL;
	}
	if (strchr(portstr, ']') || parse_port(portstr, &p) < 0)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = p;
	return 0;
}

/* A listening TCP socket on addr, or -errno. */
static int listen_on(const struct sockaddr *addr, socklen_t alen, bool dual_stack)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;
	int err;

	if (fd < 0)
		return -errno;
	/* Restarting leakd must not wait out TIME_WAIT; on Linux this still
	 * refuses a port another socket listens on. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (addr->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int)) < 0)
		goto fail;
	if (bind(fd, addr, alen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int gai_errno(int rc)
{
	switch (rc) {
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EADDRNOTAVAIL;
	default:	/* EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA, EAI_FAMILY... */
		return -EADDRNOTAVAIL;
	}
}

/* Binds host:port; returns the socket or -errno. */
int listen_bind(const char *host, uint16_t port)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char portstr[8];
	int fd = -EADDRNOTAVAIL, rc;

	if (!*host) {
		/* all addresses: one IPv6 socket that takes IPv4 too, like Go's
		 * ":port"; IPv4 alone when the host has no IPv6 */
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr.s_addr = htonl(INADDR_ANY) };

		fd = listen_on((struct sockaddr *)&a6, sizeof(a6), true);
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
			fd = listen_on((struct sockaddr *)&a4, sizeof(a4), false);
		return fd;
	}

	snprintf(portstr, sizeof(portstr), "%u", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (strchr(host, ':') ? AI_NUMERICHOST : 0);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return gai_errno(rc);
	/* the first address that binds, as Go's net.Listen does; keep the
	 * first error, the one about the preferred address */
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int r = listen_on(ai->ai_addr, ai->ai_addrlen, false);

		if (r >= 0) {
			fd = r;
			break;
		}
		if (ai == res)
			fd = r;
	}
	freeaddrinfo(res);
	return fd;
}
