// Multiply-accumulate counting of the convolutions a forward pass really runs (the C++
// frontend has no forward hooks, so every conv of the model zoo goes through CountedConv).
#pragma once

#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <set>

namespace scratchdet::model {

// While alive, counts MACs of CountedConv calls on this thread: Cout*Hout*Wout*Cin/groups*kh*kw
// per image of the batch. Counters nest; each counts what runs during its own lifetime.
class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;

  int64_t macs() const { return macs_; }  // summed over the batch
  // Distinct conv modules that ran (to check that no conv escaped the count).
  int64_t distinct_convs() const { return static_cast<int64_t>(convs_.size()); }

  void Add(const torch::nn::Conv2dImpl& conv, const torch::Tensor& output);

 private:
  MacCounter* parent_;
  int64_t macs_ = 0;
  std::set<const void*> convs_;
};

// conv->forward(input), then a ReLU when `relu`, counted by the active MacCounters. On the
// CPU, 3x3 convolutions run through Winograd where it pays, for inference with the ReLU fused
// (winograd_conv.h).
torch::Tensor CountedConv(torch::nn::Conv2d conv, const torch::Tensor& input, bool relu = false);

}  // namespace scratchdet::model
