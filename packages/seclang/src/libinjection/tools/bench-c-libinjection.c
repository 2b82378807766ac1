/* Reference timing for bench-libinjection.ts (CPU time, so a busy machine skews less): runs C libinjection (as exported by
 * libmodsecurity.so.3) over hex-encoded inputs read from stdin, ROUNDS times, and prints
 * "sqli <inputs/s> <hits>" and "xss <inputs/s> <hits>".
 *   gcc -O2 bench-c-libinjection.c -o bench -l:libmodsecurity.so.3 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int libinjection_sqli(const char *s, size_t slen, char fingerprint[]);
int libinjection_xss(const char *s, size_t slen);

static int unhex(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    size_t cap = 1 << 16, n = 0;
    char **in = malloc(cap * sizeof(char *));
    size_t *len = malloc(cap * sizeof(size_t));
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        size_t l = strcspn(line, "\r\n"), k;
        if (n == cap) {
            cap *= 2;
            in = realloc(in, cap * sizeof(char *));
            len = realloc(len, cap * sizeof(size_t));
        }
        in[n] = malloc(l / 2 + 1);
        for (k = 0; k < l / 2; k++) in[n][k] = (char)(unhex(line[2 * k]) * 16 + unhex(line[2 * k + 1]));
        in[n][l / 2] = 0;
        len[n++] = l / 2;
    }
    char fp[8];
    long hits = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) hits += libinjection_sqli(in[i], len[i], fp);
    double t1 = now();
    printf("sqli %.0f %ld\n", (double)n * rounds / (t1 - t0), hits);
    hits = 0;
    t0 = now();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) hits += libinjection_xss(in[i], len[i]);
    t1 = now();
    printf("xss %.0f %ld\n", (double)n * rounds / (t1 - t0), hits);
    return 0;
}
