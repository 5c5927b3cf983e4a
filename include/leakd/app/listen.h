/* SPDX-License-Identifier: MIT */
/*
 * listen: the metrics server's address, as node_exporter's
 * --web.listen-address takes it: "host:port", "[v6addr]:port", or ":port"
 * for every address (IPv6 and IPv4 when the host has IPv6, IPv4 only
 * otherwise). host may be a name; it must resolve to an address of this
 * host. The options table checks a value with listen_parse(); httpd binds
 * it with listen_bind().
 */
#ifndef LEAKD_LISTEN_H
#define LEAKD_LISTEN_H

#include <stdint.h>

#define LISTEN_HOST_MAX 256

/*
 * Splits a listen address into host (brackets removed, "" for all
 * addresses) and port. Pure. Returns 0, or -EINVAL when malformed: no
 * port, a port that is not a decimal number in 0..65535, an unbracketed
 * IPv6 address, a stray or unclosed bracket, a host longer than
 * LISTEN_HOST_MAX - 1. Out-parameters untouched on failure.
 */
int listen_parse(const char *listen, char host[LISTEN_HOST_MAX], uint16_t *port);

/*
 * A listening TCP socket on host (from listen_parse(); "" for every
 * address) and port (0: a free one). Returns the fd, or -EADDRNOTAVAIL
 * (host does not resolve, or is not an address of this host), -EADDRINUSE,
 * -EACCES (a privileged port), or the -errno of socket()/bind()/listen().
 */
int listen_bind(const char *host, uint16_t port);

#endif /* LEAKD_LISTEN_H */
