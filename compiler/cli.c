/*
 * cli.c - what healerc's commands share (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define MAX_SOURCE_BYTES (64u << 20) /* a rule file larger than this is a mistake */
#define DEFAULT_MAX_ERRORS 50u

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("healerc: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n(see 'healerc --help')\n", stderr);
  va_end(ap);
  return EXIT_USAGE;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name,
                          int *missing) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0)
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (a[n] != '\0')
    return NULL;
  if (*i + 1 == argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

void cli_diag_defaults(struct cli_diag_opts *o) {
  o->werror = 0;
  o->max_errors = DEFAULT_MAX_ERRORS;
  o->format = DIAG_TEXT;
  o->color = -1;
}

int cli_diag_option(int argc, char **argv, int *i, struct cli_diag_opts *o) {
  const char *a = argv[*i], *v;
  int missing = 0;
  if ((v = cli_opt_value(argc, argv, i, "--color", &missing)) || missing) {
    if (v && strcmp(v, "auto") == 0) {
      o->color = -1;
    } else if (v && strcmp(v, "always") == 0) {
      o->color = 1;
    } else if (v && strcmp(v, "never") == 0) {
      o->color = 0;
    } else {
      cli_usage_error("--color takes auto, always or never%s%s%s",
                      v ? ", not '" : "", v ? v : "", v ? "'" : "");
      return -1;
    }
    return 1;
  }
  if ((v = cli_opt_value(argc, argv, i, "--format", &missing)) || missing) {
    if (v && strcmp(v, "text") == 0) {
      o->format = DIAG_TEXT;
    } else if (v && strcmp(v, "json") == 0) {
      o->format = DIAG_JSON;
    } else if (v && strcmp(v, "sarif") == 0) {
      o->format = DIAG_SARIF;
    } else {
      cli_usage_error("--format takes text, json or sarif%s%s%s",
                      v ? ", not '" : "", v ? v : "", v ? "'" : "");
      return -1;
    }
    return 1;
  }
  if (strcmp(a, "-Werror") == 0) {
    o->werror = 1;
    return 1;
  }
  if (strcmp(a, "--max-errors") == 0) {
    char *end = NULL;
    if (++*i == argc || (o->max_errors = (unsigned)strtoul(argv[*i], &end, 10),
                         *argv[*i] == '\0' || *end != '\0')) {
      cli_usage_error("%s", "--max-errors needs a number");
      return -1;
    }
    return 1;
  }
  return 0;
}

int cli_read_file(struct arena *a, const char *path, struct source *src) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (!buf)
    goto fail;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_SOURCE_BYTES) {
        errno = EFBIG;
        goto fail;
      }
      char *bigger = realloc(buf, cap * 2);
      if (!bigger)
        goto fail;
      buf = bigger;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f))
        goto fail;
      break;
    }
  }
  if (len > MAX_SOURCE_BYTES) {
    errno = EFBIG;
    goto fail;
  }
  fclose(f);
  src->path = path;
  src->text = arena_strndup(a, buf, len);
  src->len = len;
  free(buf);
  return 0;
fail: {
  int saved = errno ? errno : EIO;
  free(buf);
  fclose(f);
  errno = saved;
  return -1;
}
}

/* --color=auto: a terminal, and no NO_COLOR of any value but empty
 * (https://no-color.org). */
static int auto_color(void) {
  const char *nc = getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(nc && *nc);
}

int cli_load(struct cli_rules *r, char *const *files, uint32_t nfiles,
             const struct cli_diag_opts *o) {
  struct program *p = &r->p;
  struct diag *d = &r->d;
  program_init(p, d);
  p->sources = arena_alloc(&p->arena, nfiles * sizeof *p->sources);
  diag_init(d, o->format == DIAG_TEXT ? stderr : stdout, p->sources,
            &p->nsources);
  d->werror = o->werror;
  d->max_errors = o->max_errors;
  d->ordered = 1; /* print in source order, whichever pass found it */
  d->format = o->format;
  d->color = o->format == DIAG_TEXT && (o->color < 0 ? auto_color() : o->color);
  d->tool_version = HEALER_VERSION;

  int io_failed = 0;
  for (uint32_t i = 0; i < nfiles; i++) {
    if (cli_read_file(&p->arena, files[i], &p->sources[p->nsources]) != 0) {
      fprintf(stderr, "healerc: error: cannot read '%s': %s\n", files[i],
              errno == EFBIG ? "file is larger than 64 MiB"
                             : strerror(errno));
      io_failed = 1;
      continue;
    }
    p->nsources++;
  }
  if (io_failed)
    return EXIT_USAGE;
  for (uint32_t i = 0; i < p->nsources; i++)
    parse_source(p, i);
  check_program(p);
  return diag_finish(d) > 0 ? EXIT_RULES : EXIT_OK;
}

void cli_rules_free(struct cli_rules *r) { program_free(&r->p); }
