/*
 * cmd_build.c - `healerc check` and `healerc compile`.
 *
 * compile writes its output through a temporary file in OUT's directory,
 * renamed into place only when complete, so a failed run never leaves a
 * partial file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "codegen.h"

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

/* check and compile: the same options, compile also -o. */
static int build(int argc, char **argv, int compile) {
  const char *out = NULL;
  struct cli_diag_opts o;
  cli_diag_defaults(&o);
  char **files = calloc((size_t)argc, sizeof *files);
  uint32_t nfiles = 0;
  if (!files)
    return EXIT_USAGE;
  int status = EXIT_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int took = cli_diag_option(argc, argv, &i, &o);
    if (took < 0)
      goto done;
    if (took)
      continue;
    if (strcmp(a, "-o") == 0) {
      if (++i == argc) {
        status = cli_usage_error("%s", "-o needs a file name");
        goto done;
      }
      out = argv[i];
    } else if (a[0] == '-' && a[1] != '\0') {
      status = cli_usage_error("unknown option '%s'", a);
      goto done;
    } else {
      files[nfiles++] = argv[i];
    }
  }
  if (nfiles == 0) {
    status = cli_usage_error("%s", "no input files");
    goto done;
  }
  if (compile && !out) {
    status = cli_usage_error("%s", "compile needs -o OUT.c");
    goto done;
  }
  if (!compile && out) {
    status = cli_usage_error("%s", "-o is for 'compile'; 'check' writes nothing");
    goto done;
  }
  if (o.format != DIAG_TEXT && out && strcmp(out, "-") == 0) {
    status = cli_usage_error("%s", "--format json or sarif writes to stdout; "
                                   "give -o a file");
    goto done;
  }

  struct cli_rules r;
  status = cli_load(&r, files, nfiles, &o);
  if (status == EXIT_OK && compile && write_output(&r.p, out) != 0)
    status = EXIT_USAGE;
  cli_rules_free(&r);
done:
  free(files);
  return status;
}

int cmd_check(int argc, char **argv) { return build(argc, argv, 0); }
int cmd_compile(int argc, char **argv) { return build(argc, argv, 1); }
