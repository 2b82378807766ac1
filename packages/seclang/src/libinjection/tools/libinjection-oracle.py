#!/usr/bin/env python3
# Differential-test oracle: runs the C libinjection that libmodsecurity3 embeds (and exports)
# on hex-encoded inputs, one per stdin line; prints "<issqli> <fingerprint> <isxss>" per line.
#   python3 libinjection-oracle.py [path/to/libmodsecurity.so.3]
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libmodsecurity.so.3")
lib.libinjection_sqli.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
lib.libinjection_sqli.restype = ctypes.c_int
lib.libinjection_xss.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
lib.libinjection_xss.restype = ctypes.c_int
lib.libinjection_version.restype = ctypes.c_char_p

out = sys.stdout
out.write("version " + lib.libinjection_version().decode() + "\n")
out.flush()
fp = ctypes.create_string_buffer(8)
for line in sys.stdin:
    data = bytes.fromhex(line.strip())
    # NUL-terminated copy, as callers such as ModSecurity pass std::string data
    buf = ctypes.create_string_buffer(data, len(data) + 1)
    issqli = lib.libinjection_sqli(buf, len(data), fp)
    isxss = lib.libinjection_xss(buf, len(data))
    out.write("%d %s %d\n" % (issqli, fp.value.decode("latin1") if issqli else "-", isxss))
out.flush()
