"""The SDK as a third party gets it: `meson install` puts the headers and lms-sdk.pc in place; a
plugin built out of tree with nothing but `pkg-config lms-sdk` and a compiler loads into the
installed lms through its configuration; the example in sdk/examples/ builds the same way with its
own meson.build and does what its README says."""
import json
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from lmstest import BUILD_DIR, DATABASE, USER, TargetTestCase, free_port, psql

PLUGIN_SOURCE = r"""
#include <lms/plugin.hpp>

namespace {
void* create(const lms_kv*, size_t) { static int self; return &self; }
void destroy(void*) {}
void decide(void*, const lms_request_info*, lms_shadow_decision* out) {
  out->send_to_target = 0;
  out->wait_for_target = 0;
  out->answer = LMS_ANSWER_SOURCE;
}
const lms_shadow_functions kFunctions = {sizeof(lms_shadow_functions), create, destroy, decide};
}

LMS_DEFINE_PLUGIN(LMS_PLUGIN_SHADOW, "thirdparty", "9.9.9", kFunctions)
"""


EXAMPLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "examples",
                           "read-validator")


def install_sdk(test):
    """Installs the build into a fresh destdir; returns (destdir, pkg-config environment, plugin dir)."""
    test.dir = tempfile.mkdtemp(prefix="lms-sdk-")
    test.addCleanup(shutil.rmtree, test.dir, True)
    dest = os.path.join(test.dir, "dest")
    subprocess.run(["meson", "install", "-C", BUILD_DIR, "--destdir", dest, "--no-rebuild", "--quiet"],
                   check=True, capture_output=True)
    pcs = glob.glob(os.path.join(dest, "**", "lms-sdk.pc"), recursive=True)
    test.assertEqual(len(pcs), 1, pcs)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_SYSROOT_DIR=dest)
    plugindir = subprocess.run(["pkg-config", "--variable=plugindir", "lms-sdk"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
    installed_plugins = dest + plugindir if not plugindir.startswith(dest) else plugindir
    return dest, env, installed_plugins


class InstalledSdk(unittest.TestCase):
    def setUp(self):
        self.dest, _, _ = install_sdk(self)

    def test_out_of_tree_plugin_builds_from_pkg_config_and_loads(self):
        pcs = glob.glob(os.path.join(self.dest, "**", "lms-sdk.pc"), recursive=True)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_SYSROOT_DIR=self.dest)
        cflags = subprocess.run(["pkg-config", "--cflags", "lms-sdk"], env=env, check=True,
                                capture_output=True, text=True).stdout.split()
        plugindir = subprocess.run(["pkg-config", "--variable=plugindir", "lms-sdk"], env=env, check=True,
                                   capture_output=True, text=True).stdout.strip()
        installed_plugins = self.dest + plugindir if not plugindir.startswith(self.dest) else plugindir
        self.assertTrue(os.path.exists(os.path.join(installed_plugins, "dialect_postgres.so")), installed_plugins)

        source = os.path.join(self.dir, "thirdparty.cc")
        with open(source, "w") as f:
            f.write(PLUGIN_SOURCE)
        plugin = os.path.join(installed_plugins, "shadow_thirdparty.so")
        # Only the installed headers: no include path into this source tree.
        subprocess.run(["c++", "-std=c++17", "-Wall", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden",
                        *cflags, source, "-o", plugin], check=True)

        lms = glob.glob(os.path.join(self.dest, "**", "bin", "lms"), recursive=True)[0]
        proc = subprocess.Popen([lms, "--source-dialect", "postgres", "--source", "postgresql://u:p@127.0.0.1:1/db",
                                 "--target", "postgresql://u:p@127.0.0.1:1/db", "--shadow-mode", "thirdparty",
                                 "--listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{free_port()}"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 20
        log = ""
        while time.time() < deadline and "serving postgres clients" not in log:
            line = proc.stdout.readline()
            if not line:
                break
            log += line
        proc.terminate()
        rest, _ = proc.communicate(timeout=20)
        log += rest
        self.assertEqual(proc.returncode, 0, log)
        # Found in the installed plugin directory without any --plugin-dir.
        self.assertIn(f"from {installed_plugins}/dialect_postgres.so; shadow mode thirdparty", log)


class ExampleValidationPlugin(TargetTestCase):
    """sdk/examples/read-validator, built by its own meson.build against the installed SDK only."""
    def test_builds_from_the_installed_sdk_shadows_reads_only_and_compares_rows(self):
        _, env, plugins = install_sdk(self)
        build = os.path.join(self.dir, "example-build")
        for cmd in (["meson", "setup", build, EXAMPLE_DIR], ["meson", "compile", "-C", build]):
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        shutil.copy(os.path.join(build, "shadow_read-validator.so"), plugins)

        for server in (self.pg, self.target):
            server.admin("DROP TABLE IF EXISTS items", db=DATABASE)
            server.admin(f"CREATE TABLE items (id int PRIMARY KEY, name text); ALTER TABLE items OWNER TO {USER}; "
                         "INSERT INTO items SELECT i, 'item' || i FROM generate_series(1, 10) i", db=DATABASE)
        for server in (self.pg, self.target):
            server.admin("DROP SCHEMA IF EXISTS s2 CASCADE; CREATE SCHEMA s2; "
                         "CREATE TABLE s2.items (id int PRIMARY KEY, name text); "
                         f"INSERT INTO s2.items SELECT i, 'other' || i FROM generate_series(101, 103) i; "
                         f"GRANT USAGE ON SCHEMA s2 TO {USER}; GRANT SELECT ON s2.items TO {USER}", db=DATABASE)
        self.target.admin("UPDATE items SET name = 'different' WHERE id = 4", db=DATABASE)
        proxy = self.start_lms(extra=["--plugin-dir", plugins, "--target", self.target.url(),
                                      "--shadow-mode", "read-validator"])
        self.assertIn("shadow mode read-validator", proxy.log())
        # Writes stay on the source.
        r = psql(proxy.url(), "-Atc", "INSERT INTO items VALUES (11, 'new')")
        self.assertEqual(r.stdout.strip(), "INSERT 0 1", r.stderr)
        r = psql(proxy.url(), "-Atc", "UPDATE items SET name = 'renamed' WHERE id <= 2")
        self.assertEqual(r.stdout.strip(), "UPDATE 2", r.stderr)
        # Reads go to both, in the background; the client always gets the source's rows.
        for sql, expected in (("SELECT name FROM items WHERE id = 4", "item4"),
                              ("select name from items where id = 5", "item5"),
                              ("/* report */ SELECT count(*) FROM items", "11")):
            r = psql(proxy.url(), "-Atc", sql)
            self.assertEqual(r.stdout.strip(), expected, r.stderr)

        # Session state reaches the target although the plugin shadows no SET: what the session
        # set before its first read is replayed when the target link opens, and a SET after that
        # is sent along.
        # (The pause lets the target finish the first read: the plugin drops a read while the
        # target is busy, as `async` does.)
        r = psql(proxy.url(), "-At", "-c", "SET search_path = s2, public", "-c", "SELECT count(*) AS n FROM items",
                 "-c", "\\! sleep 1", "-c", "SET search_path = public",
                 "-c", "SELECT count(*) AS k FROM items WHERE id < 4")
        self.assertEqual(r.stdout.split(), ["SET", "3", "SET", "3"], r.stderr)

        def entries():
            rep = json.loads(proxy.http_get("/v1/shadow/report")[1])
            return {e["statement"]: e for e in rep["statements"]}
        deadline = time.time() + 10
        while time.time() < deadline and len(entries()) < 5:
            time.sleep(0.05)
        seen = entries()
        self.assertEqual(sorted(seen), ["SELECT count(*) AS k FROM items WHERE id < ?", "SELECT count(*) AS n FROM items",
                                        "SELECT count(*) FROM items", "SELECT name FROM items WHERE id = ?",
                                        "select name from items where id = ?"], seen)
        self.assertEqual(seen["SELECT count(*) AS n FROM items"]["mismatches"], 0)
        self.assertEqual(seen["SELECT count(*) AS k FROM items WHERE id < ?"]["mismatches"], 0)
        self.assertEqual(seen["SELECT name FROM items WHERE id = ?"]["differences"]["checksum"], 1)
        self.assertEqual(seen["select name from items where id = ?"]["mismatches"], 0)
        self.assertEqual(seen["SELECT count(*) FROM items"]["differences"]["checksum"], 1)
        self.assertEqual(int(self.target.admin("SELECT count(*) FROM items WHERE id = 11 OR name = 'renamed'",
                                               db=DATABASE)), 0)


if __name__ == "__main__":
    unittest.main()
