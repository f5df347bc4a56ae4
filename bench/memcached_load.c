/*
 * memcached_load.c - a client load for memcached: CONNECTIONS threads, each
 * on its own connection, do OPS set+get pairs of 100-byte values over 1000
 * keys of its own (text protocol, one request in flight per connection) and
 * check every answer. Prints the milliseconds from the first timed request
 * to the last answer; each connection has had one answer before, so the
 * server's start and exit stay out of the measurement. With WARM 1, each
 * connection first makes one untimed pass over its keys: the time is then
 * that of a server past its first sight of them.
 *
 * usage: tl-bench-memcached-load PORT [CONNECTIONS [OPS [WARM]]]   (defaults 4, 20000, 0)
 * Exits 1 on a wrong answer or a lost connection, 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define VALUE_BYTES 100
#define KEYS 1000 /* per connection */
#define CONNECT_TRIES 500 /* 10 ms apart: the server may still be starting */

static int port;
static long ops;
static int warm;
static pthread_barrier_t start_line;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int connect_server(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < CONNECT_TRIES; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (fd >= 0)
            close(fd);
        usleep(10000);
    }
    return -1;
}

/* Reads until `want` bytes arrived; the answers are short and exact, so never more. */
static int read_exact(int fd, char *buf, size_t want)
{
    for (size_t got = 0; got < want;) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
    for (size_t sent = 0; sent < len;) {
        ssize_t n = write(fd, buf + sent, len - sent);
        if (n <= 0)
            return -1;
        sent += (size_t)n;
    }
    return 0;
}

/* One set and one get of key `i` of connection `conn`; 0 when both answers are right. */
static int set_and_get(int fd, int conn, long i)
{
    char key[32], value[VALUE_BYTES + 1], req[256], expect[256], answer[256];
    snprintf(key, sizeof key, "c%d:k%ld", conn, i % KEYS);
    memset(value, 'a' + (int)(i % 26), VALUE_BYTES);
    value[VALUE_BYTES] = '\0';
    int len = snprintf(req, sizeof req, "set %s 0 0 %d\r\n%s\r\n", key, VALUE_BYTES, value);
    if (send_all(fd, req, (size_t)len) < 0 || read_exact(fd, answer, 8) < 0 ||
        memcmp(answer, "STORED\r\n", 8) != 0)
        return -1;
    len = snprintf(req, sizeof req, "get %s\r\n", key);
    int want = snprintf(expect, sizeof expect, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", key,
                        VALUE_BYTES, value);
    if (send_all(fd, req, (size_t)len) < 0 || read_exact(fd, answer, (size_t)want) < 0 ||
        memcmp(answer, expect, (size_t)want) != 0)
        return -1;
    return 0;
}

static void *client(void *arg)
{
    int conn = (int)(intptr_t)arg;
    int fd = connect_server();
    long failed = fd < 0 || set_and_get(fd, conn, -1) < 0; /* the server answers: it is up */
    for (long i = 0; warm && i < KEYS && !failed; i++)
        failed = set_and_get(fd, conn, i) < 0;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < ops && !failed; i++)
        failed = set_and_get(fd, conn, i) < 0;
    if (fd >= 0)
        close(fd);
    return (void *)failed;
}

int main(int argc, char **argv)
{
    int connections = argc > 2 ? atoi(argv[2]) : 4;
    port = argc > 1 ? atoi(argv[1]) : 0;
    ops = argc > 3 ? atol(argv[3]) : 20000;
    warm = argc > 4 ? atoi(argv[4]) : 0;
    if (argc < 2 || argc > 5 || port <= 0 || port > 65535 || connections <= 0 ||
        connections > MAX_CONNECTIONS || ops <= 0) {
        fprintf(stderr, "usage: tl-bench-memcached-load PORT [CONNECTIONS [OPS [WARM]]]\n");
        return 2;
    }
    pthread_t threads[MAX_CONNECTIONS];
    pthread_barrier_init(&start_line, NULL, (unsigned)connections + 1);
    for (int i = 0; i < connections; i++)
        pthread_create(&threads[i], NULL, client, (void *)(intptr_t)i);
    pthread_barrier_wait(&start_line);
    double t0 = now_ms();
    int failed = 0;
    for (int i = 0; i < connections; i++) {
        void *r;
        pthread_join(threads[i], &r);
        failed |= r != NULL;
    }
    double elapsed = now_ms() - t0;
    if (failed) {
        fprintf(stderr, "tl-bench-memcached-load: a connection failed or got a wrong answer\n");
        return 1;
    }
    printf("%.1f\n", elapsed);
    return 0;
}
