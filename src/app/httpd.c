/* SPDX-License-Identifier: MIT */
/*
 * httpd: the /metrics server (see include/leakd/app/httpd.h).
 *
 * Responsible for the routes, and for handing the latest snapshot from the
 * daemon's thread to the server's; the address is listen.c's.
 * HTTP itself is libmicrohttpd's: one internal polling thread, a cap on
 * connections and an idle timeout, so a slow or hostile client can tie up
 * neither memory nor the daemon loop.
 *
 * Idle timeouts alone let a client that trickles a header line every few
 * seconds hold a connection forever, and 64 of them starve every scrape. So
 * one address holds at most HTTPD_MAX_PER_IP connections, and a request
 * must have arrived whole HTTPD_REQUEST_TIMEOUT_S after the connection
 * opened (or after the previous response): a watchdog thread shuts down the
 * sockets of those that have not, which MHD then sees close.
 *
 * We bind the socket ourselves and pass it with MHD_OPTION_LISTEN_SOCKET
 * because MHD_start_daemon() reports every failure as NULL, and the caller
 * must be able to tell "port taken" from "bad address".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "leakd/app/httpd.h"
#include "leakd/app/listen.h"
#include "leakd/output/metrics.h"

#define HTTPD_MAX_CONNECTIONS	64u	/* scrapers and curious humans, not a web site */
#define HTTPD_IDLE_TIMEOUT_S	10u	/* Prometheus' default scrape timeout */
#define HTTPD_MAX_PER_IP	8u	/* a few scrapers behind one address (HA pair, NAT) */
#define HTTPD_REQUEST_TIMEOUT_S	5.0	/* a scraper sends its request in one go */
#define HTTPD_WATCH_PERIOD_MS	250

/* One open connection, as the watchdog sees it. */
struct httpd_conn {
	int fd;			/* -1: free slot */
	double since;		/* mono time the current request began to arrive */
	bool answering;		/* its request arrived: no deadline until it is answered */
};

struct httpd {
	struct MHD_Daemon *mhd;
	uint16_t port;
	char *path;		/* telemetry path, "/metrics" */
	char *index;		/* the landing page, NUL-terminated */

	pthread_mutex_t lock;	/* guards snap/snap_len/have_snap */
	char *snap;
	size_t snap_len;
	bool have_snap;

	/* the request deadline: slots filled by MHD's thread, read by ours */
	pthread_mutex_t conn_lock;
	pthread_cond_t stop_cond;
	bool stop, watching;
	pthread_t watchdog;
	struct httpd_conn conns[HTTPD_MAX_CONNECTIONS];
};

/* ---- routes ---- */

static enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned int status,
				   const char *ctype, const char *body, size_t len,
				   enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;	/* closes the connection: out of memory */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define HTTPD_TEXT "text/plain; charset=utf-8"
#define HTTPD_STATIC(s) (s), sizeof(s) - 1, MHD_RESPMEM_PERSISTENT

static enum MHD_Result httpd_serve_metrics(struct httpd *h, struct MHD_Connection *conn)
{
	struct MHD_Response *r = NULL;
	enum MHD_Result ret;
	bool have;

	/* MUST_COPY under the lock: the response owns its bytes, and a
	 * publish racing this scrape frees only the old snapshot after. */
	pthread_mutex_lock(&h->lock);
	have = h->have_snap;
	if (have)
		r = MHD_create_response_from_buffer(h->snap_len, h->snap, MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&h->lock);
	if (!have) {
		/* Until the daemon's first snapshot: 503, so Prometheus records
		 * up=0 rather than a healthy target with no series. */
		return httpd_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, HTTPD_TEXT,
				   HTTPD_STATIC("leakd is starting: no metrics yet\n"));
	}
	if (!r)
		return MHD_NO;	/* out of memory: drop the connection */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE) != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the request deadline ---- */

static double httpd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct httpd_conn *httpd_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* answering: its request arrived (the handler runs); else it was answered
 * and the deadline starts again for the next request on the connection. */
static void httpd_conn_mark(struct httpd *h, struct MHD_Connection *conn, bool answering)
{
	struct httpd_conn *c = httpd_conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&h->conn_lock);
	c->answering = answering;
	c->since = httpd_now();
	pthread_mutex_unlock(&h->conn_lock);
}

static void httpd_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
				enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct httpd_conn *c = *socket_context;

	pthread_mutex_lock(&h->conn_lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		for (size_t i = 0; ci && i < HTTPD_MAX_CONNECTIONS; i++) {
			if (h->conns[i].fd < 0) {
				h->conns[i] = (struct httpd_conn){ .fd = ci->connect_fd, .since = httpd_now() };
				*socket_context = &h->conns[i];
				break;
			}
		}
	} else if (c) {
		/* before MHD closes the fd: the watchdog never touches a reused one */
		c->fd = -1;
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&h->conn_lock);
}

static void httpd_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			       enum MHD_RequestTerminationCode toe)
{
	httpd_conn_mark(cls, conn, false);
}

static void *httpd_watch(void *arg)
{
	struct httpd *h = arg;
	struct timespec until;

	pthread_mutex_lock(&h->conn_lock);
	while (!h->stop) {
		double now = httpd_now();

		for (size_t i = 0; i < HTTPD_MAX_CONNECTIONS; i++) {
			struct httpd_conn *c = &h->conns[i];

			if (c->fd >= 0 && !c->answering && now - c->since > HTTPD_REQUEST_TIMEOUT_S) {
				/* MHD sees the end of the stream and closes it */
				shutdown(c->fd, SHUT_RDWR);
				c->answering = true;	/* once */
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += HTTPD_WATCH_PERIOD_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->stop_cond, &h->conn_lock, &until);
	}
	pthread_mutex_unlock(&h->conn_lock);
	return NULL;
}

static enum MHD_Result httpd_handler(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct httpd *h = cls;

	httpd_conn_mark(h, conn, true);
	/* Answering on the first call is allowed; MHD then discards any
	 * request body and closes the connection if one was sent. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return httpd_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, HTTPD_TEXT,
				   HTTPD_STATIC("Method Not Allowed\n"));
	if (!strcmp(url, h->path))
		return httpd_serve_metrics(h, conn);
	if (!strcmp(url, "/"))
		return httpd_reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", h->index,
				   strlen(h->index), MHD_RESPMEM_PERSISTENT);
	return httpd_reply(conn, MHD_HTTP_NOT_FOUND, HTTPD_TEXT, HTTPD_STATIC("Not Found\n"));
}

/* The landing page, with path HTML-escaped (it comes from a config file). */
static char *httpd_index_page(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>leakd</title></head>\n"
	      "<body><h1>leakd</h1>\n<p>Memory leak detector for Python processes.</p>\n"
	      "<p><a href=\"", f);
	for (const char *p = path; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*p, f);
		}
	}
	fputs("\">Metrics</a></p>\n</body></html>\n", f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- lifecycle ---- */

/* Whether fd still refers to the socket spare duplicates. */
static bool httpd_same_file(int fd, int spare)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstat(spare, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A server with nothing bound yet: its locks, free connection slots, the
 * path and the landing page. Returns 0 or -errno. */
static int httpd_new(const char *path, struct httpd **out)
{
	struct httpd *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	err = pthread_mutex_init(&h->lock, NULL);
	if (err) {
		free(h);
		return -err;
	}
	err = pthread_mutex_init(&h->conn_lock, NULL);
	if (err) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -err;
	}
	err = pthread_cond_init(&h->stop_cond, NULL);
	if (err) {
		pthread_mutex_destroy(&h->conn_lock);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -err;
	}
	for (size_t i = 0; i < HTTPD_MAX_CONNECTIONS; i++)
		h->conns[i].fd = -1;
	h->path = strdup(path);
	h->index = httpd_index_page(path);
	if (!h->path || !h->index) {
		httpd_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

/* Hands the bound socket *fd to MHD with the limits above. On success MHD
 * owns it and *fd is -1; on failure *fd is -1 if MHD closed it already.
 * Returns 0 or -errno. */
static int httpd_start_mhd(struct httpd *h, int *fd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
	int spare, err = 0;

	if (getsockname(*fd, (struct sockaddr *)&ss, &sslen) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6) {
		h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		flags |= MHD_USE_IPv6;
	} else {
		h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}

	/* MHD closes the socket on some of its failure paths and not on
	 * others; a duplicate tells afterwards whether fd is still ours. */
	spare = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
	if (spare < 0)
		return -errno;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, httpd_handler, h,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)*fd,
				  MHD_OPTION_CONNECTION_LIMIT, HTTPD_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, HTTPD_IDLE_TIMEOUT_S,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTPD_MAX_PER_IP,
				  MHD_OPTION_NOTIFY_CONNECTION, httpd_on_connection, h,
				  MHD_OPTION_NOTIFY_COMPLETED, httpd_on_completed, h,
				  MHD_OPTION_END);
	if (!h->mhd) {
		/* MHD says nothing about why; with a bound socket and fixed
		 * options, it is a thread or memory shortage */
		err = -ENOMEM;
		if (!httpd_same_file(*fd, spare))
			*fd = -1;
	} else {
		*fd = -1;	/* MHD's now: MHD_stop_daemon() closes it */
	}
	close(spare);
	return err;
}

int httpd_start(const char *listen, const char *path, struct httpd **out)
{
	char host[LISTEN_HOST_MAX];
	struct httpd *h = NULL;
	uint16_t port;
	int fd = -1, err;

	if (!out)
		return -EINVAL;
	if (!listen)
		listen = HTTPD_DEFAULT_LISTEN;
	if (!path)
		path = HTTPD_DEFAULT_PATH;
	if (path[0] != '/')
		return -EINVAL;
	err = listen_parse(listen, host, &port);
	if (err < 0)
		return err;
	err = httpd_new(path, &h);
	if (err)
		return err;

	fd = listen_bind(host, port);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	err = httpd_start_mhd(h, &fd);
	if (err)
		goto cleanup;
	err = -pthread_create(&h->watchdog, NULL, httpd_watch, h);
	if (err)
		goto cleanup;
	h->watching = true;
	*out = h;
	h = NULL;
cleanup:
	if (fd >= 0)
		close(fd);
	httpd_free(h);
	return err;
}

int httpd_publish(struct httpd *h, const char *buf, size_t len)
{
	char *copy, *old;

	if (!h || (!buf && len))
		return -EINVAL;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, buf, len);
	copy[len] = '\0';

	pthread_mutex_lock(&h->lock);
	old = h->snap;
	h->snap = copy;
	h->snap_len = len;
	h->have_snap = true;
	pthread_mutex_unlock(&h->lock);
	free(old);
	return 0;
}

uint16_t httpd_port(const struct httpd *h)
{
	return h ? h->port : 0;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	if (h->watching) {
		pthread_mutex_lock(&h->conn_lock);
		h->stop = true;
		pthread_cond_signal(&h->stop_cond);
		pthread_mutex_unlock(&h->conn_lock);
		pthread_join(h->watchdog, NULL);
	}
	if (h->mhd)
		MHD_stop_daemon(h->mhd);	/* joins the thread, closes the socket */
	pthread_cond_destroy(&h->stop_cond);
	pthread_mutex_destroy(&h->conn_lock);
	pthread_mutex_destroy(&h->lock);
	free(h->snap);
	free(h->index);
	free(h->path);
	free(h);
}
