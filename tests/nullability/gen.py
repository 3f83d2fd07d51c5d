#!/usr/bin/env python3
"""Generates the nullability table of every nbtls export from include/nbtls.h.

    gen.py include/nbtls.h table.txt cases.h

table.txt: one line per pointer argument of every prototype: function, argument, whether
NULL is accepted (and why) or rejected, and the failure value the function then returns.
cases.h: C for tests/nullability/nullability.c: one case per line of the table, calling the
export with NULL in that argument and valid values in every other.

The failure value follows the return type (int, ssize_t, time_t: -1; pointers: NULL; size_t: 0;
void: nothing to check), except where a header comment documents another (OVERRIDE). Where
libtls accepts NULL, nbtls does too (ACCEPTED, with the reason); the test then checks that the
call does not fail for the NULL (its message, if any, does not blame a NULL argument).
"""
import re
import sys

# Functions whose documented failure value is not the one their return type implies.
OVERRIDE = {
    "tls_error_code": "0x2000",  # TLS_ERROR_INVALID_CONTEXT
    "tls_config_error_code": "0x2000",
    "tls_error_errno": "0",
    "tls_conn_cipher_strength": "0",
    "tls_peer_cert_contains_name": "0",  # "does not contain": fails closed
    "tls_events": "0",
}

# Functions that leave no message when their pointer is NULL: they read the message or code
# that is asked for, or are accessors whose NULL answer means "none".
NO_MESSAGE = {
    "tls_error", "tls_config_error", "tls_error_code", "tls_config_error_code",
    "tls_error_errno", "tls_error_alert", "tls_conn_version", "tls_conn_cipher",
    "tls_conn_alpn_selected", "tls_conn_servername", "tls_conn_group", "tls_pending_read", "tls_pending_write",
    "tls_pending_deferred", "tls_events",
}

# (function, argument) pairs where NULL is accepted, as libtls accepts it.
ACCEPTED = {
    ("tls_configure", "config"): "NULL config means the default configuration",
    ("tls_connect", "port"): "NULL port: host is \"host:port\"",
    ("tls_connect_servername", "port"): "NULL port: host is \"host:port\"",
    ("tls_connect_servername", "servername"): "NULL servername: the host name is used",
    ("tls_connect_socket", "servername"): "NULL servername with tls_config_insecure_noverifyname",
    ("tls_connect_fds", "servername"): "NULL servername with tls_config_insecure_noverifyname",
    ("tls_connect_cbs", "servername"): "NULL servername with tls_config_insecure_noverifyname",
    ("tls_connect_cbs", "cb_arg"): "the callback argument is the caller's",
    ("tls_accept_cbs", "cb_arg"): "the callback argument is the caller's",
    ("tls_load_file", "password"): "NULL password: the file is returned as it is",
    ("tls_config_set_ciphers", "ciphers"): "NULL means \"secure\", as in libtls",
    ("tls_config_set_ecdhecurves", "curves"): "NULL means \"default\", as in libtls",
    ("tls_config_set_ecdhecurve", "curve"): "NULL means \"default\", as in libtls",
    ("tls_config_set_dheparams", "params"): "NULL means \"none\", as in libtls",
    ("tls_config_parse_protocols", "protostr"): "NULL means \"default\", as in libtls",
    ("tls_config_free", "config"): "free(NULL) is a no-op",
    ("tls_free", "ctx"): "free(NULL) is a no-op",
    ("tls_reset", "ctx"): "NULL is a no-op",
    ("tls_unload_file", "buf"): "NULL is a no-op",
    ("tls_connect_mem", "servername"): "NULL servername with tls_config_insecure_noverifyname",
    # as libtls, a NULL staple file means no OCSP staple (src/ffi/config_keypairs.rs).
    ("tls_config_add_keypair_ocsp_file", "ocsp_staple_file"): "NULL staple file: no OCSP staple",
    ("tls_config_set_keypair_ocsp_file", "staple_file"): "NULL staple file: no OCSP staple",
    ("tls_config_set_keylog_cb", "arg"): "the callback argument is the caller's",
}

# Pointers given to a (pointer, length) pair with NULL and a non-zero length are an error;
# (NULL, 0) is an empty buffer.
VALID = {
    "struct tls *": "e->ctx",
    "struct tls **": "&e->out",
    "struct tls_config *": "e->cfg",
    "const char *": "\"x\"",
    "char *": "e->chars",
    "const uint8_t *": "e->bytes",
    "uint8_t *": "e->bytes",
    "const unsigned char *": "e->bytes",
    "unsigned char *": "e->bytes",
    "const void *": "e->bytes",
    "void *": "e->bytes",
    "size_t *": "&e->size",
    "uint32_t *": "&e->u32",
    "tls_read_cb": "env_read_cb",
    "tls_write_cb": "env_write_cb",
    "tls_keylog_cb": "NULL",  # a NULL key log callback is valid: it turns key logging off
}
# Arguments that need a particular valid value (no DNS lookups, a refused connection).
SPECIAL = {
    ("tls_connect", "host"): '"127.0.0.1"',
    ("tls_connect", "port"): '"1"',
    ("tls_connect_servername", "host"): '"127.0.0.1"',
    ("tls_connect_servername", "port"): '"1"',
}
SCALAR = {"int": "-1", "size_t": "1", "uint32_t": "0", "ssize_t": "1"}


def prototypes(header):
    h = re.sub(r"//[^\n]*", "", header)
    h = re.sub(r"typedef[^;]*;", "", h)
    out = []
    for ret, name, args in re.findall(r"\n([a-z][\w \*]*?\b(tls_\w+))\(([^()]*)\);", h):
        ret = " ".join(ret.split())[: -len(name)].strip()
        params = []
        for a in args.split(","):
            a = " ".join(a.split())
            if a in ("void", ""):
                continue
            m = re.match(r"(.*?)(\w+)$", a)
            params.append((m.group(1).replace(" *", " *").strip(), m.group(2)))
        out.append((ret, name, params))
    return out


def failure(ret, name):
    if name in OVERRIDE:
        return OVERRIDE[name]
    if ret == "void":
        return None
    if ret.endswith("*"):
        return "NULL"
    if ret == "size_t":
        return "0"
    return "-1"


def main():
    header, table_path, cases_path = sys.argv[1:4]
    protos = prototypes(open(header).read())
    table, cases, entries = [], [], []
    for ret, name, params in protos:
        for i, (ty, arg) in enumerate(params):
            if not (ty.endswith("*") or ty in ("tls_read_cb", "tls_write_cb")):
                continue
            fail = failure(ret, name)
            why = ACCEPTED.get((name, arg))
            table.append(f"{name}\t{arg}\t" + (f"accepted: {why}" if why else f"rejected: returns {fail or '(void)'}"))
            call_args = []
            for j, (ty2, _) in enumerate(params):
                if j == i:
                    call_args.append("NULL")
                elif (name, params[j][1]) in SPECIAL:
                    call_args.append(SPECIAL[(name, params[j][1])])
                elif ty2 in VALID:
                    call_args.append(VALID[ty2])
                elif ty2 in SCALAR:
                    call_args.append(SCALAR[ty2])
                else:
                    sys.exit(f"gen.py: no value for {ty2} in {name}")
            call = f"{name}({', '.join(call_args)})"
            n = len(entries)
            kind = "void" if ret == "void" else ("ptr" if ret.endswith("*") else "num")
            if kind == "void":
                body = f"\t{call};\n\treturn 0;"
            elif kind == "ptr":
                body = f"\treturn {call} == NULL ? 0 : 1;"
            else:
                body = f"\treturn (long long){call};"
            cases.append(f"static long long\ncase_{n}(struct env *e)\n{{\n\t(void)e;\n{body}\n}}\n")
            fail_c = {"NULL": "0", None: "0"}.get(fail, fail)
            msg = 0 if (why or name in NO_MESSAGE or kind == "void") else 1
            entries.append(f'\t{{ "{name}", "{arg}", case_{n}, "{kind}", {fail_c}, {1 if why else 0}, {msg} }},')
    with open(table_path, "w") as f:
        f.write("# Generated from include/nbtls.h by tests/nullability/gen.py: every pointer argument\n")
        f.write("# of every export, and what NULL there does.\n")
        f.write("\n".join(table) + "\n")
    with open(cases_path, "w") as f:
        f.write("/* Generated from include/nbtls.h by tests/nullability/gen.py. */\n")
        f.write("\n".join(cases))
        f.write("\nstatic const struct null_case null_cases[] = {\n" + "\n".join(entries) + "\n};\n")
    print(f"nullability: {len(entries)} pointer arguments in {len(protos)} prototypes")


main()
