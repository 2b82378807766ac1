/*
 * exec-loop: runs one program N times (vfork + execve + waitpid) and prints the wall time of
 * each run in nanoseconds, sorted summary on stdout: "<runs> <mean> <p50> <p99> <failures>".
 * With --touch, the file's first byte is written again before every run (outside the timed
 * section) so that every exec is a cache miss for the enforcement (same content, new cache key,
 * and any inode ignore mark dropped by the kernel).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exec-loop N PATH [--touch]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  const char *path = argv[2];
  int touch = argc > 3 && !strcmp(argv[3], "--touch");
  uint64_t *t = calloc((size_t)n, sizeof *t);
  int failures = 0;
  char *const args[] = {(char *)path, NULL};
  char *const env[] = {NULL};
  for (int i = 0; i < n; i++) {
    if (touch) {
      /* The first byte written again in place: same content, but a write the kernel sees (it drops an
       * inode ignore mark) and new file times (a new cache key), so the next exec is a real miss. */
      int fd = open(path, O_WRONLY);
      unsigned char b = 0x7f;
      if (fd < 0 || pwrite(fd, &b, 1, 0) != 1) {
        perror("touch");
        return 1;
      }
      close(fd);
    }
    uint64_t t0 = ns();
    pid_t pid = vfork();
    if (pid == 0) {
      execve(path, args, env);
      _exit(126);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    t[i] = ns() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failures++;
  }
  qsort(t, (size_t)n, sizeof *t, cmp);
  uint64_t sum = 0;
  for (int i = 0; i < n; i++) sum += t[i];
  printf("%d %llu %llu %llu %d\n", n, (unsigned long long)(sum / (uint64_t)n), (unsigned long long)t[n / 2],
         (unsigned long long)t[(size_t)n * 99 / 100], failures);
  return 0;
}
