#include "common/derived_channels.h"

#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tripletstream {
namespace {

// "rotationRate.x" -> {"rotationRate", 0}; -1 when not an axis name.
int AxisOf(const std::string& name, std::string* prefix) {
  if (name.size() < 3) return -1;
  const char sep = name[name.size() - 2];
  if (sep != '.' && sep != '_') return -1;
  const char axis = static_cast<char>(std::tolower(static_cast<unsigned char>(name.back())));
  if (axis < 'x' || axis > 'z') return -1;
  *prefix = name.substr(0, name.size() - 2);
  return axis - 'x';
}

std::string MagnitudeName(const std::vector<std::string>& prefixes) {
  return absl::StrCat("|", absl::StrJoin(prefixes, "+"), "|");
}

std::string TriadList(const std::vector<Triad>& triads) {
  std::vector<std::string> names;
  for (const Triad& t : triads) names.push_back(t.prefix);
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

const Triad* FindByPrefix(const std::vector<Triad>& triads, const std::string& prefix) {
  for (const Triad& t : triads) {
    if (t.prefix == prefix) return &t;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> ChannelPlan::names() const {
  std::vector<std::string> out;
  for (const Output& o : outputs) out.push_back(o.name);
  return out;
}

std::vector<Triad> FindTriads(const std::vector<std::string>& channel_names) {
  std::map<std::string, std::array<int, 3>> axes;
  std::vector<std::string> order;
  for (int c = 0; c < static_cast<int>(channel_names.size()); ++c) {
    std::string prefix;
    const int axis = AxisOf(channel_names[c], &prefix);
    if (axis < 0) continue;
    auto [it, added] = axes.try_emplace(prefix, std::array<int, 3>{-1, -1, -1});
    if (added) order.push_back(prefix);
    if (it->second[axis] < 0) it->second[axis] = c;
  }
  std::vector<Triad> triads;
  for (const std::string& prefix : order) {
    const auto& a = axes[prefix];
    if (a[0] >= 0 && a[1] >= 0 && a[2] >= 0) triads.push_back({prefix, {a[0], a[1], a[2]}});
  }
  return triads;
}

absl::StatusOr<ChannelPlan> PlanDerivedChannels(const std::vector<std::string>& channel_names,
                                                const DerivedChannelsConfig& config) {
  const std::vector<Triad> triads = FindTriads(channel_names);
  std::vector<ChannelPlan::Output> derived;
  std::set<int> feeding;  // Raw channels a magnitude is made of.
  if (config.magnitudes) {
    for (const Triad& t : triads) {
      derived.push_back({MagnitudeName({t.prefix}), -1, {{t.axes[0], t.axes[1], t.axes[2]}}});
      feeding.insert(t.axes, t.axes + 3);
    }
  }
  for (const std::string& sum : config.sums) {
    std::vector<std::string> prefixes = absl::StrSplit(sum, '+', absl::SkipEmpty());
    if (prefixes.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--magnitude_sums entry '", sum, "' must name two or more triads joined by '+'"));
    }
    ChannelPlan::Output out{MagnitudeName(prefixes), -1, {}};
    for (const std::string& prefix : prefixes) {
      const Triad* t = FindByPrefix(triads, prefix);
      if (t == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--magnitude_sums: no triad '", prefix, "' (x/y/z channels) among the channels; "
            "triads found: ", TriadList(triads)));
      }
      out.summed.push_back({t->axes[0], t->axes[1], t->axes[2]});
      feeding.insert(t->axes, t->axes + 3);
    }
    derived.push_back(std::move(out));
  }
  if (config.enabled() && derived.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--magnitudes: no sensor triads (channels ending in x, y, z after '.' or '_') among [",
        absl::StrJoin(channel_names, ", "), "]"));
  }
  ChannelPlan plan;
  for (int c = 0; c < static_cast<int>(channel_names.size()); ++c) {
    if (!config.keep_axes && feeding.count(c) > 0) continue;
    plan.outputs.push_back({channel_names[c], c, {}});
  }
  for (auto& d : derived) plan.outputs.push_back(std::move(d));
  return plan;
}

absl::StatusOr<ChannelPlan> PlanFromNames(const std::vector<std::string>& output_names,
                                          const std::vector<std::string>& channel_names) {
  const std::vector<Triad> triads = FindTriads(channel_names);
  ChannelPlan plan;
  for (const std::string& name : output_names) {
    if (name.size() > 2 && name.front() == '|' && name.back() == '|') {
      ChannelPlan::Output out{name, -1, {}};
      for (absl::string_view prefix :
           absl::StrSplit(name.substr(1, name.size() - 2), '+', absl::SkipEmpty())) {
        const Triad* t = FindByPrefix(triads, std::string(prefix));
        if (t == nullptr) {
          return absl::NotFoundError(absl::StrCat("channel ", name, " needs the triad ", prefix,
                                                  " (x/y/z columns); triads found: ",
                                                  TriadList(triads)));
        }
        out.summed.push_back({t->axes[0], t->axes[1], t->axes[2]});
      }
      plan.outputs.push_back(std::move(out));
      continue;
    }
    int found = -1;
    for (int c = 0; c < static_cast<int>(channel_names.size()) && found < 0; ++c) {
      if (channel_names[c] == name) found = c;
    }
    if (found < 0) return absl::NotFoundError(absl::StrCat("no column ", name));
    plan.outputs.push_back({name, found, {}});
  }
  return plan;
}

bool IsIdentity(const ChannelPlan& plan, int raw_channels) {
  if (static_cast<int>(plan.outputs.size()) != raw_channels) return false;
  for (int c = 0; c < raw_channels; ++c) {
    if (plan.outputs[c].raw != c) return false;
  }
  return true;
}

std::vector<float> ApplyPlan(const ChannelPlan& plan, int raw_channels,
                             const std::vector<float>& raw) {
  const int64_t rows = raw_channels > 0 ? static_cast<int64_t>(raw.size()) / raw_channels : 0;
  const int64_t out_channels = static_cast<int64_t>(plan.outputs.size());
  std::vector<float> out(static_cast<size_t>(rows * out_channels));
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = raw.data() + r * raw_channels;
    float* row = out.data() + r * out_channels;
    for (int64_t c = 0; c < out_channels; ++c) {
      const ChannelPlan::Output& o = plan.outputs[c];
      if (o.raw >= 0) {
        row[c] = in[o.raw];
        continue;
      }
      double sum[3] = {0, 0, 0};
      for (const auto& axes : o.summed) {
        for (int a = 0; a < 3; ++a) sum[a] += in[axes[a]];
      }
      row[c] = static_cast<float>(std::sqrt(sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]));
    }
  }
  return out;
}

void ApplyPlan(const ChannelPlan& plan, Dataset* dataset) {
  const int raw_channels = dataset->channels();
  for (Series& series : dataset->series) {
    series.values = ApplyPlan(plan, raw_channels, series.values);
  }
  dataset->channel_names = plan.names();
}

}  // namespace tripletstream
