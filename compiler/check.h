/*
 * check.h - semantic checks of a parsed program.
 *
 * check_program() resolves every name the parser left as text (action kinds,
 * verbs, backends, windows, functions, alert fields, notification kinds,
 * day names), reports every semantic error and warning through p->diag, and
 * fills the fields ast.h marks "check:". It never stops at the first problem.
 *
 * Codegen may run only on a program for which parsing and checking reported
 * no error.
 */
#ifndef HEALER_CHECK_H
#define HEALER_CHECK_H

#include "../dsl/ast.h"

/* Returns the number of errors reported (warnings are not counted here;
 * diag counts them, and -Werror turns them into errors there). */
unsigned check_program(struct program *p);

#endif
