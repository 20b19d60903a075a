/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl --json: the records of the database and the token as JSON
 * objects, and their printing (ctl_json.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "src/ctl/ctl_json.h"
#include "src/common/hex.h"

static int list_items;

void
ctl_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

void
ctl_json_list_begin(void)
{
	list_items = 0;
	fputs("[", stdout);
}

void
ctl_json_list_item(struct json_object *obj)
{
	fputs(list_items++ > 0 ? ",\n" : "\n", stdout);
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
	json_object_put(obj);
}

void
ctl_json_list_end(void)
{
	puts(list_items > 0 ? "\n]" : "]");
}

struct json_object *
ctl_json_hex(const uint8_t *b, size_t len)
{
	char hex[2 * 512 + 1];
	char *big = NULL;
	struct json_object *o;

	if (len > 512 && (big = malloc(2 * len + 1)) == NULL)
		return NULL;
	m2m_hex(b, len, big != NULL ? big : hex);
	o = json_object_new_string(big != NULL ? big : hex);
	free(big);
	return o;
}

struct json_object *
ctl_json_str_or_null(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

#define ADD(o, k, v)	json_object_object_add((o), (k), (v))

/* list: the row; show (full): the counts and the previous pseudonym too. */
struct json_object *
ctl_json_module(const struct db_module_info *m, int full)
{
	struct json_object *o = json_object_new_object();

	ADD(o, "id", json_object_new_int64(m->id));
	ADD(o, "identity", json_object_new_string(m->identity));
	ADD(o, "status", json_object_new_string(m->status));
	ADD(o, "last_seen", ctl_json_str_or_null(m->last_seen));
	ADD(o, "pseudonym", ctl_json_hex(m->pseudonym, m->pseudonym_len));
	if (!full)
		return o;
	ADD(o, "created_at", json_object_new_string(m->created_at));
	ADD(o, "previous_pseudonym", m->previous_len > 0 ?
	    ctl_json_hex(m->previous, m->previous_len) : NULL);
	ADD(o, "last_handshake_at", ctl_json_str_or_null(m->last_handshake_at));
	ADD(o, "last_address", ctl_json_str_or_null(m->last_address));
	ADD(o, "reports", json_object_new_int64(m->reports));
	ADD(o, "open_instructions", json_object_new_int64(m->instr_open));
	return o;
}

struct json_object *
ctl_json_key(const struct db_key_info *k)
{
	struct json_object *o = json_object_new_object();

	ADD(o, "state", json_object_new_string(k->state));
	ADD(o, "public_key", ctl_json_hex(k->pub, sizeof(k->pub)));
	ADD(o, "created_at", json_object_new_string(k->created_at));
	ADD(o, "valid_from", ctl_json_str_or_null(k->valid_from));
	ADD(o, "valid_until", ctl_json_str_or_null(k->valid_until));
	return o;
}

struct json_object *
ctl_json_instr(const struct db_instr_info *i)
{
	struct json_object *o = json_object_new_object();

	ADD(o, "id", json_object_new_int64(i->id));
	ADD(o, "state", json_object_new_string(i->state));
	ADD(o, "bytes", json_object_new_int64((int64_t)i->body_len));
	ADD(o, "created_at", json_object_new_string(i->created_at));
	ADD(o, "acknowledged_at", ctl_json_str_or_null(i->acknowledged_at));
	ADD(o, "sent_count", json_object_new_int(i->sent_count));
	return o;
}

struct json_object *
ctl_json_report(const struct db_report_info *r)
{
	struct json_object *o = json_object_new_object();

	ADD(o, "id", json_object_new_int64(r->id));
	ADD(o, "received_at", json_object_new_string(r->received_at));
	ADD(o, "identity", json_object_new_string(r->identity));
	ADD(o, "session_id", ctl_json_hex(r->session_id, sizeof(r->session_id)));
	ADD(o, "seq", json_object_new_int64(r->seq));
	ADD(o, "payload", ctl_json_hex(r->payload, r->payload_len));
	return o;
}

struct json_object *
ctl_json_hsm_key(const struct hsm_key_info *k)
{
	struct json_object *o = json_object_new_object();

	ADD(o, "label", json_object_new_string(k->label));
	ADD(o, "id", ctl_json_hex(k->id, k->id_len));
	ADD(o, "key_id", k->has_pub ? ctl_json_hex(k->key_id, HSM_KEY_ID_LEN) : NULL);
	ADD(o, "p256", json_object_new_boolean(k->p256));
	ADD(o, "derive", json_object_new_boolean(k->derive));
	ADD(o, "sensitive", json_object_new_boolean(k->sensitive));
	ADD(o, "extractable", json_object_new_boolean(k->extractable));
	return o;
}
