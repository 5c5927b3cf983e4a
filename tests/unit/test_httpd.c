/* SPDX-License-Identifier: MIT */
/*
 * Tests for httpd: listen-address parsing as a pure function, then real
 * servers on loopback port 0 fetched with a raw socket (no HTTP client
 * library, so the bytes on the wire are what is asserted): status, content
 * type, body, routes, methods, bind errors, and snapshots swapped while
 * scrapes run.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "leakd/app/httpd.h"
#include "leakd/app/listen.h"
#include "leakd/output/metrics.h"

/* ---- a raw HTTP/1.1 client ---- */

struct reply {
	int status;
	char *head;		/* status line and headers, NUL-terminated */
	char *body;
	size_t body_len;
};

static void reply_free(struct reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int connect_to(int family, uint16_t port)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (family == AF_INET6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	}
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Sends req verbatim, reads until the server closes, splits the reply. */
static int http_raw(int family, uint16_t port, const char *req, struct reply *out)
{
	char *buf = NULL, *sep;
	size_t len = 0;
	FILE *m;
	char chunk[65536];
	ssize_t n;
	int fd = connect_to(family, port);

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return fd;
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -EIO;
	}
	m = open_memstream(&buf, &len);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, (size_t)n, m);
	fclose(m);
	close(fd);
	if (n < 0 || !(sep = strstr(buf, "\r\n\r\n")) || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		free(buf);
		return -EPROTO;
	}
	out->head = strndup(buf, (size_t)(sep - buf) + 2);
	out->body_len = len - (size_t)(sep + 4 - buf);
	out->body = malloc(out->body_len + 1);
	memcpy(out->body, sep + 4, out->body_len);
	out->body[out->body_len] = '\0';
	free(buf);
	return 0;
}

static struct reply http(const char *method, uint16_t port, const char *path)
{
	char req[512];
	struct reply r;
	int err;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		 method, path);
	err = http_raw(AF_INET, port, req, &r);
	cr_assert_eq(err, 0, "%s %s: %s", method, path, strerror(-err));
	return r;
}

/* The value of a header, case-insensitively, or NULL (static buffer). */
static const char *header(const struct reply *r, const char *name)
{
	static char val[512];
	size_t nl = strlen(name);

	for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (!strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(end - v), v);
			return val;
		}
	}
	return NULL;
}

static struct httpd *start(const char *listen, const char *path)
{
	struct httpd *h = NULL;
	int err = httpd_start(listen, path, &h);

	cr_assert_eq(err, 0, "httpd_start(%s): %s", listen, strerror(-err));
	cr_assert_not_null(h);
	cr_assert_neq(httpd_port(h), 0);
	return h;
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* ---- listen address parsing ---- */

Test(httpd, parse_listen_accepts_node_exporter_forms)
{
	static const struct { const char *in, *host; uint16_t port; } ok[] = {
		{ "127.0.0.1:9477", "127.0.0.1", 9477 },
		{ ":9477", "", 9477 },
		{ "[::1]:9477", "::1", 9477 },
		{ "[::]:80", "::", 80 },
		{ "[fe80::1%eth0]:9100", "fe80::1%eth0", 9100 },
		{ "localhost:0", "localhost", 0 },
		{ "metrics.example.org:65535", "metrics.example.org", 65535 },
		{ "0.0.0.0:00080", "0.0.0.0", 80 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char host[LISTEN_HOST_MAX] = "x";
		uint16_t port = 1;

		cr_assert_eq(listen_parse(ok[i].in, host, &port), 0, "%s", ok[i].in);
		cr_assert_str_eq(host, ok[i].host, "%s", ok[i].in);
		cr_assert_eq(port, ok[i].port, "%s", ok[i].in);
	}
}

Test(httpd, parse_listen_rejects_malformed)
{
	static const char *const bad[] = {
		"", "9477", "127.0.0.1", "127.0.0.1:", ":", "127.0.0.1:65536", "127.0.0.1:123456",
		"127.0.0.1:http", "127.0.0.1:+80", "ho st:80", "host/x:80", "127.0.0.1: 80", "127.0.0.1:0x50", "127.0.0.1:-1",
		"::1:9477", "[::1]", "[::1]9477", "[::1:9477", "::1]:9477", "[]:80", "[localhost]:80",
		"[127.0.0.1]:80", "[::1]]:80", "a[b:80",
	};
	char host[LISTEN_HOST_MAX] = "untouched";
	uint16_t port = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(listen_parse(bad[i], host, &port), -EINVAL, "accepted \"%s\"", bad[i]);
	cr_assert_str_eq(host, "untouched");
	cr_assert_eq(port, 7);
}

Test(httpd, parse_listen_rejects_overlong_host)
{
	char in[LISTEN_HOST_MAX + 8], host[LISTEN_HOST_MAX];
	uint16_t port;

	memset(in, 'a', LISTEN_HOST_MAX);
	strcpy(in + LISTEN_HOST_MAX, ":80");
	cr_assert_eq(listen_parse(in, host, &port), -EINVAL);
	strcpy(in + LISTEN_HOST_MAX - 1, ":80");
	cr_assert_eq(listen_parse(in, host, &port), 0);
	cr_assert_eq(strlen(host), LISTEN_HOST_MAX - 1);
}

/* ---- serving ---- */

Test(httpd, serves_the_published_snapshot)
{
	static const char snap[] = "# HELP leakd_attached_processes x\n# TYPE leakd_attached_processes gauge\n"
				   "leakd_attached_processes 2\n";
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, snap, strlen(snap)), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_eq(r.body_len, strlen(snap));
	cr_assert_str_eq(r.body, snap);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, before_the_first_snapshot_answers_503)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r = http("GET", httpd_port(h), "/metrics");

	cr_assert_eq(r.status, 503);
	reply_free(&r);
	/* an empty snapshot is still a snapshot */
	cr_assert_eq(httpd_publish(h, NULL, 0), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 0);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, latest_publish_wins)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	cr_assert_eq(httpd_publish(h, "b 2\nXXXX", 4), 0);	/* only len bytes are copied */
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_str_eq(r.body, "b 2\n");
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, head_sends_headers_without_body)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("HEAD", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(header(&r, "Content-Type"), METRICS_CONTENT_TYPE);
	cr_assert_str_eq(header(&r, "Content-Length"), "4");
	cr_assert_eq(r.body_len, 0);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, query_string_does_not_change_the_route)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/metrics?name[]=leakd_live_objects");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "a 1\n");
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, root_page_links_to_the_telemetry_path)
{
	struct httpd *h = start("127.0.0.1:0", "/leakd/metrics");
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=utf-8");
	cr_assert_not_null(strstr(r.body, "<a href=\"/leakd/metrics\">"), "%s", r.body);
	reply_free(&r);
	r = http("GET", httpd_port(h), "/leakd/metrics");
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 404);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, telemetry_path_is_html_escaped_on_the_root_page)
{
	struct httpd *h = start("127.0.0.1:0", "/m\"><script>");
	struct reply r = http("GET", httpd_port(h), "/");

	cr_assert_null(strstr(r.body, "<script>"), "%s", r.body);
	cr_assert_not_null(strstr(r.body, "href=\"/m&quot;&gt;&lt;script&gt;\""), "%s", r.body);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, unknown_path_is_404)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/metricsx");
	cr_assert_eq(r.status, 404);
	reply_free(&r);
	r = http("GET", httpd_port(h), "/favicon.ico");
	cr_assert_eq(r.status, 404);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, other_methods_are_405_with_allow)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS" };
	struct httpd *h = start("127.0.0.1:0", NULL);

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct reply r = http(methods[i], httpd_port(h), "/metrics");

		cr_assert_eq(r.status, 405, "%s", methods[i]);
		cr_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
		reply_free(&r);
	}
	httpd_free(h);
}

Test(httpd, post_with_a_body_is_refused_cleanly)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;
	int err;

	err = http_raw(AF_INET, httpd_port(h),
		       "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
		       "Connection: close\r\n\r\nhello world", &r);
	cr_assert_eq(err, 0);
	cr_assert_eq(r.status, 405);
	reply_free(&r);
	/* and the server still answers */
	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	httpd_free(h);
}

Test(httpd, large_snapshot_arrives_intact)
{
	enum { LEN = 4 << 20 };
	char *big = malloc(LEN);
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;

	for (size_t i = 0; i < LEN; i++)
		big[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	cr_assert_eq(httpd_publish(h, big, LEN), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, (size_t)LEN);
	cr_assert(memcmp(r.body, big, LEN) == 0);
	reply_free(&r);
	httpd_free(h);
	free(big);
}

Test(httpd, idle_connection_does_not_block_scrapes)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	int idle = connect_to(AF_INET, httpd_port(h));
	struct reply r;

	cr_assert_geq(idle, 0);
	cr_assert_eq(write(idle, "GET /met", 8), 8);	/* half a request, then silence */
	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	close(idle);
	httpd_free(h);
}

/* The daemon's use: render, publish, scrape; the bytes come back as rendered. */
Test(httpd, serves_rendered_metrics)
{
	struct metrics_self s = { .version = "0.1.0", .attached_processes = 1,
				  .census_pause_seconds_sum = 0.01, .bpf_run_time_seconds_total = 0.5,
				  .bpf_runs_total = 10 };
	struct metrics_proc p = { .pid = 1, .comm = "python3", .exe = "/usr/bin/python3.11",
				  .python = "3.11.2", .unit = "", .container = "",
				  .live_objects = 10, .live_bytes = 1000,
				  .objects_growth_per_s = 0.5, .bytes_growth_per_s = 50,
				  .leak_suspected = true, .leak_confidence = 0.99,
				  .open_fds = 3, .rss_bytes = 4096, .census_pause_seconds_max = 0.001 };
	struct httpd *h = start("127.0.0.1:0", NULL);
	struct reply r;
	char *text;
	size_t len;

	cr_assert_eq(metrics_render(&text, &len, &s, &p, 1), 0);
	cr_assert_eq(httpd_publish(h, text, len), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.body_len, len);
	cr_assert_str_eq(r.body, text);
	cr_assert_not_null(strstr(r.body, "leakd_leak_suspected{pid=\"1\""));
	reply_free(&r);
	free(text);
	httpd_free(h);
}

/* ---- concurrency ---- */

struct publisher {
	struct httpd *h;
	bool stop;
	const char *a, *b;
};

static void *publish_loop(void *arg)
{
	struct publisher *p = arg;

	for (unsigned i = 0; !__atomic_load_n(&p->stop, __ATOMIC_RELAXED); i++) {
		const char *s = (i & 1) ? p->a : p->b;

		httpd_publish(p->h, s, strlen(s));
	}
	return NULL;
}

Test(httpd, scrapes_see_whole_snapshots_while_publishing)
{
	static char a[200000], b[3000];
	struct publisher p = { .a = a, .b = b };
	pthread_t t;

	memset(a, 'a', sizeof(a) - 2);
	a[sizeof(a) - 2] = '\n';
	memset(b, 'b', sizeof(b) - 2);
	b[sizeof(b) - 2] = '\n';
	p.h = start("127.0.0.1:0", NULL);
	cr_assert_eq(httpd_publish(p.h, a, strlen(a)), 0);
	cr_assert_eq(pthread_create(&t, NULL, publish_loop, &p), 0);
	for (int i = 0; i < 200; i++) {
		struct reply r = http("GET", httpd_port(p.h), "/metrics");

		cr_assert_eq(r.status, 200);
		cr_assert(!strcmp(r.body, a) || !strcmp(r.body, b), "torn snapshot of %zu bytes", r.body_len);
		reply_free(&r);
	}
	__atomic_store_n(&p.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	httpd_free(p.h);
}

/* ---- addresses and errors ---- */

Test(httpd, malformed_addresses_are_rejected)
{
	static const char *const bad[] = { "127.0.0.1", "::1:9477", "[::1]", "localhost:99999", "" };
	struct httpd *h = (struct httpd *)0x1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(httpd_start(bad[i], NULL, &h), -EINVAL, "%s", bad[i]);
	cr_assert_eq(httpd_start("127.0.0.1:0", "metrics", &h), -EINVAL, "path without a slash");
	cr_assert_eq(httpd_start("127.0.0.1:0", NULL, NULL), -EINVAL);
	cr_assert_eq(h, (struct httpd *)0x1);
}

Test(httpd, same_port_twice_is_eaddrinuse)
{
	struct httpd *a = start("127.0.0.1:0", NULL), *b = (struct httpd *)0x1;
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", httpd_port(a));
	cr_assert_eq(httpd_start(addr, NULL, &b), -EADDRINUSE);
	cr_assert_eq(b, (struct httpd *)0x1);
	/* all addresses overlaps the loopback one too */
	snprintf(addr, sizeof(addr), ":%u", httpd_port(a));
	cr_assert_eq(httpd_start(addr, NULL, &b), -EADDRINUSE);
	httpd_free(a);
}

Test(httpd, port_is_free_again_after_free)
{
	struct httpd *a = start("127.0.0.1:0", NULL), *b;
	uint16_t port = httpd_port(a);
	char addr[64];
	struct reply r;

	cr_assert_eq(httpd_publish(a, "a 1\n", 4), 0);
	r = http("GET", port, "/metrics");	/* leaves a TIME_WAIT behind */
	reply_free(&r);
	httpd_free(a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	b = start(addr, NULL);
	cr_assert_eq(httpd_port(b), port);
	httpd_free(b);
}

Test(httpd, address_not_on_this_host_is_eaddrnotavail)
{
	struct httpd *h = NULL;

	/* TEST-NET-1: never a local address, and no DNS involved */
	cr_assert_eq(httpd_start("192.0.2.1:0", NULL, &h), -EADDRNOTAVAIL);
	cr_assert_null(h);
}

Test(httpd, ipv6_loopback_in_brackets)
{
	struct httpd *h;
	struct reply r;
	int err;

	if (!have_ipv6_loopback())
		cr_skip_test("no IPv6 loopback on this host");
	h = start("[::1]:0", NULL);
	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	err = http_raw(AF_INET6, httpd_port(h), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
	cr_assert_eq(err, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "a 1\n");
	reply_free(&r);
	/* bound to ::1 only: IPv4 loopback is refused */
	cr_assert_eq(connect_to(AF_INET, httpd_port(h)), -ECONNREFUSED);
	httpd_free(h);
}

Test(httpd, empty_host_listens_on_ipv4_and_ipv6)
{
	struct httpd *h = start(":0", NULL);
	struct reply r;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	r = http("GET", httpd_port(h), "/metrics");
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	if (have_ipv6_loopback()) {
		int err = http_raw(AF_INET6, httpd_port(h),
				   "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);

		cr_assert_eq(err, 0);
		cr_assert_eq(r.status, 200);
		reply_free(&r);
	}
	httpd_free(h);
}

Test(httpd, host_names_resolve_locally)
{
	struct httpd *h = start("localhost:0", NULL);

	httpd_free(h);
}

Test(httpd, null_handles_are_harmless)
{
	httpd_free(NULL);
	cr_assert_eq(httpd_publish(NULL, "x", 1), -EINVAL);
	cr_assert_eq(httpd_port(NULL), 0);
}

/* ---- slow clients ---- */

#define TRICKLERS	70	/* more than the server's connection cap */
#define TRICKLE_S	9	/* how long the attack lasts */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connection from source address src (127.0.0.x) to 127.0.0.1:port. */
static int connect_from(const char *src, uint16_t port)
{
	struct sockaddr_in me = { .sin_family = AF_INET }, a = { .sin_family = AF_INET, .sin_port = htons(port),
								 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(inet_pton(AF_INET, src, &me.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0, "bind %s: %s", src, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* True while the server has not closed fd. */
static bool still_open(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) == 0;
}

/* A scrape from src: its status (0: no answer) and how long it took. */
static int scrape_from(const char *src, uint16_t port, double *secs)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	double t0 = mono_now();
	char buf[4096];
	int fd = connect_from(src, port), status = 0;
	ssize_t n;

	if (fd >= 0 && write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1 &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
			status = 0;
	}
	if (fd >= 0)
		close(fd);
	*secs = mono_now() - t0;
	return status;
}

/*
 * 70 connections from 127.0.0.1 that each send a header line every second
 * (never idle long enough for the idle timeout) held all 64 slots and every
 * scrape failed. Now one address gets a few slots, and a request that has
 * not arrived within the deadline is cut: a scraper elsewhere (127.0.0.2) is
 * answered throughout, and no trickler outlives the deadline by much.
 */
Test(httpd, trickling_clients_do_not_starve_scrapes, .timeout = 40)
{
	struct httpd *h = start("127.0.0.1:0", NULL);
	uint16_t port = httpd_port(h);
	int fds[TRICKLERS], held_at_1s = 0, alive_at_end = 0, scrapes = 0;
	double t0, worst = 0, took;

	cr_assert_eq(httpd_publish(h, "a 1\n", 4), 0);
	t0 = mono_now();
	for (int i = 0; i < TRICKLERS; i++) {
		fds[i] = connect_from("127.0.0.1", port);
		if (fds[i] >= 0 && write(fds[i], "GET /metrics HTTP/1.1\r\n", 23) != 23) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (int sec = 1; sec <= TRICKLE_S; sec++) {
		while (mono_now() < t0 + sec)
			usleep(20000);
		for (int i = 0; i < TRICKLERS; i++) {
			if (fds[i] < 0)
				continue;
			if (!still_open(fds[i]) || send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) != 11) {
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			held_at_1s += sec == 1;
		}
		if (sec % 2 == 0) {
			int status = scrape_from("127.0.0.2", port, &took);

			cr_assert_eq(status, 200, "scrape at %d s under %d trickling connections: status %d",
				     sec, TRICKLERS, status);
			scrapes++;
			if (took > worst)
				worst = took;
		}
	}
	for (int i = 0; i < TRICKLERS; i++) {
		if (fds[i] >= 0) {
			alive_at_end += still_open(fds[i]);
			close(fds[i]);
		}
	}
	cr_log_info("slow clients: %d of %d held a slot after 1 s, %d alive after %d s; "
		    "%d scrapes answered, slowest %.1f ms", held_at_1s, TRICKLERS, alive_at_end,
		    TRICKLE_S, scrapes, worst * 1e3);
	fprintf(stderr, "httpd slow clients: %d of %d held a slot after 1 s, %d alive after %d s; "
		"%d scrapes answered, slowest %.1f ms\n", held_at_1s, TRICKLERS, alive_at_end, TRICKLE_S,
		scrapes, worst * 1e3);
	cr_assert_lt(held_at_1s, 64 / 4, "one address held %d connections", held_at_1s);
	cr_assert_eq(alive_at_end, 0, "%d trickling requests outlived the request deadline", alive_at_end);
	cr_assert_lt(worst, 1.0, "a scrape took %.2f s", worst);
	httpd_free(h);
}
