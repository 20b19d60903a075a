/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl show --json: one module as one object, its keys and its open
 * instructions inside (the shape is in m2mctl(8)). */
#include "config.h"

#include "src/ctl/ctl_db.h"
#include "src/ctl/ctl_json.h"

static void
add_key(void *arg, const struct db_key_info *k)
{
	json_object_array_add(arg, ctl_json_key(k));
}

static void
add_instr(void *arg, const struct db_instr_info *i)
{
	json_object_array_add(arg, ctl_json_instr(i));
}

/* Printed only when every part was read: a half object is no answer. */
enum m2m_err
ctl_show_json(struct db_admin *a, const char *identity, char *err, size_t errlen)
{
	struct db_module_info m;
	struct json_object *o, *keys, *instr;
	enum m2m_err e;

	if ((e = db_admin_module(a, identity, &m, err, errlen)) != M2M_OK)
		return e;
	o = ctl_json_module(&m, 1);
	keys = json_object_new_array();
	instr = json_object_new_array();
	json_object_object_add(o, "keys", keys);
	json_object_object_add(o, "instructions", instr);
	if ((e = db_admin_module_keys(a, m.id, add_key, keys, err, errlen)) == M2M_OK &&
	    (e = db_admin_instructions(a, m.id, 10, 1, add_instr, instr, err, errlen)) == M2M_OK) {
		ctl_json_print(o);
		return M2M_OK;
	}
	json_object_put(o);
	return e;
}
