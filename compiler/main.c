/*
 * main.c - the healerc command line.
 *
 *   healerc check [options] FILE...
 *   healerc compile [options] FILE... -o OUT.c
 *
 * Exit status: 0 when the rules are fine, 1 when they have errors (or
 * warnings under -Werror), 2 for a usage or I/O problem. Diagnostics go to
 * stderr as text (coloured on a terminal, --color), or to stdout as JSON
 * Lines or one SARIF log (--format). compile writes its
 * output through a temporary file in OUT's directory, renamed into place
 * only when complete, so a failed run never leaves a partial file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dsl/ast.h"
#include "check.h"
#include "codegen.h"
#include "diag.h"

#define MAX_SOURCE_BYTES (64u << 20) /* a rule file larger than this is a mistake */
#define DEFAULT_MAX_ERRORS 50u

enum { EXIT_RULES = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: healerc check [options] FILE...\n"
    "       healerc compile [options] FILE... -o OUT.c\n"
    "       healerc --help | --version\n"
    "\n"
    "Checks .heal rule files and compiles them into the C tables that the\n"
    "healer runtime links.\n"
    "\n"
    "commands:\n"
    "  check            report every error and warning in FILEs; write nothing\n"
    "  compile          check, then write the tables to OUT.c ('-' for stdout)\n"
    "\n"
    "options:\n"
    "  -o OUT.c         output file of compile; written atomically\n"
    "  -Werror          treat warnings as errors\n"
    "  --max-errors N   stop printing after N errors (default 50, 0: no limit;\n"
    "                   text format only)\n"
    "  --color=WHEN     colour the text diagnostics: auto (default: when stderr\n"
    "                   is a terminal and NO_COLOR is unset or empty), always,\n"
    "                   never\n"
    "  --format=FORMAT  text (default: on stderr), json (one JSON object per\n"
    "                   diagnostic per line, on stdout) or sarif (one SARIF\n"
    "                   2.1.0 log, on stdout)\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n"
    "\n"
    "exit status:\n"
    "  0  no errors (warnings allowed, unless -Werror)\n"
    "  1  errors in the rules (or warnings under -Werror)\n"
    "  2  usage error, or a file that cannot be read or written\n"
    "\n"
    "environment: NO_COLOR (set and not empty: no colour under --color=auto)\n"
    "language reference: dsl/LANGUAGE.md, healer-rules(5)\n";

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("healerc: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n(see 'healerc --help')\n", stderr);
  va_end(ap);
  return EXIT_USAGE;
}

/* Reads path whole into an arena-owned, NUL-terminated buffer. Returns 0, or
 * -1 with errno set (EFBIG when the file is over MAX_SOURCE_BYTES). */
static int read_source(struct arena *a, const char *path, struct source *src) {
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

/* Writes the tables to path through a temporary file renamed into place.
 * Returns 0, or -1 after printing why. */
static int write_output(const struct program *p, const char *path) {
  if (strcmp(path, "-") == 0) {
    if (codegen_emit(p, stdout) != 0 || fflush(stdout) != 0) {
      fprintf(stderr, "healerc: error: cannot write to stdout: %s\n",
              strerror(errno));
      return -1;
    }
    return 0;
  }
  size_t n = strlen(path);
  char *tmp = malloc(n + sizeof ".tmp.XXXXXX");
  if (!tmp) {
    fprintf(stderr, "healerc: error: out of memory\n");
    return -1;
  }
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
  FILE *f = NULL;
  int fd = mkstemp(tmp);
  if (fd < 0)
    goto fail;
  /* mkstemp creates the file 0600; give the output the mode any new file
   * of this user gets, as a plain fopen would. */
  mode_t mask = umask(0);
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) != 0) {
    close(fd);
    goto fail_unlink;
  }
  f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    goto fail_unlink;
  }
  if (codegen_emit(p, f) != 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
    goto fail_unlink;
  if (fclose(f) != 0) {
    f = NULL;
    goto fail_unlink;
  }
  f = NULL;
  if (rename(tmp, path) != 0)
    goto fail_unlink;
  free(tmp);
  return 0;

fail_unlink: {
  int saved = errno;
  if (f)
    fclose(f);
  unlink(tmp);
  errno = saved;
}
fail:
  fprintf(stderr, "healerc: error: cannot write '%s': %s\n", path,
          strerror(errno));
  free(tmp);
  return -1;
}

/* The value of "--name=VALUE" or "--name VALUE" at argv[*i] (advancing *i
 * past a separate value), or NULL when argv[*i] is not --name or the value
 * is missing (then *missing is set). */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
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

/* --color=auto: a terminal, and no NO_COLOR of any value but empty
 * (https://no-color.org). */
static int auto_color(void) {
  const char *nc = getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(nc && *nc);
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage_error("%s", "no command given");
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("healerc %s (table ABI %d)\n", HEALER_VERSION, HL_ABI_VERSION);
    return 0;
  }
  int compile = strcmp(cmd, "compile") == 0;
  if (!compile && strcmp(cmd, "check") != 0)
    return usage_error("unknown command '%s'; expected 'check' or 'compile'",
                       cmd);

  const char *out = NULL;
  int werror = 0;
  unsigned max_errors = DEFAULT_MAX_ERRORS;
  enum diag_format format = DIAG_TEXT;
  int color = -1; /* auto */
  char **files = calloc((size_t)argc, sizeof *files);
  uint32_t nfiles = 0;
  if (!files)
    return EXIT_USAGE;
  int status = EXIT_USAGE;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v;
    int missing = 0;
    if ((v = opt_value(argc, argv, &i, "--color", &missing)) || missing) {
      if (v && strcmp(v, "auto") == 0) {
        color = -1;
      } else if (v && strcmp(v, "always") == 0) {
        color = 1;
      } else if (v && strcmp(v, "never") == 0) {
        color = 0;
      } else {
        status = usage_error("--color takes auto, always or never%s%s%s",
                             v ? ", not '" : "", v ? v : "", v ? "'" : "");
        goto done;
      }
    } else if ((v = opt_value(argc, argv, &i, "--format", &missing)) ||
               missing) {
      if (v && strcmp(v, "text") == 0) {
        format = DIAG_TEXT;
      } else if (v && strcmp(v, "json") == 0) {
        format = DIAG_JSON;
      } else if (v && strcmp(v, "sarif") == 0) {
        format = DIAG_SARIF;
      } else {
        status = usage_error("--format takes text, json or sarif%s%s%s",
                             v ? ", not '" : "", v ? v : "", v ? "'" : "");
        goto done;
      }
    } else if (strcmp(a, "-o") == 0) {
      if (++i == argc) {
        status = usage_error("%s", "-o needs a file name");
        goto done;
      }
      out = argv[i];
    } else if (strcmp(a, "-Werror") == 0) {
      werror = 1;
    } else if (strcmp(a, "--max-errors") == 0) {
      char *end = NULL;
      if (++i == argc || (max_errors = (unsigned)strtoul(argv[i], &end, 10),
                          *argv[i] == '\0' || *end != '\0')) {
        status = usage_error("%s", "--max-errors needs a number");
        goto done;
      }
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      status = 0;
      goto done;
    } else if (a[0] == '-' && a[1] != '\0') {
      status = usage_error("unknown option '%s'", a);
      goto done;
    } else {
      files[nfiles++] = argv[i];
    }
  }
  if (nfiles == 0) {
    status = usage_error("%s", "no input files");
    goto done;
  }
  if (compile && !out) {
    status = usage_error("%s", "compile needs -o OUT.c");
    goto done;
  }
  if (!compile && out) {
    status = usage_error("%s", "-o is for 'compile'; 'check' writes nothing");
    goto done;
  }
  if (format != DIAG_TEXT && out && strcmp(out, "-") == 0) {
    status = usage_error("%s", "--format json or sarif writes to stdout; "
                               "give -o a file");
    goto done;
  }

  struct diag d;
  struct program p;
  program_init(&p, &d);
  p.sources = arena_alloc(&p.arena, nfiles * sizeof *p.sources);
  diag_init(&d, format == DIAG_TEXT ? stderr : stdout, p.sources,
            &p.nsources);
  d.werror = werror;
  d.max_errors = max_errors;
  d.ordered = 1; /* print in source order, whichever pass found it */
  d.format = format;
  d.color = format == DIAG_TEXT && (color < 0 ? auto_color() : color);
  d.tool_version = HEALER_VERSION;

  int io_failed = 0;
  for (uint32_t i = 0; i < nfiles; i++) {
    if (read_source(&p.arena, files[i], &p.sources[p.nsources]) != 0) {
      fprintf(stderr, "healerc: error: cannot read '%s': %s\n", files[i],
              errno == EFBIG ? "file is larger than 64 MiB"
                             : strerror(errno));
      io_failed = 1;
      continue;
    }
    p.nsources++;
  }
  if (io_failed) {
    status = EXIT_USAGE;
    goto free_program;
  }

  for (uint32_t i = 0; i < p.nsources; i++)
    parse_source(&p, i);
  check_program(&p);
  unsigned errors = diag_finish(&d);
  if (errors > 0) {
    status = EXIT_RULES;
    goto free_program;
  }
  status = 0;
  if (compile && write_output(&p, out) != 0)
    status = EXIT_USAGE;

free_program:
  program_free(&p);
done:
  free(files);
  return status;
}
