/*
 * fuzz_journal.c - libFuzzer target: arbitrary bytes as DIR/journal.log,
 * opened as healer opens it at start-up (the fixture rules), first as
 * found and then with --journal-recover. What must hold for any input:
 *
 *   - a start that is refused leaves the file exactly as it was found,
 *     with a message;
 *   - --journal-recover always starts (only memory could stop it);
 *   - whatever a start accepted, replayed and closed opens again at once
 *     without a byte cut or a record lost, with the same remediations in
 *     flight: a second start finds what the first one left.
 *
 * Each input is tried as it is and then with the checksum of every framed
 * line made right, so that mutations of the records' JSON reach the code
 * that reads them instead of stopping at the checksum.
 *
 *   make fuzz-journal [FUZZ_SECONDS=60]
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "journal.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((int64_t)1795000000000)   /* 2026-11-18T11:06:40Z */

static char dir[64], path[128];

static void setup(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);   /* the warnings of each cut: not here */
  snprintf(dir, sizeof dir, "/tmp/healer-fuzz-journal-XXXXXX");
  if (!mkdtemp(dir)) abort();
  snprintf(path, sizeof path, "%s/%s", dir, JOURNAL_FILE);
}

static void put(const uint8_t *data, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) abort();
  close(fd);
}

static uint8_t *get(size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) abort();
  uint8_t *b = NULL;
  size_t cap = 0;
  *n = 0;
  for (;;) {
    if (*n == cap && !(b = realloc(b, cap = cap * 2 + 4096))) abort();
    size_t r = fread(b + *n, 1, cap - *n, f);
    if (!r) break;
    *n += r;
  }
  fclose(f);
  return b;
}

/* Removes what --journal-recover kept beside the journal. */
static void drop_copies(void) {
  DIR *d = opendir(dir);
  if (!d) abort();
  struct dirent *e;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, JOURNAL_FILE ".damaged-", sizeof JOURNAL_FILE ".damaged-" - 1))
      unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
}

static struct journal_config config(bool recover) {
  struct journal_config c;
  memset(&c, 0, sizeof c);
  c.dir = dir;
  c.rs = &hl_ruleset;
  c.dedupe_ttl_ms = 24 * 3600 * 1000;
  c.dedupe_max = 1000;
  c.history = 50;
  c.no_fsync = true;
  c.recover = recover;
  return c;
}

static int count_rem(void *ctx, const struct journal_rem *r) {
  (void)r;
  ++*(size_t *)ctx;
  return 0;
}

/* Opens the file, replays and closes it: 0 and the remediations in
 * flight in *inflight, or -1 (refused, err says why). */
static int start(bool recover, struct journal_open_info *info, size_t *inflight, char *err,
                 size_t errlen) {
  struct journal_config c = config(recover);
  struct journal *j = NULL;
  err[0] = '\0';
  if (journal_open(&j, &c, NOW, info, err, errlen) < 0) return -1;
  struct journal_visitor v = {NULL, NULL, count_rem, NULL, NULL};
  *inflight = 0;
  if (journal_replay(j, &v, inflight) < 0) abort();
  journal_close(j);
  return 0;
}

/* A second start right after a first one: nothing cut, nothing lost. */
static void again(size_t inflight) {
  struct journal_open_info info;
  size_t n;
  char err[1024];
  if (start(false, &info, &n, err, sizeof err) < 0) {
    fprintf(stderr, "a journal healer left behind does not open: %s\n", err);
    abort();
  }
  if (info.torn_bytes || info.lost_records || n != inflight) {
    fprintf(stderr, "second start: %llu bytes cut, %llu records lost, %zu in flight (was %zu)\n",
            (unsigned long long)info.torn_bytes, (unsigned long long)info.lost_records, n,
            inflight);
    abort();
  }
}

/* A copy of data[0..size) with every framed line's checksum right. */
static uint8_t *reframe(const uint8_t *data, size_t size) {
  uint8_t *b = malloc(size + 1);
  if (!b) abort();
  memcpy(b, data, size);
  for (size_t off = 0; off < size;) {
    uint8_t *nl = memchr(b + off, '\n', size - off);
    size_t len = nl ? (size_t)(nl - (b + off)) : size - off;
    if (nl && len >= 10 && b[off + 8] == ' ') {
      char hex[9];
      snprintf(hex, sizeof hex, "%08x", (unsigned)journal_crc32c(0, b + off + 9, len - 9));
      memcpy(b + off, hex, 8);
    }
    off += len + 1;
  }
  return b;
}

static void one(const uint8_t *data, size_t size) {
  struct journal_open_info info;
  size_t inflight, n;
  char err[1024];

  put(data, size);
  if (start(false, &info, &inflight, err, sizeof err) == 0) {
    again(inflight);
  } else {
    uint8_t *now = get(&n);
    if (!err[0] || n != size || (size && memcmp(now, data, size))) {
      fprintf(stderr, "a refused start changed the file or gave no reason (%s)\n", err);
      abort();
    }
    free(now);
  }

  put(data, size);
  if (start(true, &info, &inflight, err, sizeof err) < 0) {
    fprintf(stderr, "--journal-recover did not start: %s\n", err);
    abort();
  }
  again(inflight);
  drop_copies();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) setup();
  one(data, size);
  uint8_t *fixed = reframe(data, size);
  if (size && memcmp(fixed, data, size)) one(fixed, size);
  free(fixed);
  return 0;
}
