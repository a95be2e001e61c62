"""The SDK as a third party gets it: `meson install` puts the headers and lms-sdk.pc in place; a
plugin built out of tree with nothing but `pkg-config lms-sdk` and a compiler loads into the
installed lms through its configuration."""
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from lmstest import BUILD_DIR, free_port

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


class InstalledSdk(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lms-sdk-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.dest = os.path.join(self.dir, "dest")
        subprocess.run(["meson", "install", "-C", BUILD_DIR, "--destdir", self.dest, "--no-rebuild", "--quiet"],
                       check=True, capture_output=True)

    def test_out_of_tree_plugin_builds_from_pkg_config_and_loads(self):
        pcs = glob.glob(os.path.join(self.dest, "**", "lms-sdk.pc"), recursive=True)
        self.assertEqual(len(pcs), 1, pcs)
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


if __name__ == "__main__":
    unittest.main()
