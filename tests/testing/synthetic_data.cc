#include "tests/testing/synthetic_data.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_format.h"

namespace tripletstream::testing {
namespace {

// SplitMix64 step: deterministic noise without <random>'s
// implementation-defined distributions.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Value of (user u, session s, row r, channel c).
class SignalGenerator {
 public:
  SignalGenerator(const SyntheticSpec& spec, int u, int s)
      : u_(u), state_(spec.seed * 1000003 + u * 7919 + s * 104729) {}
  double Next(int r, int c) {
    state_ = Mix(state_);
    double noise = (state_ >> 11) * (1.0 / 9007199254740992.0) - 0.5;
    double freq = 0.05 + 0.03 * u_ + 0.01 * c;
    return std::sin(freq * r + c) * (1.0 + 0.5 * u_) + 0.2 * u_ + 0.3 * noise;
  }

 private:
  int u_;
  uint64_t state_;
};

}  // namespace

int WriteSyntheticUsers(const std::string& root, const SyntheticSpec& spec) {
  int files = 0;
  for (int u = 0; u < spec.users; ++u) {
    for (int s = 0; s < spec.sessions_per_user; ++s) {
      std::filesystem::path dir =
          std::filesystem::path(root) / absl::StrFormat("user_%d", u);
      std::filesystem::create_directories(dir);
      std::ofstream out(dir / absl::StrFormat("session_%d.csv", s));
      for (int c = 0; c < spec.channels; ++c) {
        out << (c ? "," : "") << "c" << c;
      }
      out << "\n";
      SignalGenerator signal(spec, u, s);
      for (int r = 0; r < spec.rows_per_session; ++r) {
        for (int c = 0; c < spec.channels; ++c) {
          out << (c ? "," : "") << absl::StrFormat("%.6f", signal.Next(r, c));
        }
        out << "\n";
      }
      if (!out) throw std::runtime_error("cannot write synthetic data");
      ++files;
    }
  }
  return files;
}

Dataset MakeSyntheticDataset(const SyntheticSpec& spec) {
  Dataset d;
  for (int c = 0; c < spec.channels; ++c) d.channel_names.push_back(absl::StrFormat("c%d", c));
  for (int u = 0; u < spec.users; ++u) d.user_names.push_back(absl::StrFormat("user_%d", u));
  for (int s = 0; s < spec.sessions_per_user; ++s) {
    d.session_names.push_back(absl::StrFormat("session_%d", s));
  }
  for (int u = 0; u < spec.users; ++u) {
    for (int s = 0; s < spec.sessions_per_user; ++s) {
      Series series;
      series.user = u;
      series.session = s;
      SignalGenerator signal(spec, u, s);
      for (int r = 0; r < spec.rows_per_session; ++r) {
        for (int c = 0; c < spec.channels; ++c) {
          series.values.push_back(static_cast<float>(signal.Next(r, c)));
        }
      }
      d.series.push_back(std::move(series));
    }
  }
  return d;
}

}  // namespace tripletstream::testing
