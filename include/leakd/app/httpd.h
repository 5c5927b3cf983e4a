/* SPDX-License-Identifier: MIT */
/*
 * httpd: the /metrics endpoint, served by libmicrohttpd on its own thread.
 *
 * The daemon renders a snapshot (metrics_render()) and hands it over with
 * httpd_publish(), which copies it under a mutex; the server thread answers
 * every scrape from the latest copy, so a scrape never waits for a census
 * and never sees half a snapshot. Routes: GET/HEAD <path> -> the snapshot
 * (503 until the first publish), GET/HEAD / -> a small HTML page linking to
 * it, anything else -> 404, any other method -> 405. Nothing is logged; the
 * caller logs start-up errors once.
 *
 * The listen address is listen.h's (node_exporter's --web.listen-address).
 */
#ifndef LEAKD_HTTPD_H
#define LEAKD_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#define HTTPD_DEFAULT_LISTEN	"127.0.0.1:9477"
#define HTTPD_DEFAULT_PATH	"/metrics"

struct httpd;

/*
 * Binds listen (NULL -> HTTPD_DEFAULT_LISTEN) and starts serving path
 * (NULL -> HTTPD_DEFAULT_PATH; it must start with '/'). Port 0 picks a free
 * port; httpd_port() says which.
 * Returns 0, -EINVAL (malformed address or path), -EADDRINUSE, -EADDRNOTAVAIL
 * (host does not resolve, or is not an address of this host), -EACCES (a
 * privileged port), -ENOMEM, or the -errno of socket()/bind()/listen().
 * *out untouched on failure.
 */
int httpd_start(const char *listen, const char *path, struct httpd **out);

/* Replaces the snapshot served with a copy of buf[0..len). Safe to call
 * from any thread while the server runs. Returns 0, -EINVAL (NULL h, or
 * NULL buf with len > 0) or -ENOMEM (the previous snapshot stays). */
int httpd_publish(struct httpd *h, const char *buf, size_t len);

/* The bound TCP port, in host order. */
uint16_t httpd_port(const struct httpd *h);

/* Stops the server thread, closes the socket, frees h. NULL is fine. */
void httpd_free(struct httpd *h);

#endif /* LEAKD_HTTPD_H */
