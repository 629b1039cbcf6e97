#include "scratchdet/model/winograd_conv.h"

// SCRATCHDET_WITH_DNNL: oneDNN's headers and library are there (Bazel's build, from Debian's
// libdnnl-dev). Without it (tools/gpu_check.sh on a machine with only a pip LibTorch, whose
// oneDNN is internal) every convolution takes torch's path.
#ifdef SCRATCHDET_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace scratchdet::model {

#ifdef SCRATCHDET_WITH_DNNL
namespace {

using dnnl::memory;

// The options' variants: c10's before LibTorch 2, std's after.
#if TORCH_VERSION_MAJOR >= 2
namespace variant = std;
#else
namespace variant = c10;
#endif

std::atomic<bool>& EnabledFlag() {
  static std::atomic<bool> enabled([] {
    const char* value = std::getenv("SCRATCHDET_WINOGRAD");
    return value == nullptr || std::strcmp(value, "0") != 0;
  }());
  return enabled;
}

std::atomic<int64_t> calls{0};
// Bumped by every training forward of a convolution. LibTorch's SGD updates parameters
// through .data(), which leaves their version counters alone, so a weight's version alone
// cannot tell that an optimizer step changed it.
std::atomic<int64_t> training_generation{0};

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One convolution module at one input shape and layout.
using Key = std::tuple<const void*, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, bool>;

struct Entry {
  bool supported = false;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  memory weights;             // in the kernel's (Winograd-transformed) layout
  // Which weight tensor, at which version and storage, `weights` was made from. The weak
  // reference keeps the old TensorImpl's memory from being reused by a new tensor while the
  // entry lives, so a model rebuilt at the same addresses (a resumed run) cannot match it.
  c10::weak_intrusive_ptr<c10::TensorImpl> weight_impl{c10::intrusive_ptr<c10::TensorImpl>()};
  const void* weight_data = nullptr;
  int64_t weight_version = -1;
  int64_t generation = -1;
};

std::mutex cache_mutex;
std::map<Key, std::shared_ptr<Entry>>& Cache() {
  static std::map<Key, std::shared_ptr<Entry>> cache;
  return cache;
}

std::shared_ptr<Entry> MakeEntry(const memory::dims& src, const memory::dims& weights,
                                 const memory::dims& dst, bool bias, bool relu) {
  auto entry = std::make_shared<Entry>();
  const auto any = [](const memory::dims& d) {
    return memory::desc(d, memory::data_type::f32, memory::format_tag::any);
  };
  try {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // safe for concurrent calls
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    const memory::desc bias_desc =
        bias ? memory::desc({dst[1]}, memory::data_type::f32, memory::format_tag::x)
             : memory::desc();
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd, any(src),
        any(weights), bias_desc, any(dst), {1, 1}, {1, 1}, {1, 1});
    entry->pd = dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
    entry->primitive = dnnl::convolution_forward(entry->pd);
    entry->supported = true;
  } catch (const dnnl::error&) {
    entry->supported = false;  // no Winograd kernel for this shape or machine
  }
  return entry;
}

torch::Tensor Bytes(size_t size) {
  return torch::empty({static_cast<int64_t>(size)}, torch::kUInt8);
}

}  // namespace

void SetWinogradEnabled(bool enabled) { EnabledFlag() = enabled; }
bool WinogradEnabled() { return EnabledFlag(); }
int64_t WinogradCalls() { return calls; }

std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl& conv,
                                             const torch::Tensor& input, bool relu) {
  const auto& o = conv.options;
  const torch::Tensor& weight = conv.weight;
  if (torch::GradMode::is_enabled()) {
    ++training_generation;  // weights may change after this forward (see above)
    return std::nullopt;
  }
  if (!EnabledFlag() || !input.is_cpu() ||
      input.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 ||
      input.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3 ||
      (*o.stride())[0] != 1 || (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 ||
      (*o.dilation())[1] != 1 || o.groups() != 1 || input.size(1) < kWinogradMinChannels)
    return std::nullopt;
  const auto* padding = variant::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr || (**padding)[0] != 1 || (**padding)[1] != 1 ||
      !variant::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()))
    return std::nullopt;

  const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
  const int64_t k = weight.size(0);
  // Keep the caller's layout: channels-last in, channels-last out.
  const bool channels_last =
      !input.is_contiguous() && input.is_contiguous(torch::MemoryFormat::ChannelsLast);
  const bool has_bias = conv.bias.defined();
  const memory::dims src_dims = {n, c, h, w}, weight_dims = {k, c, 3, 3}, dst_dims = {n, k, h, w};

  std::shared_ptr<Entry> entry;
  memory weights;
  {
    const std::lock_guard<std::mutex> lock(cache_mutex);
    std::shared_ptr<Entry>& slot = Cache()[Key{&conv, n, c, k, h, w, channels_last, has_bias, relu}];
    if (!slot) slot = MakeEntry(src_dims, weight_dims, dst_dims, has_bias, relu);
    entry = slot;
    if (!entry->supported) return std::nullopt;
    // (Re)transform the weights when they changed (an optimizer step, a checkpoint load, a
    // new module at the same address).
    const bool same_tensor = !entry->weight_impl.expired() &&
                             entry->weight_impl.lock().get() == weight.unsafeGetTensorImpl();
    const int64_t generation = training_generation;
    if (!same_tensor || entry->weight_data != weight.data_ptr() ||
        entry->weight_version != weight._version() || entry->generation != generation) {
      const torch::Tensor oihw = weight.detach().contiguous();
      memory user(memory::desc(weight_dims, memory::data_type::f32, memory::format_tag::oihw),
                  Engine(), oihw.data_ptr());
      memory transformed(entry->pd.weights_desc(), Engine());
      dnnl::stream stream(Engine());
      dnnl::reorder(user, transformed).execute(stream, user, transformed);
      stream.wait();
      entry->weights = transformed;
      entry->weight_impl = c10::weak_intrusive_ptr<c10::TensorImpl>(weight.getIntrusivePtr());
      entry->weight_data = weight.data_ptr();
      entry->weight_version = weight._version();
      entry->generation = generation;
    }
    weights = entry->weights;
  }

  const auto format = channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  const auto tag = channels_last ? memory::format_tag::nhwc : memory::format_tag::nchw;
  const torch::Tensor x = input.contiguous(format);
  torch::Tensor output = torch::empty({n, k, h, w}, input.options().memory_format(format));
  const memory::desc user_src(src_dims, memory::data_type::f32, tag);
  const memory::desc user_dst(dst_dims, memory::data_type::f32, tag);
  dnnl::stream stream(Engine());

  memory src(user_src, Engine(), x.data_ptr());
  torch::Tensor src_buffer;
  if (entry->pd.src_desc() != user_src) {
    src_buffer = Bytes(entry->pd.src_desc().get_size());
    memory blocked(entry->pd.src_desc(), Engine(), src_buffer.data_ptr());
    dnnl::reorder(src, blocked).execute(stream, src, blocked);
    src = blocked;
  }
  memory out(user_dst, Engine(), output.data_ptr());
  torch::Tensor dst_buffer;
  memory dst = out;
  if (entry->pd.dst_desc() != user_dst) {
    dst_buffer = Bytes(entry->pd.dst_desc().get_size());
    dst = memory(entry->pd.dst_desc(), Engine(), dst_buffer.data_ptr());
  }
  const torch::Tensor scratchpad = Bytes(entry->pd.scratchpad_desc().get_size());
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src},
      {DNNL_ARG_WEIGHTS, weights},
      {DNNL_ARG_DST, dst},
      {DNNL_ARG_SCRATCHPAD, memory(entry->pd.scratchpad_desc(), Engine(), scratchpad.data_ptr())}};
  torch::Tensor bias;
  if (has_bias) {
    bias = conv.bias.detach().contiguous();
    args.emplace(DNNL_ARG_BIAS,
                 memory(memory::desc({k}, memory::data_type::f32, memory::format_tag::x), Engine(),
                        bias.data_ptr()));
  }
  entry->primitive.execute(stream, args);
  if (dst != out) dnnl::reorder(dst, out).execute(stream, dst, out);
  stream.wait();
  ++calls;
  return output;
}

#else  // !SCRATCHDET_WITH_DNNL

void SetWinogradEnabled(bool) {}
bool WinogradEnabled() { return false; }
int64_t WinogradCalls() { return 0; }
std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl&, const torch::Tensor&,
                                             bool) {
  return std::nullopt;
}

#endif  // SCRATCHDET_WITH_DNNL

}  // namespace scratchdet::model
