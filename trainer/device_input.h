#ifndef TRIPLETSTREAM_TRAINER_DEVICE_INPUT_H_
#define TRIPLETSTREAM_TRAINER_DEVICE_INPUT_H_

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tripletstream/v1/tripletstream.pb.h"

namespace tripletstream {

// What staging a batch needs from a device: host buffers the device copies
// from fast (pinned on CUDA), an asynchronous copy on a side stream whose
// completion the compute stream waits for (not the host), and a way to know
// a host buffer's last copy is done before it is refilled. Written against
// LibTorch's device-generic API (StreamStagingDevice); tests substitute a
// recording fake, since the CPU device has no streams or events.
class StagingDevice {
 public:
  virtual ~StagingDevice() = default;
  // A host buffer of `bytes` for slot `slot`.
  virtual torch::Tensor HostBuffer(int slot, int64_t bytes) = 0;
  // Blocks the host until the last copy out of slot `slot` has finished.
  virtual void WaitCopied(int slot) = 0;
  // Starts copying `host` to the device on the side stream, records that
  // the copy of `slot` finished, and makes the compute stream wait for it.
  // The result may be used on the compute stream at once.
  virtual torch::Tensor CopyToDevice(int slot, const torch::Tensor& host) = 0;
};

// The device-generic implementation (CUDA, and any backend with streams and
// events): c10::impl::VirtualGuardImpl for the device's streams, c10::Event
// for ordering, Tensor::pin_memory for the host buffers.
std::unique_ptr<StagingDevice> MakeStreamStagingDevice(const torch::Device& device);

// Moves batches from their protobuf payloads to the training device through
// a ring of `slots` host buffers: batch n is copied into slot n mod slots
// (after that slot's previous copy finished), sent with one non-blocking
// copy on the side stream, and used by the step on the compute stream after
// an event, so the copy overlaps whatever the device is still computing.
class DeviceInput {
 public:
  DeviceInput(std::unique_ptr<StagingDevice> device, int slots);

  // For `device`: null on CPU, where the step's tensors view the message
  // bytes directly and nothing needs moving.
  static std::unique_ptr<DeviceInput> ForDevice(const torch::Device& device, int slots = 2);

  // The batch's data (float32, its shape) and labels (int32) on the device.
  std::pair<torch::Tensor, torch::Tensor> Stage(const v1::Batch& batch);

  int64_t staged() const { return staged_; }

 private:
  std::unique_ptr<StagingDevice> device_;
  std::vector<int64_t> capacity_;  // Bytes per slot's host buffer.
  std::vector<torch::Tensor> host_;
  int64_t staged_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_DEVICE_INPUT_H_
