/*
 * journal.h - the write-ahead journal: nothing accepted is lost by a crash
 * or a restart.
 *
 * One append-only file, DIR/journal.log (--state-dir DIR). Every accepted
 * remediation is one record, every state change another; they are made
 * durable (write + fdatasync) before the webhook that caused them is
 * answered 202. On start-up the file is replayed into the live state:
 * in-flight remediations (to re-queue or resume), dedupe keys and cooldown
 * deadlines, and the history: the newest finished remediations (at most
 * cfg.history), for the API to list. When the file outgrows its threshold it is compacted: a
 * snapshot of the live state is written to a new file that replaces the old
 * one atomically (write, fsync, rename, fsync the directory).
 *
 * File format (version 1). One record per line:
 *
 *     <crc> SP <json> LF
 *
 * crc is the CRC-32C of the json bytes as 8 lowercase hex digits; json is
 * one object without raw control characters, so it holds no LF. The first
 * record of a file is the header:
 *
 *     {"t":"hdr","v":1,"digest":"<rules digest>","next_id":N,"at":MS,"grp":1}
 *
 * then, in any number:
 *
 *     {"t":"acc","id":N,"rule":I,"rule_name":..,"alertname":..,"fp":..,
 *      "starts_at":..,"status":"firing","dry":0,"reason":..,"created":MS,
 *      "cooldown_key":..,"cooldown_until":MS,"limit_key":..,
 *      "steps":[{"kind":K,"kind_name":"jenkins","backend":"ci",
 *                "target":"infra/Job","params":[["name","value"],...]}]}
 *                                        an accepted remediation
 *     {"t":"st","id":N,"state":"running","reason":..,"at":MS,
 *      "step":S,"token":..,"started":MS,"cd_release":true,"forget":true}
 *                                        a state change (step, token,
 *                                        started, cd_release and forget
 *                                        optional)
 *     {"t":"abort","id":N}               an accept undone (the queue refused)
 *     {"t":"ids","next_id":N}            ids below N are taken (see "Ids")
 *     {"t":"fin","id":N,...as "acc"...,"state":"skipped","reason":..,
 *      "updated":MS}                     a finished remediation, whole (see
 *                                        "History"; no cooldown or limit key)
 *     {"t":"dd",...}  {"t":"cd",...}     a dedupe sighting, a cooldown (in
 *                                        snapshots; dd also when an alert is
 *                                        seen again)
 *     {"t":"ctl","k":KEY,"v":VALUE}      a control value set (no "v": the
 *                                        key is forgotten), see "Controls"
 *     {"t":"grp","len":N}                a group commit begins: the next N
 *                                        bytes were written with this record
 *                                        in one write (see "Torn and
 *                                        damaged"); not counted in records
 *
 * Times are ms since the epoch. Strings are the exact bytes (only '"', '\'
 * and control characters are escaped). A record whose line is incomplete or
 * whose checksum fails is bad.
 *
 * Torn and damaged: every write that appends to the file (a group commit,
 * a re-probe, the records of a snapshot after its header) begins with a
 * "grp" marker naming its length, and the header says "grp":1. A crash
 * mid-write leaves a prefix of the last write, or on some file systems
 * part of it zero-filled, so only that may be called torn and cut off with
 * a warning: bad bytes at the end, with no good record after them, that
 * hold no complete record (no framed line whose checksum fails) and lie
 * within the extent the last marker declared, or begin exactly where the
 * last write ended (a marker torn). Anything else is damage to records
 * that were synced and maybe acknowledged: journal_open() fails naming
 * the file, the record (its line number, markers counted), the offset and
 * what is wrong, and leaves the file alone, unless cfg.recover
 * (--journal-recover) is set; then the bad records are skipped or cut,
 * counted and reported, the file is rewritten clean and the original kept
 * beside it as journal.log.damaged-<UTC time> (a hard link). A file whose
 * header lacks "grp" (an older healer's) has no markers: bad bytes at its
 * end are torn unless they hold a complete damaged record.
 *
 * Rules: records carry the rule's index and name; the header carries the
 * rules digest. Replayed under other rules (another digest), every entry is
 * re-bound by rule name. An in-flight remediation whose rule is gone or
 * whose steps changed (kind, target, backend, parameter names) is recorded
 * failed ("rules changed: ...") and not resumed; dedupe and cooldown
 * entries of vanished rules are dropped. Cooldown and limit keys that start
 * with the engine's "<rule index>\x1f" scope are re-scoped to the new index.
 * The file is then compacted under the new digest.
 *
 * Ids: a remediation id is shown (logged, listed by the API) whether or
 * not its remediation is journaled (a skipped one never is), so the next
 * id cannot be derived from the journaled ones alone. Ids are reserved in
 * blocks of JOURNAL_ID_BLOCK by "ids" records naming the end of the
 * reservation, and an id is used only once the record that reserves it is
 * on disk (journal_reserve_id()). Replay starts after the highest
 * reservation (the header's next_id carries it across compactions), so
 * after a restart new ids begin at a multiple of JOURNAL_ID_BLOCK and no
 * id is ever reused. A journal without "ids" records (older healers)
 * replays as before.
 *
 * History: a remediation whose state record is final leaves flight and
 * joins the history, the newest cfg.history finished remediations by id
 * (older ones are dropped, at replay too, so a file of any length replays
 * into at most that many). A remediation that finishes without ever being
 * in flight (skipped: cooldown, limit, budget, missing label) is appended
 * whole as a "fin" record by journal_append_finished(), unsynced. A
 * snapshot writes the history as "fin" records. The history has no part in
 * dedupe, cooldowns or ids; it is only handed back (visitor.finished) for
 * the API's list. A journal written before "fin" records existed replays
 * as before, its final "st" records giving the history; an older healer
 * cannot read a journal that holds a "fin" record (--journal-recover skips
 * them). Replayed under other rules, an entry keeps its own names: its
 * rule index becomes HL_NONE if the rule is gone, its kinds are re-bound by
 * name.
 *
 * Controls: small named values that must outlive a restart but belong to
 * no remediation: the pause switch, a rule's breaker. The owner (the
 * runtime's safety switches) gives each a key and a value (its own text,
 * usually JSON); the journal keeps the latest per key, writes them into
 * snapshots and hands them back first on replay. It never interprets them.
 *
 * Resume tokens: each step of a remediation may carry one opaque string the
 * action kind sets once its trigger is confirmed (e.g. the Jenkins queue
 * item URL, later the build URL). The journal stores the latest per step
 * and hands it back on replay; it never interprets it.
 *
 * Durability and group commit: appends only serialize into memory and
 * return an LSN (a position in the stream of records); journal_sync(lsn)
 * writes and fdatasyncs everything appended so far. Concurrent callers share
 * one fdatasync: the first becomes the leader, the others wait for it (and
 * the next leader takes whatever arrived meanwhile). An I/O error is sticky
 * until journal_tick()'s re-probe writes everything pending again from
 * memory (the page cache can no longer be trusted): meanwhile every sync
 * fails, and so does every append but state changes and finished
 * records, which are kept in memory for the re-probe (a remediation
 * already accepted goes on, and what happens to it must not be lost);
 * the error is logged once; webhooks get 503.
 *
 * Compaction (journal_tick() when due, or journal_compact()): the live state
 * is serialized under the lock (the snapshot's boundary), written to
 * DIR/journal.log.tmp and synced without it while appends and syncs go on
 * in the old file, then, under the lock again, the batches written since
 * the boundary are copied to the new file, which is synced and renamed
 * over the old one, and the directory is synced. A crash at any point
 * leaves either the old file or the new one, complete; a leftover .tmp is
 * removed at open.
 *
 * Threads: every function but journal_open(), journal_replay() and
 * journal_close() may be called from any thread. One mutex guards the
 * in-memory state; it is held to copy bytes and update the mirror, and
 * during the two short steps of a compaction, never across a write or
 * fsync of the journal itself. Lock order: callers may hold their own locks
 * (decide, store) while appending; the journal calls nothing that locks.
 *
 * Ownership: journal_open() returns a journal the caller frees with
 * journal_close(). Every input is borrowed for the duration of the call
 * (the ruleset for the journal's lifetime). Records handed to journal_replay()
 * callbacks are borrowed for the duration of the callback.
 */
#ifndef HEALER_JOURNAL_H
#define HEALER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "rem.h"

struct hist;

#define JOURNAL_FILE "journal.log"
#define JOURNAL_VERSION 1
#define JOURNAL_TOKEN_MAX 2048      /* longest resume token kept */
#define JOURNAL_LSN_ALL UINT64_MAX  /* journal_sync(): all appended so far */
#define JOURNAL_COMPACT_DEFAULT ((uint64_t)16 << 20)
#define JOURNAL_ID_BLOCK 1024       /* ids reserved per "ids" record */
#define JOURNAL_WHY_MAX 256         /* journal_failure()'s message, at most */
#define JOURNAL_CTL_KEY_MAX 512     /* a control key, at most */
#define JOURNAL_CTL_VALUE_MAX 8192  /* a control value, at most */

struct journal;                     /* opaque */

struct journal_config {
  const char *dir;                  /* --state-dir; created if missing */
  const struct hl_ruleset *rs;      /* borrowed for the journal's life */
  bool recover;                     /* --journal-recover: skip corrupt records */
  bool no_fsync;                    /* write but never fdatasync: benchmarks
                                       and tests only, never in production */
  uint64_t compact_bytes;           /* compact once the file is larger than
                                       max(this, 2 x the last snapshot);
                                       0: JOURNAL_COMPACT_DEFAULT */
  int64_t dedupe_ttl_ms;            /* as decide: a key not seen for this
                                       long is forgotten (0: 24h) */
  size_t dedupe_max;                /* at most this many finished dedupe keys
                                       are kept (0: unlimited) */
  size_t history;                   /* --history: the newest this many
                                       finished remediations are kept and
                                       replayed (0: none) */
  struct hist *commit_hist;         /* NULL, or where the time of each group
                                       commit (write + fdatasync) is
                                       observed; borrowed */
};

/* What journal_open() found, for the start-up log line and tests. */
struct journal_open_info {
  uint64_t records;                 /* good records replayed */
  uint64_t bytes;                   /* file size as found */
  uint64_t torn_bytes;              /* cut from a torn tail (0: none) */
  uint64_t torn_offset;             /* where the cut was */
  uint64_t lost_records;            /* skipped as corrupt (recover only) */
  char damaged_copy[64];            /* recover, records lost: the name in
                                       the state dir the damaged file is
                                       kept under */
  uint64_t failed;                  /* in flight, not resumable: recorded
                                       failed (rules changed) */
  bool created;                     /* no journal yet: a new one was made */
  bool rules_changed;               /* written under another rules digest */
  bool compacted;                   /* rewritten at open */
  uint64_t next_id;                 /* first free remediation id */
  size_t inflight;                  /* queued or running remediations */
  size_t dedupe;                    /* dedupe keys (in flight included) */
  size_t cooldowns;                 /* unexpired cooldowns */
  size_t history;                   /* finished remediations kept */
};

/* What journal_open() would refuse about dir, for --check-config, leaving
 * nothing behind: it (or, when it does not exist yet, its nearest existing
 * ancestor, where it would be created) must take a new file (probed with
 * one, removed at once), an existing journal must be readable and
 * writable, and its lock must not be held by another healer. Returns 0, or
 * -1 with a message in err naming --state-dir. */
int journal_check_dir(const char *dir, char *err, size_t errlen);

/* Opens (creating if needed) DIR/journal.log, locks DIR against a second
 * healer, replays the file into memory and rebinds it to cfg->rs. Returns 0,
 * or -1 with a message in err (corruption: file, offset, record number and
 * what is wrong; I/O: the path and errno text; a locked directory). */
int journal_open(struct journal **out, const struct journal_config *cfg,
                 int64_t now_ms, struct journal_open_info *info, char *err,
                 size_t errlen);

/* Flushes and syncs what is pending, unlocks the directory, frees j. NULL
 * is fine. */
void journal_close(struct journal *j);

/* ---- replay ----------------------------------------------------------------- */

struct journal_param {
  const char *name;
  const char *value;
};

struct journal_step {
  uint8_t kind;                     /* enum hl_action_kind (current tables) */
  const char *target;               /* NULL: none */
  const char *backend;              /* the backend's name; NULL: default */
  uint32_t nparams;
  const struct journal_param *params;
  const char *token;                /* resume token the kind set; NULL: none */
};

/* A remediation in flight when the journal was last written, or (for
 * visitor.finished) one of the history: then state is final, the keys,
 * tokens, started and last_seen are NULL or 0, and rule is HL_NONE when
 * the rule is no longer built in (rule_name still names it). */
struct journal_rem {
  uint64_t id;
  uint32_t rule;                    /* index into the current ruleset */
  const char *rule_name;
  const char *alertname;
  const char *fingerprint;
  const char *starts_at;
  uint8_t alert_status;             /* HL_STATUS_FIRING or _RESOLVED */
  uint8_t dry_run;                  /* enum rem_dry */
  uint32_t nsteps;
  const struct journal_step *steps;
  const char *cooldown_key;         /* NULL: none */
  int64_t cooldown_until_ms;        /* the cooldown it holds; 0: none */
  const char *limit_key;            /* NULL: none */
  int64_t created_ms;
  int64_t updated_ms;
  int64_t started_ms;               /* first went running; 0: never */
  int64_t last_seen_ms;             /* alert last seen (dedupe) */
  enum rem_state state;             /* REM_QUEUED or REM_RUNNING; final
                                       for a finished one */
  uint32_t step;                    /* RUNNING: the step it was in */
  const char *reason;
};

/* A dedupe key whose remediation has finished. */
struct journal_dedupe {
  uint32_t rule;
  const char *fingerprint;
  const char *starts_at;
  uint8_t alert_status;
  uint64_t id;                      /* the remediation it led to */
  int64_t created_ms;               /* when that was accepted (budgets) */
  int64_t last_seen_ms;
};

/* A cooldown not held by an in-flight remediation. */
struct journal_cooldown {
  uint32_t rule;
  const char *key;                  /* as the engine made it (re-scoped) */
  int64_t until_ms;
  uint64_t owner_id;
};

/* Callbacks return 0 to go on, anything else to stop (journal_replay()
 * then returns that value). Any of them may be NULL. */
struct journal_visitor {
  int (*dedupe)(void *ctx, const struct journal_dedupe *d);
  int (*cooldown)(void *ctx, const struct journal_cooldown *c);
  int (*rem)(void *ctx, const struct journal_rem *r);   /* in id order */
  int (*finished)(void *ctx, const struct journal_rem *r); /* the history,
                                       in id order, between the rems */
  int (*control)(void *ctx, const char *key, const char *value); /* first */
};

/* Hands the live state to v: the control values, then finished dedupe keys (least recently seen
 * first), then cooldowns, then the remediations, in flight (rem) and
 * finished (finished), merged in id order. Call once after journal_open(),
 * before other threads use j. The rem callback may call
 * journal_append_state() (e.g. to fail a remediation that cannot be
 * resumed); the other callbacks must not call into the journal. Returns 0,
 * a callback's nonzero value, or -1 when out of memory. */
int journal_replay(struct journal *j, const struct journal_visitor *v, void *ctx);

/* ledger.h makes remediations of what journal_replay() hands out
 * (ledger_rem_of(), ledger_history_of()). */

/* ---- appending ----------------------------------------------------------------- */

/* r was accepted (state QUEUED, not yet on the queue). cooldown_until_ms
 * is the deadline decide set for r->cooldown_key (0: none). Appends before
 * the remediation is queued, so its later state records follow it. Sets
 * *lsn for journal_sync(). 0, or -1 (out of memory, or the journal failed). */
int journal_append_accept(struct journal *j, const struct remediation *r,
                          int64_t cooldown_until_ms, uint64_t *lsn);

/* The accept of id is undone (the queue refused it after it was
 * journaled): it never existed. 0 or -1. */
int journal_append_abort(struct journal *j, uint64_t id, uint64_t *lsn);

struct journal_state {
  uint64_t id;
  enum rem_state state;
  const char *reason;               /* NULL: "" */
  int64_t at_ms;
  int32_t step;                     /* the step it is in; -1: unchanged */
  const char *token;                /* resume token of that step; NULL: none */
  bool cooldown_released;           /* gave its cooldown back (cancelled
                                       before it started) */
  bool forget;                      /* final, and nothing of it reached a
                                       remote side: its dedupe key is
                                       forgotten too, so the alert's next
                                       resend is accepted again */
};

/* A state change or action progress. A record for a remediation the journal
 * does not hold in flight (unknown, or already final) is not written (0).
 * Sets *lsn (may be NULL). 0, or -1. */
int journal_append_state(struct journal *j, const struct journal_state *s,
                         uint64_t *lsn);

/* r finished without being journaled in flight (e.g. skipped): appends it
 * whole as a "fin" record to the history, unsynced (it rides on the next
 * sync: a webhook's group commit, or journal_tick()). Nothing is written
 * when the journal keeps no history. r's state must be final and not
 * change during the call. Sets *lsn (may be NULL). 0, or -1. */
int journal_append_finished(struct journal *j, const struct remediation *r,
                            uint64_t *lsn);

/* Sets the control value of key (value NULL: forgets it); see "Controls".
 * Unsynced: the caller syncs *lsn (may be NULL) before it says it is
 * done. 0, or -1 (too long, out of memory, or the journal failed). */
int journal_append_control(struct journal *j, const char *key, const char *value,
                           uint64_t *lsn);

/* An alert of an accepted remediation was seen again (a DECIDE_DUPLICATE):
 * keeps its dedupe key alive across restarts. Writes a record at most once
 * per dedupe_ttl/8 per key, unsynced (it rides on the next sync). Returns
 * the position after everything appended so far, the original's accept
 * included: the resend is answered once that is durable. */
uint64_t journal_note_seen(struct journal *j, uint32_t rule, const char *fingerprint,
                           const char *starts_at, uint8_t alert_status,
                           int64_t now_ms);

/* Makes sure id is reserved on disk before anyone sees it. Usually one
 * atomic load. Once half of the reserved block is used, the next block's
 * "ids" record is appended, unsynced: it rides on the next sync (a
 * webhook's group commit, or journal_tick()). Only when id itself is not
 * yet reserved on disk (the first id after journal_open(), or ids handed
 * out faster than the syncs) does the call append if needed and wait for
 * one write + fdatasync (shared with concurrent callers). Call with no
 * lock held. 0, or -1 when the journal has failed (the id is then not
 * reserved: a restart may hand it out again). */
int journal_reserve_id(struct journal *j, uint64_t id);

/* Whether every record up to lsn is on disk. */
bool journal_durable(struct journal *j, uint64_t lsn);

/* Makes every record up to lsn durable (JOURNAL_LSN_ALL: all appended so
 * far; 0: nothing to do). Blocks for at most one write + fdatasync (shared
 * with concurrent callers). 0, or -1 when the journal has failed. */
int journal_sync(struct journal *j, uint64_t lsn);

/* Housekeeping, from the main thread about once a second: syncs what is
 * pending and compacts when the file has outgrown its threshold. 0 or -1. */
int journal_tick(struct journal *j, int64_t now_ms);

/* Rewrites the file as a snapshot of the live state now (dropping expired
 * dedupe keys and cooldowns). 0, or -1 (the journal has failed). */
int journal_compact(struct journal *j, int64_t now_ms);

struct journal_stats {
  uint64_t appended;                /* records appended since open */
  uint64_t syncs;                   /* fdatasync calls */
  uint64_t sync_waits;              /* journal_sync calls that waited */
  uint64_t compactions;
  uint64_t file_bytes;              /* current file size (written) */
  uint64_t pending_bytes;           /* appended, not yet written */
  uint64_t snapshot_bytes;          /* size of the last snapshot */
  uint64_t compact_lock_us;         /* the last compaction held the lock
                                       (appenders waited) this long */
  uint64_t compact_us;              /* the last compaction took this long,
                                       from start to rename */
  uint64_t ids_reserved;            /* ids below this are reserved on disk */
  size_t inflight, dedupe, cooldowns;
  size_t history;                   /* finished remediations kept */
  bool failed;                      /* sticky I/O error */
};
void journal_stats(struct journal *j, struct journal_stats *out);

/* Has the journal failed (a sticky write or fsync error)? When it has and
 * why is not NULL, why gets "journal DIR/journal.log: OP failed: ERRNO
 * TEXT" (at most JOURNAL_WHY_MAX bytes, cut to n); else why gets "". */
bool journal_failure(struct journal *j, char *why, size_t n);

/* CRC-32C (Castagnoli) of p[0..n), continuing from crc (start with 0). */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n);

#endif
