/*
 * match_bench.c - the cost of matching one alert against the rules built
 * in, for callgrind: decodes a payload of alerts (one per rule's alert
 * name, each meant to match) once, then runs lookup + matchers + first
 * match for every alert in bench_match_loop(), the only function counted
 * (valgrind --tool=callgrind --toggle-collect=bench_match_loop).
 *
 * bench_match_loop() walks the rules as the engine does (match_iter: the
 * exact name's index entry merged with the alert-name patterns);
 * bench_index_loop(), run with a third argument "index", walks only the
 * index entry, as the engine did before patterns: the baseline, in the same
 * binary and the same run.
 *
 *   match_bench PAYLOAD.json ROUNDS [index]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"
#include "bump.h"
#include "decode.h"
#include "match.h"

static size_t bench_match_loop(const struct rules *r, const struct payload *p,
                               struct match_md *md, int rounds) __attribute__((noinline));

static size_t bench_index_loop(const struct rules *r, const struct payload *p,
                               struct match_md *md, int rounds) __attribute__((noinline));

static size_t bench_match_loop(const struct rules *r, const struct payload *p,
                               struct match_md *md, int rounds) {
  size_t matched = 0;
  for (int k = 0; k < rounds; k++)
    for (size_t i = 0; i < p->nalerts; i++) {
      const struct alert *a = &p->alerts[i];
      struct match_iter it;
      match_iter_init(&it, r, a->alertname, md);
      for (uint32_t ri; (ri = match_iter_next(&it)) != HL_NONE;) {
        if (it.error == HL_NONE && match_rule(r, ri, a, 1795000000000, md, NULL) == MATCH_OK) {
          matched++;
          if (!(r->rs->rules[ri].flags & HL_RULE_CONTINUE)) break;
        }
      }
    }
  return matched;
}

static size_t bench_index_loop(const struct rules *r, const struct payload *p,
                               struct match_md *md, int rounds) {
  size_t matched = 0;
  for (int k = 0; k < rounds; k++)
    for (size_t i = 0; i < p->nalerts; i++) {
      const struct alert *a = &p->alerts[i];
      const struct hl_index_entry *e = match_lookup(r, a->alertname);
      for (uint32_t j = 0; e && j < e->count; j++) {
        uint32_t ri = r->rs->index_rules[e->first + j];
        if (match_rule(r, ri, a, 1795000000000, md, NULL) == MATCH_OK) {
          matched++;
          if (!(r->rs->rules[ri].flags & HL_RULE_CONTINUE)) break;
        }
      }
    }
  return matched;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: match_bench PAYLOAD.json ROUNDS [index]\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 1;
  static char body[64 << 20];
  size_t len = fread(body, 1, sizeof body, f);
  fclose(f);
  struct bump arena;
  bump_init(&arena, 0);
  struct payload p;
  char err[DECODE_ERR_MAX];
  if (decode_payload(body, len, &arena, &p, err) < 0) {
    fprintf(stderr, "payload: %s\n", err);
    return 1;
  }
  struct rules r;
  char e2[256];
  if (match_init(&r, &hl_ruleset, e2, sizeof e2) < 0) {
    fprintf(stderr, "%s\n", e2);
    return 1;
  }
  struct match_md *md = match_md_new();
  int rounds = atoi(argv[2]);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  bool index_only = argc == 4 && strcmp(argv[3], "index") == 0;
  size_t matched = index_only ? bench_index_loop(&r, &p, md, rounds)
                              : bench_match_loop(&r, &p, md, rounds);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
              ((double)p.nalerts * rounds);
  printf("%s: rules %u alerts %zu rounds %d matched %zu: %.0f ns per alert (wall)\n",
         index_only ? "index only (before patterns)" : "match_iter", hl_ruleset.nrules,
         p.nalerts, rounds, matched, ns);
  match_md_free(md);
  match_free(&r);
  bump_free(&arena);
  return 0;
}
