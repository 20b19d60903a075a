/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl --json: each command's records as one JSON document on stdout,
 * the shapes documented in m2mctl(8). Built with json-c, so strings are
 * escaped as JSON wants; lists are streamed an element at a time. */
#ifndef M2M_CTL_JSON_H
#define M2M_CTL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "db/db.h"
#include "hsm/hsm.h"

/* Prints obj (a line of its own) and releases it. */
void ctl_json_print(struct json_object *obj);
/* A list: "[", then each element, then "]"; elements are released. */
void ctl_json_list_begin(void);
void ctl_json_list_item(struct json_object *obj);
void ctl_json_list_end(void);

/* Lower-case hex of len bytes. */
struct json_object *ctl_json_hex(const uint8_t *b, size_t len);
/* The string, or null when it is empty (a time not reached yet). */
struct json_object *ctl_json_str_or_null(const char *s);

/* The records, one object each. */
struct json_object *ctl_json_module(const struct db_module_info *m, int full);
struct json_object *ctl_json_key(const struct db_key_info *k);
struct json_object *ctl_json_instr(const struct db_instr_info *i);
struct json_object *ctl_json_report(const struct db_report_info *r);
struct json_object *ctl_json_hsm_key(const struct hsm_key_info *k);

/* show --json (ctl_show_json.c): prints the module, its keys and its ten
 * latest instructions; nothing on an error. */
enum m2m_err ctl_show_json(struct db_admin *a, const char *identity, char *err, size_t errlen);

#endif
