#ifndef TRIPLETSTREAM_TRAINER_RECEIVED_TALLY_H_
#define TRIPLETSTREAM_TRAINER_RECEIVED_TALLY_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/batch_receiver.h"

namespace tripletstream {

// Batches received per server and stream re-opens over a run whose epochs
// each have their own BatchReceiver and possibly their own server list.
class ReceivedTally {
 public:
  // Adds a finished receiver's counts for good.
  void Fold(const std::vector<std::string>& servers, const ReceiverStats& stats) {
    Add(servers, stats, &names_, &counts_);
    reconnects_ += stats.reconnects;
  }
  // The totals including the current receiver; returns reconnects.
  int64_t Snapshot(const std::vector<std::string>& servers, const ReceiverStats& current,
                   std::vector<std::string>* names, std::vector<int64_t>* counts) const {
    *names = names_;
    *counts = counts_;
    Add(servers, current, names, counts);
    return reconnects_ + current.reconnects;
  }

 private:
  static void Add(const std::vector<std::string>& servers, const ReceiverStats& stats,
                  std::vector<std::string>* names, std::vector<int64_t>* counts) {
    for (size_t i = 0; i < servers.size() && i < stats.batches_per_server.size(); ++i) {
      auto it = std::find(names->begin(), names->end(), servers[i]);
      if (it == names->end()) {
        names->push_back(servers[i]);
        counts->push_back(stats.batches_per_server[i]);
      } else {
        (*counts)[it - names->begin()] += stats.batches_per_server[i];
      }
    }
  }

  std::vector<std::string> names_;
  std::vector<int64_t> counts_;
  int64_t reconnects_ = 0;
};

}  // namespace tripletstream

#endif  // TRIPLETSTREAM_TRAINER_RECEIVED_TALLY_H_
