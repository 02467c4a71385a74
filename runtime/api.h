/*
 * api.h - the compiled rules as a document: JSON for GET /api/v1/rules,
 * text for `healer --list-rules`.
 *
 * Both are built from the const tables alone (expressions are shown in the
 * rule language's syntax) and never contain a secret: backend fields are
 * shown as where they come from (env/file name), never their values.
 */
#ifndef HEALER_API_H
#define HEALER_API_H

#include <stdio.h>

#include "abi.h"
#include "buf.h"

/* {"generator":..., "digest":..., "rules":[{...}, ...]} */
void api_rules_json(const struct hl_ruleset *rs, struct buf *out);

/* One block per rule, for humans. */
void api_rules_text(const struct hl_ruleset *rs, FILE *out);

#endif
