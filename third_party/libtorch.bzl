"""The LibTorch the workspace builds against: Debian's (/usr, the default) or the one under
--repo_env=LIBTORCH_ROOT=DIR, laid out as a libtorch archive or a pip `torch` package:
DIR/include, DIR/include/torch/csrc/api/include, DIR/lib (README, "Training on GPUs").

The C++ ABI is read from DIR/share/cmake/Torch/TorchConfig.cmake (-D_GLIBCXX_USE_CXX11_ABI):
a LibTorch of the old ABI (pip wheels before PyTorch 2.7) cannot link with Debian's OpenCV
and fmt and is refused with a message. libtorch_cuda / libc10_cuda, when present, are linked
between --no-as-needed and --as-needed (Debian's g++ drops them otherwise: nothing references
them directly, yet they register the CUDA device), with an rpath to DIR/lib.
"""

_DEBIAN_BUILD = """
# Debian's LibTorch (libtorch-dev, CPU build). The C++ API headers live under
# include/torch/csrc/api/include; the ATen/c10 headers are reached through /usr/include,
# which the auto-configured toolchain already treats as a system include directory.
cc_library(
    name = "libtorch",
    hdrs = glob(["include/torch/csrc/api/include/**/*.h"]),
    includes = ["include/torch/csrc/api/include"],
    linkopts = ["-ltorch", "-ltorch_cpu", "-lc10", "-lpthread"],
    visibility = ["//visibility:public"],
)
"""

_ROOT_BUILD = """
# LibTorch from LIBTORCH_ROOT={root} (C++11 ABI: {abi}; CUDA libraries: {cuda}).
cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"], allow_empty = True),
    includes = ["include", "include/torch/csrc/api/include"],
    defines = {defines},
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
"""

def _fail(root, problem):
    fail("LIBTORCH_ROOT={}: {} (README, \"Training on GPUs\")".format(root, problem))

def _libtorch_impl(ctx):
    root = ctx.os.environ.get("LIBTORCH_ROOT", "/usr").rstrip("/")
    if root in ("", "/usr"):
        ctx.symlink("/usr/include", "include")
        ctx.file("BUILD.bazel", _DEBIAN_BUILD)
        ctx.file("defs.bzl", "LIBTORCH_ROOT = \"/usr\"\nLIBTORCH_HAS_CUDA = False\n")
        return
    for sub in ["include/torch/csrc/api/include", "lib"]:
        if not ctx.path(root + "/" + sub).exists:
            _fail(root, "no {}/ -- expected a libtorch archive or pip torch directory".format(sub))
    lib = ctx.path(root + "/lib")
    for name in ["libtorch.so", "libtorch_cpu.so", "libc10.so"]:
        if not lib.get_child(name).exists:
            _fail(root, "lib/{} is missing".format(name))
    cmake = ctx.path(root + "/share/cmake/Torch/TorchConfig.cmake")
    if not cmake.exists:
        _fail(root, "share/cmake/Torch/TorchConfig.cmake is missing, so its C++ ABI is unknown")
    text = ctx.read(cmake)
    if "_GLIBCXX_USE_CXX11_ABI=0" in text:
        _fail(root, "built with the old C++ ABI (-D_GLIBCXX_USE_CXX11_ABI=0), which cannot link " +
                    "with Debian's OpenCV and fmt; use a LibTorch of the C++11 ABI (the " +
                    "cxx11-abi libtorch archive, or a pip torch >= 2.7)")
    if "_GLIBCXX_USE_CXX11_ABI=1" not in text:
        _fail(root, "TorchConfig.cmake does not state -D_GLIBCXX_USE_CXX11_ABI, so its C++ ABI is unknown")
    ctx.symlink(ctx.path(root + "/include"), "include")
    ctx.symlink(lib, "lib")
    cuda = [n for n in ["torch_cuda", "c10_cuda"] if lib.get_child("lib{}.so".format(n)).exists]
    linkopts = ["-L" + str(lib), "-Wl,-rpath," + str(lib)]
    if cuda:
        linkopts += ["-Wl,--no-as-needed"] + ["-l" + n for n in cuda] + ["-Wl,--as-needed"]
    linkopts += ["-ltorch", "-ltorch_cpu", "-lc10", "-lpthread"]
    ctx.file("BUILD.bazel", _ROOT_BUILD.format(
        root = root,
        abi = "yes",
        cuda = ", ".join(cuda) if cuda else "none",
        linkopts = repr(linkopts),
        # The code's CUDA-only parts (GPU peak memory, NCCL) compile where CUDA is linked.
        # USE_C10D_NCCL: c10d's NCCL header is empty without it (CUDA LibTorch builds have NCCL).
        defines = repr(["SCRATCHDET_WITH_CUDA=1", "USE_C10D_NCCL"] if cuda else []),
    ))
    ctx.file("defs.bzl", "LIBTORCH_ROOT = \"{}\"\nLIBTORCH_HAS_CUDA = {}\n".format(
        root, "True" if cuda else "False"))

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = ["LIBTORCH_ROOT"],
    local = True,
)
