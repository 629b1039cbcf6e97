#include "scratchdet/model/winograd_conv.h"

// SCRATCHDET_WITH_DNNL: oneDNN's headers and library are there (Bazel's build, from Debian's
// libdnnl-dev). Without it (tools/gpu_check.sh on a machine with only a pip LibTorch, whose
// oneDNN is internal) every convolution takes torch's path.
#ifdef SCRATCHDET_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

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

// SCRATCHDET_WINOGRAD: unset or "1": inference and training; "inference": inference only
// (training numerics as torch's direct convolution); "0": off.
enum class EnvMode { kOff, kInference, kAll };

EnvMode ModeFromEnvironment() {
  const char* value = std::getenv("SCRATCHDET_WINOGRAD");
  if (value == nullptr) return EnvMode::kAll;
  if (std::strcmp(value, "0") == 0) return EnvMode::kOff;
  if (std::strcmp(value, "inference") == 0) return EnvMode::kInference;
  return EnvMode::kAll;
}

std::atomic<bool>& EnabledFlag() {
  static std::atomic<bool> enabled(ModeFromEnvironment() != EnvMode::kOff);
  return enabled;
}

std::atomic<bool>& TrainingFlag() {
  static std::atomic<bool> enabled(ModeFromEnvironment() == EnvMode::kAll);
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

// A shape in whatever layout the kernel prefers.
memory::desc AnyLayout(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
}

// The layout torch gives a convolution's output (and an input's gradient): channels-last for a
// channels-last tensor, else contiguous.
torch::MemoryFormat LayoutOf(const torch::Tensor& t) {
  return !t.is_contiguous() && t.is_contiguous(torch::MemoryFormat::ChannelsLast)
             ? torch::MemoryFormat::ChannelsLast
             : torch::MemoryFormat::Contiguous;
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
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
        AnyLayout(src), AnyLayout(weights), bias_desc, AnyLayout(dst), {1, 1}, {1, 1}, {1, 1});
    // oneDNN's first choice at batch 1 on large maps is F(2x2, 3x3); F(4x4, 3x3) measured
    // faster on every such shape here (128 -> 128 at 150 x 150 with ReLU: 9.0 against 13.2 ms;
    // 64 -> 64 at 300 x 300: 10.8 against 11.6), so it is taken whenever it is offered.
    entry->pd = dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
    bool found = false;
    do {
      found = std::strstr(entry->pd.impl_info_str(), "wino_4x3") != nullptr;
    } while (!found && entry->pd.next_impl());
    if (!found) entry->pd = dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
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

// The kernels' scratchpad: one grow-only buffer per calling thread, kept between calls. The
// Winograd kernels want up to 180 MB at VGG16's shapes (batch 4, 300 px); allocated afresh
// at every call, its pages were faulted in and zeroed each time, which cost as much as the
// kernel (benchmarks/README.md, "Winograd training"). A call is synchronous on its thread, so
// two calls never share the buffer.
memory Scratchpad(const memory::desc& desc) {
  thread_local torch::Tensor buffer;
  const size_t size = desc.get_size();
  if (!buffer.defined() || static_cast<size_t>(buffer.numel()) < size) buffer = Bytes(size);
  return memory(desc, Engine(), buffer.data_ptr());
}

// A user tensor as oneDNN sees it: its sizes and strides (NCHW, channels-last, or any dense
// layout), so no copy is made to hand it over.
memory::desc UserDesc(const torch::Tensor& t) {
  return memory::desc(memory::dims(t.sizes().begin(), t.sizes().end()), memory::data_type::f32,
                      memory::dims(t.strides().begin(), t.strides().end()));
}

bool Dense(const torch::Tensor& t) {
  return t.is_contiguous() || t.is_contiguous(torch::MemoryFormat::ChannelsLast);
}

// `t` in the layout `desc`: `t` itself when it already is, else a reordered copy held by
// `buffer`.
memory InLayout(const torch::Tensor& t, const memory::desc& desc, torch::Tensor& buffer,
                dnnl::stream& stream) {
  memory user(UserDesc(t), Engine(), t.data_ptr());
  if (desc == user.get_desc()) return user;
  buffer = Bytes(desc.get_size());
  memory converted(desc, Engine(), buffer.data_ptr());
  dnnl::reorder(user, converted).execute(stream, user, converted);
  return converted;
}

// Runs `run(dst_memory)` producing into `desc`, and leaves the result in `out`.
template <typename Run>
void IntoTensor(const torch::Tensor& out, const memory::desc& desc, dnnl::stream& stream, Run run) {
  memory user(UserDesc(out), Engine(), out.data_ptr());
  if (desc == user.get_desc()) {
    run(user);
    return;
  }
  const torch::Tensor buffer = Bytes(desc.get_size());
  memory produced(desc, Engine(), buffer.data_ptr());
  run(produced);
  dnnl::reorder(produced, user).execute(stream, produced, user);
}

// ---- Training: forward_training, backward_data and backward_weights through Winograd ----

// The three primitives of one convolution shape. Weights change every step, so unlike
// inference nothing of the weights is cached: forward_training takes plain blocked weights and
// transforms them inside the kernel.
struct TrainEntry {
  bool supported = false;
  dnnl::convolution_forward::primitive_desc forward_pd;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data::primitive_desc data_pd;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights::primitive_desc weights_pd;
  dnnl::convolution_backward_weights backward_weights;
};

// (n, c, k, h, w, bias)
using TrainKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

std::shared_ptr<TrainEntry> TrainPrimitives(const TrainKey& key) {
  static std::mutex mutex;
  static std::map<TrainKey, std::shared_ptr<TrainEntry>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<TrainEntry>& slot = cache[key];
  if (slot) return slot;
  slot = std::make_shared<TrainEntry>();
  const auto [n, c, k, h, w, bias] = key;
  const memory::desc src = AnyLayout({n, c, h, w}), weights = AnyLayout({k, c, 3, 3}),
                     dst = AnyLayout({n, k, h, w});
  const memory::desc bias_desc =
      bias ? memory::desc({k}, memory::data_type::f32, memory::format_tag::x) : memory::desc();
  const auto algo = dnnl::algorithm::convolution_winograd;
  try {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    slot->forward_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, src, weights,
                                        bias_desc, dst, {1, 1}, {1, 1}, {1, 1}),
        attr, Engine());
    slot->data_pd = dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(algo, src, weights, dst, {1, 1}, {1, 1}, {1, 1}),
        attr, Engine(), slot->forward_pd);
    slot->weights_pd = dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(algo, src, weights, bias_desc, dst, {1, 1},
                                                 {1, 1}, {1, 1}),
        attr, Engine(), slot->forward_pd);
    slot->forward = dnnl::convolution_forward(slot->forward_pd);
    slot->backward_data = dnnl::convolution_backward_data(slot->data_pd);
    slot->backward_weights = dnnl::convolution_backward_weights(slot->weights_pd);
    slot->supported = true;
  } catch (const dnnl::error&) {
    slot->supported = false;
  }
  return slot;
}

// Where the three training kernels beat torch's direct ones (batch 16, channels-last, forward
// plus both gradients; benchmarks/README.md "Winograd training"): from 12 x 12 maps with 64
// channels (1.13x at 64, 1.45x at 128), from 24 x 24 with 32. On smaller maps the 4 x 4 tiles
// are mostly padding and the layout conversions dominate (0.6-0.75x at 6 x 6).
bool WorthTrainingThroughWinograd(int64_t channels, int64_t height, int64_t width) {
  const int64_t side = std::min(height, width);
  return (channels >= 64 && side >= 12) || side >= 24;
}

// out = conv(input, weight) + bias, with gradients for all three through Winograd.
class WinogradConvFunction : public torch::autograd::Function<WinogradConvFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight,
                               const c10::optional<torch::Tensor>& optional_bias) {
    const torch::Tensor bias = optional_bias.value_or(torch::Tensor());
    const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
    const int64_t k = weight.size(0);
    const std::shared_ptr<TrainEntry> entry =
        TrainPrimitives(TrainKey{n, c, k, h, w, bias.defined()});
    const auto& pd = entry->forward_pd;
    dnnl::stream stream(Engine());
    torch::Tensor src_buffer, weight_buffer;
    const memory src = InLayout(input, pd.src_desc(), src_buffer, stream);
    const torch::Tensor weight_dense = Dense(weight) ? weight : weight.contiguous();
    const memory weights = InLayout(weight_dense, pd.weights_desc(), weight_buffer, stream);
    torch::Tensor output = torch::empty({n, k, h, w}, input.options().memory_format(LayoutOf(input)));
    IntoTensor(output, pd.dst_desc(), stream, [&](const memory& dst) {
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},
                                              {DNNL_ARG_WEIGHTS, weights},
                                              {DNNL_ARG_DST, dst},
                                              {DNNL_ARG_SCRATCHPAD, Scratchpad(pd.scratchpad_desc())}};
      if (bias.defined())
        args.emplace(DNNL_ARG_BIAS, memory(UserDesc(bias), Engine(), bias.data_ptr()));
      entry->forward.execute(stream, args);
    });
    stream.wait();
    // The input itself, not its blocked copy: the layers around a convolution keep it anyway
    // (the ReLU or pooling that made it), so saving it costs no memory, where the blocked copy
    // cost a third more peak memory (benchmarks/README.md "Winograd training"); backward
    // converts it again.
    ctx->saved_data["bias"] = bias.defined();
    ctx->save_for_backward({weight_dense, input});
    ++calls;
    return output;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    // The gradients come from oneDNN, outside autograd: no graph for a second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the Winograd convolution has no double backward; set SCRATCHDET_WINOGRAD=inference "
                "to train through torch's convolution");
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& weight = saved[0];
    const torch::Tensor& input = saved[1];
    const bool has_bias = ctx->saved_data["bias"].toBool();
    torch::Tensor grad = grad_outputs[0];
    if (!Dense(grad)) grad = grad.contiguous();
    const int64_t n = grad.size(0), k = grad.size(1), h = grad.size(2), w = grad.size(3);
    const int64_t c = weight.size(1);
    const std::shared_ptr<TrainEntry> entry = TrainPrimitives(TrainKey{n, c, k, h, w, has_bias});
    dnnl::stream stream(Engine());
    torch::Tensor grad_input, grad_weight, grad_bias, diff_buffer, diff_buffer2, weight_buffer;

    const memory diff_dst = InLayout(grad, entry->data_pd.diff_dst_desc(), diff_buffer, stream);
    if (ctx->needs_input_grad(0)) {
      const auto& pd = entry->data_pd;
      const memory weights = InLayout(weight, pd.weights_desc(), weight_buffer, stream);
      grad_input = torch::empty({n, c, h, w}, grad.options().memory_format(LayoutOf(grad)));
      IntoTensor(grad_input, pd.diff_src_desc(), stream, [&](const memory& diff_src) {
        entry->backward_data.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                              {DNNL_ARG_WEIGHTS, weights},
                                              {DNNL_ARG_DIFF_SRC, diff_src},
                                              {DNNL_ARG_SCRATCHPAD, Scratchpad(pd.scratchpad_desc())}});
      });
    }
    if (ctx->needs_input_grad(1) || (has_bias && ctx->needs_input_grad(2))) {
      const auto& pd = entry->weights_pd;
      torch::Tensor src_buffer;
      const memory src_for_weights = InLayout(input, pd.src_desc(), src_buffer, stream);
      memory diff = diff_dst;
      if (diff.get_desc() != pd.diff_dst_desc()) diff = InLayout(grad, pd.diff_dst_desc(), diff_buffer2, stream);
      grad_weight = torch::empty_like(weight);
      if (has_bias) grad_bias = torch::empty({k}, grad.options());
      IntoTensor(grad_weight, pd.diff_weights_desc(), stream, [&](const memory& diff_weights) {
        std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src_for_weights},
                                                {DNNL_ARG_DIFF_DST, diff},
                                                {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                                {DNNL_ARG_SCRATCHPAD, Scratchpad(pd.scratchpad_desc())}};
        if (has_bias)
          args.emplace(DNNL_ARG_DIFF_BIAS, memory(UserDesc(grad_bias), Engine(), grad_bias.data_ptr()));
        entry->backward_weights.execute(stream, args);
      });
    }
    stream.wait();
    return {grad_input, grad_weight, grad_bias};
  }
};
}  // namespace

void SetWinogradEnabled(bool enabled) { EnabledFlag() = enabled; }
bool WinogradEnabled() { return EnabledFlag(); }
void SetWinogradTrainingEnabled(bool enabled) { TrainingFlag() = enabled; }
bool WinogradTrainingEnabled() { return EnabledFlag() && TrainingFlag(); }
int64_t WinogradCalls() { return calls; }

std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl& conv,
                                             const torch::Tensor& input, bool relu) {
  const auto& o = conv.options;
  const torch::Tensor& weight = conv.weight;
  const bool training = torch::GradMode::is_enabled();
  if (training) ++training_generation;  // weights may change after this forward (see above)
  if (!EnabledFlag() || (training && !TrainingFlag()) || !input.is_cpu() ||
      input.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 ||
      input.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3 ||
      (*o.stride())[0] != 1 || (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 ||
      (*o.dilation())[1] != 1 || o.groups() != 1 || input.size(1) < kWinogradMinChannels)
    return std::nullopt;
  const auto* padding = variant::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr || (**padding)[0] != 1 || (**padding)[1] != 1 ||
      !variant::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()))
    return std::nullopt;
  if (training) {
    if (!WorthTrainingThroughWinograd(input.size(1), input.size(2), input.size(3)))
      return std::nullopt;
    const bool has_bias = conv.bias.defined();
    if (!TrainPrimitives(TrainKey{input.size(0), input.size(1), weight.size(0), input.size(2),
                                  input.size(3), has_bias})
             ->supported)
      return std::nullopt;
    const torch::Tensor x = Dense(input) ? input : input.contiguous();
    torch::Tensor output =
        WinogradConvFunction::apply(x, weight, has_bias ? c10::optional<torch::Tensor>(conv.bias)
                                                        : c10::optional<torch::Tensor>());
    // In place, as after torch's conv: the backward above does not read the output.
    if (relu) output = torch::relu_(output);
    return output;
  }

  const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
  const int64_t k = weight.size(0);
  // Keep the caller's layout: channels-last in, channels-last out.
  const torch::MemoryFormat format = LayoutOf(input);
  const bool channels_last = format == torch::MemoryFormat::ChannelsLast;
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

  const torch::Tensor x = input.contiguous(format);
  torch::Tensor output = torch::empty({n, k, h, w}, input.options().memory_format(format));
  dnnl::stream stream(Engine());
  torch::Tensor src_buffer;
  const memory src = InLayout(x, entry->pd.src_desc(), src_buffer, stream);
  const torch::Tensor bias = has_bias ? conv.bias.detach().contiguous() : torch::Tensor();
  IntoTensor(output, entry->pd.dst_desc(), stream, [&](const memory& dst) {
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, weights},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCRATCHPAD, Scratchpad(entry->pd.scratchpad_desc())}};
    if (has_bias) args.emplace(DNNL_ARG_BIAS, memory(UserDesc(bias), Engine(), bias.data_ptr()));
    entry->primitive.execute(stream, args);
  });
  stream.wait();
  ++calls;
  return output;
}

#else  // !SCRATCHDET_WITH_DNNL

void SetWinogradEnabled(bool) {}
bool WinogradEnabled() { return false; }
void SetWinogradTrainingEnabled(bool) {}
bool WinogradTrainingEnabled() { return false; }
int64_t WinogradCalls() { return 0; }
std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl&, const torch::Tensor&,
                                             bool) {
  return std::nullopt;
}

#endif  // SCRATCHDET_WITH_DNNL

}  // namespace scratchdet::model
