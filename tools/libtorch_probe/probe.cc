// Prints where this binary's LibTorch came from: the path under which the dynamic loader
// opened libtorch_cpu.so (dl_iterate_phdr: the path it found through the rpath, links not
// resolved), whether CUDA is available, and a tensor sum computed with it.
// tools/check_libtorch_root.sh builds it against --repo_env=LIBTORCH_ROOT.
#include <link.h>
#include <torch/torch.h>

#include <iostream>
#include <string>

int main() {
  const torch::Tensor sum = torch::arange(10, torch::kFloat32).sum();
  std::string library;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("libtorch_cpu.so") != std::string::npos) {
          *static_cast<std::string*>(out) = name;
          return 1;
        }
        return 0;
      },
      &library);
  std::cout << "libtorch_cpu: " << library << "\n"
            << "cuda: " << (torch::cuda::is_available() ? "yes" : "no") << "\n"
            << "sum: " << sum.item<float>() << "\n";
  return library.empty() ? 1 : 0;
}
