#include "trainer/losses.h"

namespace tripletstream {
namespace {

// [N, N] masks: positive[a][p] = same label and a != p; negative[a][n] =
// different label.
struct PairMasks {
  torch::Tensor positive, negative;
};

PairMasks MakePairMasks(const torch::Tensor& labels) {
  torch::Tensor same = labels.unsqueeze(0).eq(labels.unsqueeze(1));
  torch::Tensor eye = torch::eye(labels.size(0), same.options());
  return {same.logical_and(eye.logical_not()), same.logical_not()};
}

}  // namespace

torch::Tensor TripletMarginLoss(const torch::Tensor& anchor, const torch::Tensor& positive,
                                const torch::Tensor& negative, double margin) {
  torch::Tensor d_ap = (anchor - positive).pow(2).sum(1).clamp_min(1e-12).sqrt();
  torch::Tensor d_an = (anchor - negative).pow(2).sum(1).clamp_min(1e-12).sqrt();
  return torch::relu(d_ap - d_an + margin).mean();
}

torch::Tensor PairwiseDistances(const torch::Tensor& e) {
  torch::Tensor sq = e.pow(2).sum(1, /*keepdim=*/true);
  torch::Tensor d2 = (sq + sq.t() - 2 * e.matmul(e.t())).clamp_min(1e-12);
  return d2.sqrt();
}

torch::Tensor BatchHardLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                            double margin) {
  torch::Tensor d = PairwiseDistances(embeddings);
  auto [positive, negative] = MakePairMasks(labels);
  // Hardest positive: max over positives (others masked to 0).
  torch::Tensor hardest_p = (d * positive.to(d.dtype())).amax(1);
  // Hardest negative: min over negatives (others masked to +inf-ish).
  torch::Tensor big = d.max().detach() + 1;
  torch::Tensor hardest_n = torch::where(negative, d, big).amin(1);
  torch::Tensor valid = positive.any(1).logical_and(negative.any(1));
  if (!valid.any().item<bool>()) return (d * 0).sum();
  torch::Tensor losses = torch::relu(hardest_p - hardest_n + margin);
  return losses.masked_select(valid).mean();
}

torch::Tensor BatchAllLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                           double margin) {
  torch::Tensor d = PairwiseDistances(embeddings);
  auto [positive, negative] = MakePairMasks(labels);  // [a, p], [a, n]
  // loss[a, p, n] = d[a, p] - d[a, n] + margin
  torch::Tensor loss = d.unsqueeze(2) - d.unsqueeze(1) + margin;
  torch::Tensor valid = positive.unsqueeze(2).logical_and(negative.unsqueeze(1));
  torch::Tensor active = torch::relu(loss) * valid.to(loss.dtype());
  torch::Tensor count = (active > 1e-16).sum();
  if (count.item<int64_t>() == 0) return active.sum() * 0;
  return active.sum() / count.to(active.dtype());
}

torch::Tensor NormSoftmaxLoss(const torch::Tensor& cosines, const torch::Tensor& labels,
                              double scale) {
  return torch::nn::functional::cross_entropy(cosines * scale, labels.to(torch::kLong));
}

}  // namespace tripletstream
