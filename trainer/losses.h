#ifndef TRIPLETSTREAM_TRAINER_LOSSES_H_
#define TRIPLETSTREAM_TRAINER_LOSSES_H_

#include <torch/torch.h>

namespace tripletstream {

// mean(relu(|a - p| - |a - n| + margin)), Euclidean distances, rows of
// [B, D] tensors.
torch::Tensor TripletMarginLoss(const torch::Tensor& anchor, const torch::Tensor& positive,
                                const torch::Tensor& negative, double margin);

// Pairwise Euclidean distances of the rows of [N, D]: [N, N], numerically
// safe at 0 (gradient defined).
torch::Tensor PairwiseDistances(const torch::Tensor& embeddings);

// Batch-hard (Hermans et al. 2017): for every anchor, its farthest positive
// and nearest negative; mean(relu(d_ap - d_an + margin)). Anchors without a
// positive or a negative are ignored.
torch::Tensor BatchHardLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                            double margin);

// Batch-all: mean of relu(d_ap - d_an + margin) over valid (a, p, n) triplets
// whose loss is positive (0 if none is).
torch::Tensor BatchAllLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                           double margin);

// Normalized softmax (Zhai & Wu 2019, "classification is a strong baseline
// for deep metric learning"): cross-entropy of scale * cosines [N, classes]
// to the rows' labels [N] (int).
torch::Tensor NormSoftmaxLoss(const torch::Tensor& cosines, const torch::Tensor& labels,
                              double scale);

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_LOSSES_H_
