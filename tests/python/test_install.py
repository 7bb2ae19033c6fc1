"""`cmake --install` puts a working package under
${prefix}/lib/python3/dist-packages (GRAPHKERN_PYTHON_INSTALL_DIR): install
the build tree into a temporary prefix and import it from there."""

import os
import subprocess
import sys
import tempfile
import unittest

from gktest import model_path

BUILD = os.environ.get("GK_BUILD_DIR")
CMAKE = os.environ.get("GK_CMAKE", "cmake")
SUBDIR = os.environ.get("GK_PYTHON_INSTALL_DIR", "lib/python3/dist-packages")


@unittest.skipIf(not BUILD, "GK_BUILD_DIR not set (run through ctest)")
class Install(unittest.TestCase):
    def test_import_from_prefix(self):
        with tempfile.TemporaryDirectory() as prefix:
            subprocess.run([CMAKE, "--install", BUILD, "--prefix", prefix],
                           check=True, stdout=subprocess.DEVNULL)
            site = os.path.join(prefix, SUBDIR)
            env = dict(os.environ, PYTHONPATH=site)
            code = ("import graphkern, sys; m = graphkern.Model(sys.argv[1]); "
                    "print(graphkern.__file__); print(m.plan(100, 1000).kernels)")
            r = subprocess.run([sys.executable, "-c", code, model_path("ref_topk10_n100")],
                               env=env, capture_output=True, text=True, cwd=prefix)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith(site), r.stdout)
            for name in ("__init__.py", "_async.py", "export_pyg.py"):
                self.assertTrue(os.path.exists(os.path.join(site, "graphkern", name)))


if __name__ == "__main__":
    unittest.main()
