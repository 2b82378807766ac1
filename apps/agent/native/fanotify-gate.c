/*
 * fanotify-gate: Palisade application control's enforcement point (ADR 0006).
 *
 * A small helper process the agent starts. It holds one fanotify group with permission marks
 * (FAN_OPEN_EXEC_PERM for execve, FAN_OPEN_PERM for shared libraries and files opened by the
 * dynamic loader, the "ld.so ./binary" route around exec checks) on the mounts it is given,
 * hashes what is about to run (SHA-256 of the opened file itself, not of a path that could be
 * swapped), and asks the agent for a verdict over stdin/stdout. Decisions are cached by
 * (dev, inode, size, mtime, ctime), so a cached answer costs one fstat and a table lookup.
 *
 * Fail-open is structural: if the agent dies, PR_SET_PDEATHSIG / stdin EOF ends this process,
 * the fanotify group closes and the kernel allows every pending open. If the agent is merely
 * slow, each request is allowed after --timeout-ms and reported with a T line. The helper never
 * opens a file on a marked mount after marking (it would wait for itself).
 *
 * With --notify (detect-only policies) the same work runs on notification events instead:
 * nothing waits for an answer, so the helper cannot delay any process at all.
 *
 * Protocol, one line per message.
 *   helper -> agent:
 *     READY <pid>
 *     Q <id> <x|o> <pid> <uid> <sha256> <path>    verdict needed (x = exec, o = open)
 *     N 0 <x|o> <pid> <uid> <sha256> <path>       detect mode: already allowed, for the record
 *     B 0 <x|o> <pid> <uid> <sha256> <path>       denied from the cache
 *     T <id>                                        no answer in time: allowed (fail-open)
 *     S <hits> <misses> <timeouts> <pending> <dropped> <exempt> <hit-ns> <hash-ns> <answer-ns> <answers> <local> <ignored>
 *     E <message>
 *   agent -> helper:
 *     A <id> <1|0>        allow / deny (cached)
 *     C                   clear the decision cache (policy changed)
 *     X <pid> / U <pid>   exempt / stop exempting a process
 *     D <0|1>             detect mode off / on
 *     H <sha256>          this content is allowed wherever it lies: answer misses locally
 *     R                   forget every H
 *     P                   print stats
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 16,384 decisions (112 bytes each, 1.8 MB once all touched): the files a host executes and
 * loads, with room to spare. 65,536 made the helper 11 MB of RSS on a busy build host, where
 * each distinct file touches another page of the table; a collision only costs a re-hash. */
#define CACHE_BITS 14
#define CACHE_SIZE (1u << CACHE_BITS)
#define MAX_PENDING 1024
#define MAX_EXEMPT 64

/* ---------- SHA-256: libcrypto when present (SHA-NI fast), portable C otherwise ---------- */

/* Streaming: the file is read in pieces (never mapped, see hash_fd). libcrypto's SHA256_Init/
 * Update/Final when the library has them (its context is opaque here: a generous aligned buffer),
 * the portable C below otherwise. */
typedef int (*sha256_init_fn)(void *);
typedef int (*sha256_update_fn)(void *, const void *, size_t);
typedef int (*sha256_final_fn)(unsigned char *, void *);
static sha256_init_fn crypto_init;
static sha256_update_fn crypto_update;
static sha256_final_fn crypto_final;
static int use_crypto;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
    0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
    0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[i * 4] << 24 | (uint32_t)p[i * 4 + 1] << 16 | (uint32_t)p[i * 4 + 2] << 8 | p[i * 4 + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

struct sha256_portable_ctx {
  uint32_t h[8];
  unsigned char buf[64];
  size_t buflen;
  uint64_t total;
};

static void sha256_portable_init(struct sha256_portable_ctx *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, iv, sizeof iv);
  c->buflen = 0;
  c->total = 0;
}

static void sha256_portable_update(struct sha256_portable_ctx *c, const unsigned char *data, size_t len) {
  c->total += len;
  if (c->buflen) {
    size_t take = 64 - c->buflen < len ? 64 - c->buflen : len;
    memcpy(c->buf + c->buflen, data, take);
    c->buflen += take;
    data += take;
    len -= take;
    if (c->buflen < 64) return;
    sha256_block(c->h, c->buf);
    c->buflen = 0;
  }
  for (; len >= 64; data += 64, len -= 64) sha256_block(c->h, data);
  memcpy(c->buf, data, len);
  c->buflen = len;
}

static void sha256_portable_final(struct sha256_portable_ctx *c, unsigned char out[32]) {
  unsigned char tail[128] = {0};
  memcpy(tail, c->buf, c->buflen);
  tail[c->buflen] = 0x80;
  size_t tl = c->buflen + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = c->total * 8;
  for (int k = 0; k < 8; k++) tail[tl - 1 - k] = (unsigned char)(bits >> (8 * k));
  sha256_block(c->h, tail);
  if (tl == 128) sha256_block(c->h, tail + 64);
  for (int k = 0; k < 8; k++) {
    out[k * 4] = (unsigned char)(c->h[k] >> 24);
    out[k * 4 + 1] = (unsigned char)(c->h[k] >> 16);
    out[k * 4 + 2] = (unsigned char)(c->h[k] >> 8);
    out[k * 4 + 3] = (unsigned char)c->h[k];
  }
}

/* Hashes the file behind fd: its first `size` bytes (the size fstat() gave for the cache key),
 * or fewer if it ends sooner; 0 on success.
 *
 * pread() into a buffer, never mmap(): touching a mapped page past the end of a file that was
 * truncated meanwhile (a binary rebuilt or replaced while it runs) raises SIGBUS and killed
 * the helper, leaving nothing enforced (issue #10). A file that shrinks while it is read
 * hashes to what was read (content no allow rule names, in practice); one that grows is read
 * no further than `size`, so a writer cannot keep the helper reading. Either way its key
 * (size, mtime, ctime) changed, so the next open is a miss and is hashed again. */
static unsigned char hash_buf[64 * 1024];
static union {
  unsigned char crypto[512]; /* OpenSSL's SHA256_CTX is 112 bytes; room to spare */
  struct sha256_portable_ctx portable;
  uint64_t align;
} hash_ctx;

static int hash_fd(int fd, off_t size, char hex[65]) {
  unsigned char md[32];
  int crypto = use_crypto;
  if (crypto)
    crypto = crypto_init(hash_ctx.crypto) == 1;
  if (!crypto) sha256_portable_init(&hash_ctx.portable);
  off_t off = 0;
  while (off < size) {
    size_t want = size - off < (off_t)sizeof hash_buf ? (size_t)(size - off) : sizeof hash_buf;
    ssize_t n = pread(fd, hash_buf, want, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (crypto) crypto_final(md, hash_ctx.crypto); /* releases nothing, but leaves it clean */
      return -1;
    }
    if (n == 0) break;
    if (crypto)
      crypto_update(hash_ctx.crypto, hash_buf, (size_t)n);
    else
      sha256_portable_update(&hash_ctx.portable, hash_buf, (size_t)n);
    off += n;
  }
  if (crypto)
    crypto_final(md, hash_ctx.crypto);
  else
    sha256_portable_final(&hash_ctx.portable, md);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[i * 2] = digits[md[i] >> 4];
    hex[i * 2 + 1] = digits[md[i] & 15];
  }
  hex[64] = 0;
  return 0;
}

/* ---------- decision cache ---------- */

struct key {
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns, ctime_ns;
};

struct entry {
  struct key key;
  unsigned used : 1, classified : 1, is_elf : 1, is_lib : 1, hashed : 1, decided : 1, allow : 1;
  char sha[65];
};

static struct entry cache[CACHE_SIZE];

static int key_eq(const struct key *a, const struct key *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static struct entry *cache_slot(const struct key *k) {
  uint64_t h = (uint64_t)k->ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)k->dev * 0xc2b2ae3d27d4eb4full ^ (uint64_t)k->mtime_ns ^
               (uint64_t)k->ctime_ns * 31 ^ (uint64_t)k->size;
  h ^= h >> 29;
  struct entry *e = &cache[h & (CACHE_SIZE - 1)];
  if (!e->used || !key_eq(&e->key, k)) {
    /* Direct-mapped: a collision evicts. The evicted file is simply asked about again. */
    memset(e, 0, sizeof *e);
    e->used = 1;
    e->key = *k;
  }
  return e;
}

/* ---------- hashes the agent allows whatever the path: answered here, no round trip ---------- */

static unsigned char (*allow_set)[32];
static size_t allow_cap, allow_n;

static int unhex(const char *hex, unsigned char out[32]) {
  for (int i = 0; i < 32; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      char c = hex[i * 2 + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else return -1;
    }
    out[i] = (unsigned char)v;
  }
  return 0;
}

static size_t allow_slot(const unsigned char d[32], size_t cap) {
  uint64_t h;
  memcpy(&h, d, sizeof h); /* a SHA-256 is already uniformly distributed */
  return (size_t)(h & (cap - 1));
}

static int allow_has(const char hex[65]) {
  unsigned char d[32];
  if (!allow_n || unhex(hex, d) != 0) return 0;
  for (size_t i = allow_slot(d, allow_cap);; i = (i + 1) & (allow_cap - 1)) {
    static const unsigned char zero[32];
    if (!memcmp(allow_set[i], d, 32)) return 1;
    if (!memcmp(allow_set[i], zero, 32)) return 0;
  }
}

static void allow_add(const char *hex) {
  unsigned char d[32];
  static const unsigned char zero[32];
  if (strlen(hex) < 64 || unhex(hex, d) != 0 || !memcmp(d, zero, 32)) return;
  if ((allow_n + 1) * 2 > allow_cap) {
    size_t cap = allow_cap ? allow_cap * 2 : 1024;
    unsigned char (*grown)[32] = calloc(cap, 32);
    if (!grown) return; /* without the local set every miss simply asks the agent */
    for (size_t i = 0; i < allow_cap; i++) {
      if (!memcmp(allow_set[i], zero, 32)) continue;
      size_t j = allow_slot(allow_set[i], cap);
      while (memcmp(grown[j], zero, 32)) j = (j + 1) & (cap - 1);
      memcpy(grown[j], allow_set[i], 32);
    }
    free(allow_set);
    allow_set = grown;
    allow_cap = cap;
  }
  size_t i = allow_slot(d, allow_cap);
  while (memcmp(allow_set[i], zero, 32)) {
    if (!memcmp(allow_set[i], d, 32)) return;
    i = (i + 1) & (allow_cap - 1);
  }
  memcpy(allow_set[i], d, 32);
  allow_n++;
}

static void allow_reset(void) {
  free(allow_set);
  allow_set = NULL;
  allow_cap = allow_n = 0;
}

/* ---------- state ---------- */

struct pending {
  uint64_t id;
  int fd;
  struct key key;
  int64_t deadline_ms;
  uint64_t sent_ns;
};

static int fan_fd = -1;
static int detect_mode = 0;
/* --notify: detect mode on notification events. Nothing ever waits for us, so no process on
 * the host can be delayed by this helper at all; used for detect-only policies. */
static int notify_mode = 0;
static int timeout_ms = 1000;
static struct pending pending[MAX_PENDING];
static int npending = 0;
static uint64_t next_id = 1;
static pid_t exempt[MAX_EXEMPT];
static int nexempt = 0;
static unsigned long long st_hits, st_misses, st_timeouts, st_dropped, st_exempt;
/* Time spent deciding cache hits (fstat to response) and hashing misses: the helper's own cost,
 * measurable on a loaded machine where exec latency is mostly scheduling. */
static unsigned long long st_hit_ns, st_hash_ns, st_answer_ns, st_answers, st_local, st_ignored;
/* Inode ignore marks may be placed (the kernel then stops asking about that file). */
static int ignore_ok = 1;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes one whole line to stdout or nothing: stdout is non-blocking so a stalled agent can
 * never make this process (and every exec waiting on it) block in write(). */
static int emit(const char *fmt, ...) {
  char buf[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(STDOUT_FILENO, buf, (size_t)n);
  if (w == n) return 0;
  if (w > 0) {
    /* A partial line would corrupt the stream: finish it blocking (rare, pipe nearly full). */
    int fl = fcntl(STDOUT_FILENO, F_GETFL);
    fcntl(STDOUT_FILENO, F_SETFL, fl & ~O_NONBLOCK);
    ssize_t r = write(STDOUT_FILENO, buf + w, (size_t)(n - w));
    fcntl(STDOUT_FILENO, F_SETFL, fl);
    return r == n - w ? 0 : -1;
  }
  st_dropped++;
  return -1;
}

static void respond(int fd, int allow) {
  if (notify_mode) {
    close(fd);
    return;
  }
  struct fanotify_response r = {.fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY};
  if (write(fan_fd, &r, sizeof r) != sizeof r && errno != ENOENT) emit("E response write failed: %s", strerror(errno));
  close(fd);
}

static int is_exempt(pid_t pid) {
  for (int i = 0; i < nexempt; i++)
    if (exempt[i] == pid) return 1;
  return 0;
}

/* ELF facts for FAN_OPEN_PERM: is it ELF at all, and is it a shared library (ET_DYN without
 * PT_INTERP; PIE executables have an interpreter). Only these opens can run code. */
static void classify(int fd, struct entry *e) {
  unsigned char h[64];
  e->classified = 1;
  if (pread(fd, h, sizeof h, 0) < 52 || memcmp(h, "\177ELF", 4) != 0) return;
  e->is_elf = 1;
  int is64 = h[4] == 2, le = h[5] == 1;
  if (!le) return; /* big-endian hosts are not a target; treat as an executable, not a library */
  uint16_t type = (uint16_t)(h[16] | h[17] << 8);
  if (type != 3 /* ET_DYN */) return;
  uint64_t phoff;
  uint16_t phentsize, phnum;
  if (is64) {
    phoff = 0;
    for (int i = 0; i < 8; i++) phoff |= (uint64_t)h[32 + i] << (8 * i);
    phentsize = (uint16_t)(h[54] | h[55] << 8);
    phnum = (uint16_t)(h[56] | h[57] << 8);
  } else {
    phoff = (uint64_t)(h[28] | h[29] << 8 | h[30] << 16 | (uint32_t)h[31] << 24);
    phentsize = (uint16_t)(h[42] | h[43] << 8);
    phnum = (uint16_t)(h[44] | h[45] << 8);
  }
  if (phentsize < 4 || phnum > 256) return;
  unsigned char ph[4];
  for (uint16_t i = 0; i < phnum; i++) {
    if (pread(fd, ph, 4, (off_t)(phoff + (uint64_t)i * phentsize)) != 4) return;
    if ((ph[0] | ph[1] << 8 | ph[2] << 16 | (uint32_t)ph[3] << 24) == 3 /* PT_INTERP */) return;
  }
  e->is_lib = 1;
}

/* Is the process the dynamic loader itself ("ld.so ./binary")? Then its opens are exec. */
static int opener_is_loader(pid_t pid) {
  char link[64], exe[PATH_MAX];
  snprintf(link, sizeof link, "/proc/%d/exe", pid);
  ssize_t n = readlink(link, exe, sizeof exe - 1);
  if (n <= 0) return 0;
  exe[n] = 0;
  const char *base = strrchr(exe, '/');
  base = base ? base + 1 : exe;
  return strncmp(base, "ld-", 3) == 0 || strncmp(base, "ld.so", 5) == 0;
}

static unsigned uid_of(pid_t pid) {
  char p[64], buf[1024];
  snprintf(p, sizeof p, "/proc/%d/status", pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return (unsigned)-1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return (unsigned)-1;
  buf[n] = 0;
  char *u = strstr(buf, "\nUid:");
  return u ? (unsigned)strtoul(u + 5, NULL, 10) : (unsigned)-1;
}

static void path_of(int fd, char *out, size_t len) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, out, len - 1);
  if (n < 0) n = 0;
  out[n] = 0;
  /* The protocol is line-based: a newline in a file name must not start a new message. */
  for (ssize_t i = 0; i < n; i++)
    if (out[i] == '\n' || out[i] == '\r') out[i] = '?';
}

/*
 * Content allowed wherever it lies (the H set) needs no further decision until the file is
 * written: an inode ignore mark makes the kernel stop generating permission events for it, so
 * a cached exec costs nothing here at all. The kernel clears the mark when the file is modified
 * (no FAN_MARK_IGNORED_SURV_MODIFY), so changed content is decided again; a policy change
 * flushes every inode mark (flush_ignores). Never used for path-dependent verdicts: a rename or
 * hard link would carry the mark to a path a rule blocks (the H set is empty then).
 * Only for files only root can write: a write through a shared mapping changes the content
 * without the modify event that clears the mark, and root can stop the agent anyway.
 */
static void ignore_inode(int fd, const struct stat *st) {
  if (!ignore_ok || detect_mode || notify_mode) return;
  if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0) return;
  if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM, fd, NULL) == 0) {
    st_ignored++;
  } else if (errno == ENOSPC) {
    /* The group's mark limit: flush and start over rather than stop caching in the kernel. */
    fanotify_mark(fan_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
  } else {
    emit("E inode ignore marks unavailable (%s): every exec is answered from the cache", strerror(errno));
    ignore_ok = 0;
  }
}

/* Forgets every inode ignore mark; the mount and filesystem marks stay. */
static void flush_ignores(void) {
  if (fan_fd >= 0 && st_ignored > 0) fanotify_mark(fan_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
}

static void handle_event(const struct fanotify_event_metadata *m) {
  int fd = m->fd;
  if (fd < 0) return; /* FAN_NOFD: queue overflow, nothing to answer */
  if (!(m->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM | FAN_OPEN_EXEC | FAN_OPEN))) {
    close(fd);
    return;
  }
  pid_t pid = m->pid;
  if (is_exempt(pid)) {
    st_exempt++;
    respond(fd, 1);
    return;
  }
  uint64_t t0 = mono_ns();
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    respond(fd, 1);
    return;
  }
  struct key k = {.dev = st.st_dev,
                  .ino = st.st_ino,
                  .size = st.st_size,
                  .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                  .ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec};
  struct entry *e = cache_slot(&k);
  int exec = (m->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_EXEC)) != 0;
  if (!exec) {
    if (!e->classified) classify(fd, e);
    if (!e->is_elf || !(e->is_lib || opener_is_loader(pid))) {
      respond(fd, 1);
      return;
    }
  }
  char access = exec ? 'x' : 'o';
  if (e->decided) {
    st_hits++;
    if (!e->allow) {
      char path[PATH_MAX];
      path_of(fd, path, sizeof path);
      emit("B 0 %c %d %u %s %s", access, pid, uid_of(pid), e->sha, path);
    }
    respond(fd, e->allow);
    st_hit_ns += mono_ns() - t0;
    return;
  }
  st_misses++;
  if (!e->hashed) {
    uint64_t h0 = mono_ns();
    int hashed = hash_fd(fd, st.st_size, e->sha);
    st_hash_ns += mono_ns() - h0;
    if (hashed != 0) {
      emit("E cannot hash inode %lu: %s (allowed)", (unsigned long)st.st_ino, strerror(errno));
      respond(fd, 1);
      return;
    }
    e->hashed = 1;
  }
  if (!detect_mode && allow_has(e->sha)) {
    /* Allowed by content alone (the agent sent it with H): no need to wait for the agent. */
    st_local++;
    e->decided = 1;
    e->allow = 1;
    ignore_inode(fd, &st);
    respond(fd, 1);
    return;
  }
  char path[PATH_MAX];
  path_of(fd, path, sizeof path);
  if (detect_mode) {
    /* Detect mode never waits for the agent: allow now, report, and do not report again. */
    e->decided = 1;
    e->allow = 1;
    respond(fd, 1);
    emit("N 0 %c %d %u %s %s", access, pid, uid_of(pid), e->sha, path);
    return;
  }
  if (npending >= MAX_PENDING) {
    emit("E too many pending decisions: allowed %s", path);
    respond(fd, 1);
    return;
  }
  uint64_t id = next_id++;
  if (emit("Q %llu %c %d %u %s %s", (unsigned long long)id, access, pid, uid_of(pid), e->sha, path) != 0) {
    respond(fd, 1); /* the agent is not reading: fail open rather than hang the host */
    return;
  }
  pending[npending++] = (struct pending){.id = id, .fd = fd, .key = k, .deadline_ms = now_ms() + timeout_ms, .sent_ns = mono_ns()};
}

static void remove_pending(int i) { pending[i] = pending[--npending]; }

static void answer(uint64_t id, int allow) {
  for (int i = 0; i < npending; i++) {
    if (pending[i].id != id) continue;
    struct entry *e = cache_slot(&pending[i].key);
    if (e->hashed) {
      e->decided = 1;
      e->allow = allow ? 1 : 0;
    }
    respond(pending[i].fd, allow);
    st_answer_ns += mono_ns() - pending[i].sent_ns;
    st_answers++;
    remove_pending(i);
    return;
  }
  /* Already timed out and allowed: still cache the answer for the next run. */
}

static void expire(void) {
  int64_t now = now_ms();
  for (int i = 0; i < npending;) {
    if (pending[i].deadline_ms <= now) {
      st_timeouts++;
      emit("T %llu", (unsigned long long)pending[i].id);
      respond(pending[i].fd, 1);
      remove_pending(i);
    } else
      i++;
  }
}

static void command(char *line) {
  switch (line[0]) {
  case 'A': {
    unsigned long long id;
    int allow;
    if (sscanf(line + 1, "%llu %d", &id, &allow) == 2) answer(id, allow);
    break;
  }
  case 'C':
    memset(cache, 0, sizeof cache);
    flush_ignores();
    break;
  case 'X': {
    int p = atoi(line + 1);
    if (p > 0 && nexempt < MAX_EXEMPT && !is_exempt(p)) exempt[nexempt++] = p;
    break;
  }
  case 'U': {
    int p = atoi(line + 1);
    for (int i = 0; i < nexempt; i++)
      if (exempt[i] == p) exempt[i--] = exempt[--nexempt];
    break;
  }
  case 'D':
    detect_mode = notify_mode || atoi(line + 1) != 0;
    flush_ignores();
    break;
  case 'H':
    allow_add(line + 2);
    break;
  case 'R':
    allow_reset();
    flush_ignores();
    break;
  case 'P':
    emit("S %llu %llu %llu %d %llu %llu %llu %llu %llu %llu %llu %llu", st_hits, st_misses, st_timeouts, npending, st_dropped, st_exempt, st_hit_ns,
         st_hash_ns, st_answer_ns, st_answers, st_local, st_ignored);
    break;
  default:
    emit("E unknown command");
  }
}

static void usage(void) {
  fprintf(stderr, "usage: fanotify-gate [--detect | --notify] [--timeout-ms N] [--exempt-pid PID]... (--mount PATH | --filesystem PATH)...\n");
  exit(2);
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  /* Dies with the agent: the fanotify group closes and pending opens are allowed. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 1;
  signal(SIGPIPE, SIG_IGN);

  void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen("libcrypto.so", RTLD_NOW | RTLD_LOCAL);
  if (lib) {
    crypto_init = (sha256_init_fn)dlsym(lib, "SHA256_Init");
    crypto_update = (sha256_update_fn)dlsym(lib, "SHA256_Update");
    crypto_final = (sha256_final_fn)dlsym(lib, "SHA256_Final");
  }
  if (crypto_init && crypto_update && crypto_final && !getenv("PALISADE_GATE_PORTABLE_SHA256")) {
    /* Any first-use initialisation of the library (configuration, CPU feature detection) must
     * happen now, before any mark exists. Once "/" is marked, an open of our own would wait
     * for an answer only we can give — every open on the host would hang with it. The known
     * answer also checks that the context buffer is used the way we expect. */
    unsigned char warm[32];
    static const unsigned char empty_sha256[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                                   0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                                   0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    use_crypto = crypto_init(hash_ctx.crypto) == 1 && crypto_update(hash_ctx.crypto, "", 0) == 1 &&
                 crypto_final(warm, hash_ctx.crypto) == 1 && memcmp(warm, empty_sha256, 32) == 0;
  }

  exempt[nexempt++] = getpid();
  exempt[nexempt++] = parent;

  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--notify")) notify_mode = detect_mode = 1;
  fan_fd = fanotify_init((notify_mode ? FAN_CLASS_NOTIF : FAN_CLASS_CONTENT) | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fan_fd < 0) {
    fprintf(stderr, "fanotify_init: %s\n", strerror(errno));
    return 3;
  }
  /* --probe: can this host give us permission events at all? (capabilities() asks this) */
  if (argc == 2 && !strcmp(argv[1], "--probe")) {
    printf("ok %s\n", use_crypto ? "libcrypto" : "portable");
    return 0;
  }
  int marks = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--detect"))
      detect_mode = 1;
    else if (!strcmp(argv[i], "--notify"))
      continue;
    else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
      timeout_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--exempt-pid") && i + 1 < argc) {
      int p = atoi(argv[++i]);
      if (p > 0 && nexempt < MAX_EXEMPT) exempt[nexempt++] = p;
    } else if ((!strcmp(argv[i], "--mount") || !strcmp(argv[i], "--filesystem")) && i + 1 < argc) {
      unsigned int how = !strcmp(argv[i], "--mount") ? FAN_MARK_MOUNT : FAN_MARK_FILESYSTEM;
      const char *path = argv[++i];
      uint64_t mask = notify_mode ? FAN_OPEN_EXEC | FAN_OPEN : FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM;
      if (fanotify_mark(fan_fd, FAN_MARK_ADD | how, mask, AT_FDCWD, path) != 0) {
        fprintf(stderr, "fanotify_mark %s: %s\n", path, strerror(errno));
        return 4;
      }
      marks++;
    } else
      usage();
  }
  if (!marks) usage();
  if (timeout_ms < 1) timeout_ms = 1;
  fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
  fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
  emit("READY %d%s", getpid(), use_crypto ? " libcrypto" : " portable");

  char inbuf[8192];
  size_t inlen = 0;
  char evbuf[64 * 1024] __attribute__((aligned(8)));
  for (;;) {
    int wait = -1;
    if (npending) {
      int64_t soonest = pending[0].deadline_ms;
      for (int i = 1; i < npending; i++)
        if (pending[i].deadline_ms < soonest) soonest = pending[i].deadline_ms;
      int64_t d = soonest - now_ms();
      wait = d < 0 ? 0 : (int)d;
    }
    struct pollfd pf[2] = {{.fd = fan_fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
    int r = poll(pf, 2, wait);
    if (r < 0 && errno != EINTR) return 5;
    if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, inbuf + inlen, sizeof inbuf - 1 - inlen);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return 0; /* agent gone */
      if (n > 0) {
        inlen += (size_t)n;
        char *start = inbuf, *nl;
        while ((nl = memchr(start, '\n', inlen - (size_t)(start - inbuf)))) {
          *nl = 0;
          command(start);
          start = nl + 1;
        }
        inlen -= (size_t)(start - inbuf);
        memmove(inbuf, start, inlen);
        if (inlen == sizeof inbuf - 1) inlen = 0; /* garbage without newline: drop it */
      }
    }
    if (pf[0].revents & POLLIN) {
      for (;;) {
        ssize_t n = read(fan_fd, evbuf, sizeof evbuf);
        if (n <= 0) break;
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)evbuf;
        while (FAN_EVENT_OK(m, n)) {
          if (m->vers == FANOTIFY_METADATA_VERSION) handle_event(m);
          else if (m->fd >= 0) respond(m->fd, 1); /* unknown layout: never leave it pending */
          m = FAN_EVENT_NEXT(m, n);
        }
      }
    }
    expire();
    if (getppid() != parent) return 0;
  }
}
