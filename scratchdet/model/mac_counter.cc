#include "scratchdet/model/mac_counter.h"

#include "scratchdet/model/winograd_conv.h"

namespace scratchdet::model {

namespace {
thread_local MacCounter* active_counter = nullptr;
}  // namespace

MacCounter::MacCounter() : parent_(active_counter) { active_counter = this; }

MacCounter::~MacCounter() { active_counter = parent_; }

void MacCounter::Add(const torch::nn::Conv2dImpl& conv, const torch::Tensor& output) {
  const auto& weight = conv.weight;  // [Cout, Cin/groups, kh, kw]
  const int64_t per_output = weight.size(1) * weight.size(2) * weight.size(3);
  macs_ += output.numel() * per_output;
  convs_.insert(&conv);
  if (parent_ != nullptr) parent_->Add(conv, output);
}

torch::Tensor CountedConv(torch::nn::Conv2d conv, const torch::Tensor& input, bool relu) {
  // On the CPU, 3x3 convolutions through Winograd where it pays (winograd_conv.h).
  std::optional<torch::Tensor> fast = TryWinogradConv(*conv, input, relu);
  torch::Tensor output = fast ? std::move(*fast) : conv->forward(input);
  // In place, as torchvision's ReLU(inplace=True): the conv's backward does not read its output.
  if (relu && !fast) output = torch::relu_(output);
  if (active_counter != nullptr) active_counter->Add(*conv, output);
  return output;
}

}  // namespace scratchdet::model
