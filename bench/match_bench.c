/*
 * match_bench.c - the cost of matching one alert against the rules built
 * in, for callgrind: decodes a payload of alerts (one per rule's alert
 * name, each meant to match) once, then runs lookup + matchers + first
 * match for every alert in bench_match_loop(), the only function counted
 * (valgrind --tool=callgrind --toggle-collect=bench_match_loop).
 *
 *   match_bench PAYLOAD.json ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "abi.h"
#include "bump.h"
#include "decode.h"
#include "match.h"

static size_t bench_match_loop(const struct rules *r, const struct payload *p,
                               struct match_md *md, int rounds) __attribute__((noinline));

static size_t bench_match_loop(const struct rules *r, const struct payload *p,
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
  if (argc != 3) {
    fprintf(stderr, "usage: match_bench PAYLOAD.json ROUNDS\n");
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
  size_t matched = bench_match_loop(&r, &p, md, rounds);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
              ((double)p.nalerts * rounds);
  printf("rules %u alerts %zu rounds %d matched %zu: %.0f ns per alert (wall)\n",
         hl_ruleset.nrules, p.nalerts, rounds, matched, ns);
  match_md_free(md);
  match_free(&r);
  bump_free(&arena);
  return 0;
}
