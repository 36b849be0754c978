#include "trainer/device_input.h"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <cstring>

namespace tripletstream {
namespace {

class StreamStagingDevice final : public StagingDevice {
 public:
  explicit StreamStagingDevice(const torch::Device& device)
      : device_(device), impl_(device.type()), copy_stream_(impl_.getStreamFromGlobalPool(device)) {}

  torch::Tensor HostBuffer(int slot, int64_t bytes) override {
    Grow(slot);
    // Page-locked, so the copy engine reads it directly and the copy can
    // run asynchronously.
    return torch::empty({bytes}, torch::kUInt8).pin_memory();
  }

  void WaitCopied(int slot) override {
    Grow(slot);
    if (!copied_[slot] || copied_[slot]->query()) return;
    impl_.synchronizeStream(copy_stream_);
  }

  torch::Tensor CopyToDevice(int slot, const torch::Tensor& host) override {
    Grow(slot);
    const c10::Stream compute = impl_.getStream(device_);
    torch::Tensor on_device;
    {
      c10::StreamGuard on_copy_stream(copy_stream_);
      on_device = host.to(device_, /*non_blocking=*/true);
    }
    copied_[slot] = std::make_unique<c10::Event>(device_.type());
    copied_[slot]->record(copy_stream_);
    copied_[slot]->block(compute);
    // Allocated on the copy stream, used and freed on the compute stream:
    // the caching allocator must not hand its memory out again before the
    // compute stream is done with it.
    impl_.recordDataPtrOnStream(on_device.storage().data_ptr(), compute);
    return on_device;
  }

 private:
  void Grow(int slot) {
    if (static_cast<int>(copied_.size()) <= slot) copied_.resize(slot + 1);
  }

  const torch::Device device_;
  const c10::impl::VirtualGuardImpl impl_;
  const c10::Stream copy_stream_;
  std::vector<std::unique_ptr<c10::Event>> copied_;
};

int64_t AlignUp(int64_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

std::unique_ptr<StagingDevice> MakeStreamStagingDevice(const torch::Device& device) {
  return std::make_unique<StreamStagingDevice>(device);
}

DeviceInput::DeviceInput(std::unique_ptr<StagingDevice> device, int slots)
    : device_(std::move(device)), capacity_(std::max(slots, 1), 0), host_(std::max(slots, 1)) {}

std::unique_ptr<DeviceInput> DeviceInput::ForDevice(const torch::Device& device, int slots) {
  if (device.is_cpu()) return nullptr;
  return std::make_unique<DeviceInput>(MakeStreamStagingDevice(device), slots);
}

std::pair<torch::Tensor, torch::Tensor> DeviceInput::Stage(const v1::Batch& batch) {
  const int slot = static_cast<int>(staged_ % static_cast<int64_t>(host_.size()));
  const int64_t data_bytes = static_cast<int64_t>(batch.data().size());
  const int64_t label_offset = AlignUp(data_bytes);
  const int64_t label_bytes = static_cast<int64_t>(batch.labels_size()) * 4;
  const int64_t total = label_offset + label_bytes;
  // The slot's previous batch must have left the host buffer.
  device_->WaitCopied(slot);
  if (capacity_[slot] < total) {
    host_[slot] = device_->HostBuffer(slot, total);
    capacity_[slot] = total;
  }
  auto* bytes = static_cast<uint8_t*>(host_[slot].data_ptr());
  std::memcpy(bytes, batch.data().data(), data_bytes);
  std::memcpy(bytes + label_offset, batch.labels().data(), label_bytes);
  torch::Tensor on_device = device_->CopyToDevice(slot, host_[slot].narrow(0, 0, total));
  ++staged_;
  std::vector<int64_t> shape(batch.shape().begin(), batch.shape().end());
  torch::Tensor data = on_device.narrow(0, 0, data_bytes).view(torch::kFloat32).view(shape);
  torch::Tensor labels = on_device.narrow(0, label_offset, label_bytes).view(torch::kInt32);
  return {data, labels};
}

}  // namespace tripletstream
