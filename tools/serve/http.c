/* http.c — fovea serve's HTTP side, on libmicrohttpd: a polling thread a core (epoll), each
 * request's connection suspended while the workers compute its answer and resumed by the worker
 * that finishes it (a thread per connection cost 64 threads' switching at 64 connections),
 * bodies gathered up to the limit (413 beyond, refused from the Content-Length before a byte is
 * read), an idle timeout against slow clients, the bearer token, and the metrics. The answers
 * are api.c's. */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct serve_http {
    serve_server *server;
    struct MHD_Daemon *daemon;
    int suspended; /* connections waiting for the workers (atomic): the daemon stops after them */
    int closing;   /* past the drain's time: new requests on open connections get 503 (atomic) */
};

typedef struct request_state {
    struct MHD_Connection *connection;
    unsigned char *body;
    size_t size, cap;
    int too_big, counted;
    char query[4096];
    size_t query_len;
    int query_too_long;
    serve_request request;  /* what the workers were given */
    serve_pending *pending; /* while they compute it; the connection is suspended */
    double start;
} request_state;

/* A worker finished the request: its connection answers (MHD calls answer again). */
static void resume(void *arg) {
    request_state *st = arg;
    MHD_resume_connection(st->connection);
}

/* The answer of a resumed request, which no longer waits for the workers. */
static void finish_pending(serve_http *h, request_state *st, serve_response *r) {
    serve_finish(h->server, st->pending, r);
    st->pending = NULL;
    __atomic_sub_fetch(&h->suspended, 1, __ATOMIC_ACQ_REL);
}

/* The query pairs again as "k=v&k=v" (MHD has decoded them: & = % and + are encoded back). */
static enum MHD_Result add_argument(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    request_state *st = cls;
    const char *parts[2] = {key, value ? value : ""};
    for (int p = 0; p < 2; p++) {
        if (st->query_len && p == 0) st->query[st->query_len++] = '&';
        for (const char *c = parts[p]; *c; c++) {
            if (st->query_len + 4 >= sizeof st->query) return st->query_too_long = 1, MHD_NO;
            if (*c == '&' || *c == '=' || *c == '%' || *c == '+') st->query_len += (size_t)snprintf(st->query + st->query_len, 4, "%%%02X", (unsigned char)*c);
            else st->query[st->query_len++] = *c;
        }
        if (p == 0) st->query[st->query_len++] = '=';
    }
    st->query[st->query_len] = '\0';
    return MHD_YES;
}

static void count(serve_server *s, int status, double seconds) {
    pthread_mutex_lock(&s->metrics.lock);
    s->metrics.requests[status / 100 >= 1 && status / 100 <= 5 ? status / 100 : 5]++;
    s->metrics.latency_sum += seconds, s->metrics.latency_count++;
    for (int b = 0; b < 12; b++)
        if (seconds <= serve_latency_bounds[b]) s->metrics.latency_buckets[b]++;
    pthread_mutex_unlock(&s->metrics.lock);
}

static enum MHD_Result respond(struct MHD_Connection *c, serve_server *s, serve_response *r, double start) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->size, r->body ? r->body : (void *)"", r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) return free(r->body), MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    count(s, r->status, fv_time_seconds() - start);
    return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                              const char *upload, size_t *upload_size, void **state) {
    (void)version;
    serve_http *h = cls;
    serve_server *s = h->server;
    request_state *st = *state;
    if (!st) { /* the headers: refuse a body that will not fit before reading it */
        if (!(st = calloc(1, sizeof *st))) return MHD_NO;
        *state = st;
        pthread_mutex_lock(&s->metrics.lock);
        s->metrics.in_flight++;
        pthread_mutex_unlock(&s->metrics.lock);
        st->counted = 1;
        const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > s->limits.max_body) st->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size) { /* a piece of the body */
        if (!st->too_big && st->size + *upload_size > s->limits.max_body) st->too_big = 1;
        if (!st->too_big && st->size + *upload_size > st->cap) {
            size_t cap = st->cap ? st->cap : 65536;
            while (cap < st->size + *upload_size) cap *= 2;
            if (cap > s->limits.max_body) cap = s->limits.max_body;
            unsigned char *b = realloc(st->body, cap);
            if (!b) return MHD_NO;
            st->body = b, st->cap = cap;
        }
        if (!st->too_big) memcpy(st->body + st->size, upload, *upload_size), st->size += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    serve_response r;
    if (st->pending) { /* resumed: the workers are done */
        finish_pending(h, st, &r);
        return respond(c, s, &r, st->start);
    }
    double start = st->start = fv_time_seconds();
    if (__atomic_load_n(&h->closing, __ATOMIC_ACQUIRE)) {
        serve_error(&r, 503, "the server is stopping");
        return respond(c, s, &r, start);
    }
    if (st->too_big) {
        serve_error(&r, 413, "the body is larger than %zu bytes (--max-body-mb)", s->limits.max_body);
        return respond(c, s, &r, start);
    }
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_argument, st);
    if (st->query_too_long) {
        serve_error(&r, 414, "the query string is longer than %zu bytes", sizeof st->query - 4);
        return respond(c, s, &r, start);
    }
    int public = !strcmp(url, "/healthz") || !strcmp(url, "/") || !strcmp(url, "/index.html");
    if (s->token && !public) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        size_t n = strlen(s->token);
        if (!auth || strncmp(auth, "Bearer ", 7) || strlen(auth + 7) != n || memcmp(auth + 7, s->token, n)) {
            serve_error(&r, 401, "this server needs the header 'Authorization: Bearer TOKEN' (--token)");
            return respond(c, s, &r, start);
        }
    }
    st->request = (serve_request){method, url, st->query_len ? st->query : NULL,
                                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE), st->body, st->size};
    if (!(st->pending = serve_start(s, &st->request, &r))) return respond(c, s, &r, start);
    /* suspended before the workers can finish it, so that their resume finds it suspended */
    st->connection = c;
    __atomic_add_fetch(&h->suspended, 1, __ATOMIC_ACQ_REL);
    MHD_suspend_connection(c);
    serve_submit(s, st->pending, resume, st);
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why) {
    (void)c, (void)why;
    serve_http *h = cls;
    request_state *st = *state;
    if (!st) return;
    if (st->pending) { /* resumed, but the client had gone: the workers are done with it */
        serve_response r;
        finish_pending(h, st, &r);
        free(r.body);
    }
    if (st->counted) {
        pthread_mutex_lock(&h->server->metrics.lock);
        h->server->metrics.in_flight--;
        pthread_mutex_unlock(&h->server->metrics.lock);
    }
    free(st->body);
    free(st);
    *state = NULL;
}

serve_http *serve_http_start(serve_server *s, const char *host, int port, fv_error *err) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET, addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return serve_fail(err, "--host must be an IPv4 address (127.0.0.1, 0.0.0.0), not '%s'", host), NULL;
    serve_http *h = calloc(1, sizeof *h);
    if (!h) return serve_fail(err, "out of memory"), NULL;
    h->server = s;
    unsigned int threads = (unsigned int)(s->workers > 0 ? s->workers : 1) * (unsigned int)(s->worker_threads > 0 ? s->worker_threads : 1);
    h->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)port, NULL, NULL,
                                 answer, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads < 64 ? threads : 64u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    if (!h->daemon) return free(h), serve_fail(err, "cannot listen on %s:%d (in use, or not an address of this machine)", host, port), NULL;
    return h;
}

int serve_http_port(serve_http *h) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : -1;
}

void serve_http_stop(serve_http *h, double seconds) {
    if (!h) return;
    MHD_quiesce_daemon(h->daemon); /* no new connections; those open finish */
    double until = fv_time_seconds() + seconds;
    for (;;) {
        pthread_mutex_lock(&h->server->metrics.lock);
        long busy = h->server->metrics.in_flight;
        pthread_mutex_unlock(&h->server->metrics.lock);
        if (busy <= 0) break;
        /* past the time, clients still sending on open connections get 503; the daemon stops once
           no connection waits for the workers (their work always ends: a forward) */
        if (fv_time_seconds() > until) {
            __atomic_store_n(&h->closing, 1, __ATOMIC_RELEASE);
            if (__atomic_load_n(&h->suspended, __ATOMIC_ACQUIRE) == 0) break;
        }
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    MHD_stop_daemon(h->daemon);
    free(h);
}
