# lit configuration for mlc's FileCheck tests. CTest passes the build's tool
# directory; every test runs `mlc` from there.
import os

import lit.formats

config.name = "mlc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlp", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = lit_config.params.get(
    "exec_root", os.path.join(config.test_source_root, "Output"))

tool_dir = os.path.abspath(lit_config.params["tool_dir"])
llvm_bin = lit_config.params.get("llvm_bin", "/usr/lib/llvm-14/bin")
source_root = os.path.dirname(os.path.dirname(config.test_source_root))

config.substitutions.append(("%mlc", os.path.join(tool_dir, "mlc")))
config.substitutions.append(("%stdlib", os.path.join(source_root, "stdlib")))
config.substitutions.append(("%examples", os.path.join(source_root, "examples")))
config.substitutions.append(("%docs", os.path.join(source_root, "docs")))
config.substitutions.append(("%root", source_root))
config.environment["PATH"] = os.pathsep.join(
    [tool_dir, llvm_bin, config.environment.get("PATH", "")])
# Diagnostics must not depend on the terminal the tests run in.
config.environment["NO_COLOR"] = "1"
# Tests run side by side on few cores: OpenMP threads that spin while they
# wait would starve the other tests' processes (a 10 s training test took
# 150 s that way), so they sleep instead.
config.environment["OMP_WAIT_POLICY"] = "passive"

# Fashion-MNIST comes from a Debian package (dataset-fashion-mnist) that
# scripts/bootstrap installs; without it the training test is skipped.
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")

# The interpreter lit runs under (CMake's Python3_EXECUTABLE, Debian's
# python3 with the packages scripts/bootstrap installs) runs the test tools.
import sys
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%tools", os.path.join(os.path.dirname(config.test_source_root), "tools")))

# Browser and database servers for the study tests, from Debian's packages
# (scripts/bootstrap installs chromium and postgresql).
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")
if os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
    config.available_features.add("postgres")

# The read-only file system of the formatter's write-failure test is mounted
# in a private mount namespace, which takes root.
if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare"):
    config.available_features.add("root-mount")
