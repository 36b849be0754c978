#include "common/derived_channels.h"

#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/gravity_frame.h"

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

using Frame = ChannelPlan::Output::Frame;

std::string FrameName(Frame frame, const std::string& triad, const std::string& reference,
                      int span) {
  return absl::StrCat(frame == Frame::kVertical ? "vertical(" : "horizontal(", triad, ";",
                      reference, ",", span, ")");
}

// "vertical(gyro;acc,128)" -> kVertical, "gyro", "acc", 128; kNone when the
// name is not a gravity-frame channel.
Frame ParseFrameName(const std::string& name, std::string* triad, std::string* reference,
                     int* span) {
  Frame frame = Frame::kNone;
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "vertical(")) {
    frame = Frame::kVertical;
  } else if (absl::ConsumePrefix(&rest, "horizontal(")) {
    frame = Frame::kHorizontal;
  }
  if (frame == Frame::kNone || !absl::ConsumeSuffix(&rest, ")")) return Frame::kNone;
  const size_t semicolon = rest.rfind(';');
  const size_t comma = rest.rfind(',');
  if (semicolon == absl::string_view::npos || comma == absl::string_view::npos ||
      comma < semicolon || !absl::SimpleAtoi(rest.substr(comma + 1), span) || *span < 1) {
    return Frame::kNone;
  }
  *triad = std::string(rest.substr(0, semicolon));
  *reference = std::string(rest.substr(semicolon + 1, comma - semicolon - 1));
  return frame;
}

std::array<int, 3> AxesOf(const Triad& t) { return {t.axes[0], t.axes[1], t.axes[2]}; }

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

absl::Status ResolveGravityTriad(const Dataset& dataset, DerivedChannelsConfig* config,
                                 std::string* summary) {
  std::string ignored;
  if (summary == nullptr) summary = &ignored;
  summary->clear();
  if (config->gravity_frame == GravityFrameMode::kOff) return absl::OkStatus();
  const std::vector<Triad> triads = FindTriads(dataset.channel_names);
  if (!config->gravity_triad.empty()) {
    if (FindByPrefix(triads, config->gravity_triad) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--gravity_triad=", config->gravity_triad,
          ": no such triad (x/y/z channels); triads found: ", TriadList(triads)));
    }
    *summary = absl::StrCat("gravity frame: vertical from the mean of ", config->gravity_triad,
                            " over ", config->gravity_span, " rows (--gravity_triad)");
    return absl::OkStatus();
  }
  std::vector<std::string> prefixes;
  std::vector<std::array<int, 3>> axes;
  for (const Triad& t : triads) {
    prefixes.push_back(t.prefix);
    axes.push_back(AxesOf(t));
  }
  const std::vector<GravityScore> scores = ScoreGravityTriads(dataset, prefixes, axes);
  std::vector<std::string> listed;
  const GravityScore* best = nullptr;
  for (const GravityScore& s : scores) {
    listed.push_back(absl::StrFormat("%s %.2f", s.prefix, s.score));
    if (best == nullptr || s.score > best->score) best = &s;
  }
  const std::string table = listed.empty() ? "no triads" : absl::StrJoin(listed, ", ");
  if (best == nullptr || best->score < kMinGravityScore) {
    const std::string why = absl::StrFormat(
        "no triad carries gravity (steady share of each triad, %.1f needed: %s)",
        kMinGravityScore, table);
    if (config->gravity_frame == GravityFrameMode::kOn) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--gravity_frame=on: ", why, "; name one with --gravity_triad"));
    }
    config->gravity_frame = GravityFrameMode::kOff;
    *summary = absl::StrCat("gravity frame off: ", why, "; channels used as they are");
    return absl::OkStatus();
  }
  config->gravity_triad = best->prefix;
  *summary = absl::StrCat("gravity frame: every triad as its vertical component and horizontal "
                          "magnitude, the vertical from the mean of ", best->prefix, " over ",
                          config->gravity_span, " rows (steady share: ", table, ")");
  return absl::OkStatus();
}

absl::StatusOr<ChannelPlan> PlanDerivedChannels(const std::vector<std::string>& channel_names,
                                                const DerivedChannelsConfig& config) {
  const std::vector<Triad> triads = FindTriads(channel_names);
  std::vector<ChannelPlan::Output> derived;
  std::set<int> feeding;  // Raw channels a magnitude is made of.
  std::set<int> framed;   // Raw channels expressed in the gravity frame.
  if (config.gravity_frame != GravityFrameMode::kOff) {
    const Triad* reference = FindByPrefix(triads, config.gravity_triad);
    if (reference == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gravity frame: no reference triad '", config.gravity_triad,
          "' (x/y/z channels); triads found: ", TriadList(triads)));
    }
    if (config.gravity_span < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("gravity frame: span must be >= 1 row, got ", config.gravity_span));
    }
    for (const Triad& t : triads) {
      for (Frame frame : {Frame::kVertical, Frame::kHorizontal}) {
        ChannelPlan::Output out{
            FrameName(frame, t.prefix, reference->prefix, config.gravity_span), -1, {AxesOf(t)}};
        out.frame = frame;
        out.reference = AxesOf(*reference);
        out.span = config.gravity_span;
        derived.push_back(std::move(out));
      }
      framed.insert(t.axes, t.axes + 3);
    }
  }
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
    if (framed.count(c) > 0) continue;
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
    std::string triad, reference;
    int span = 0;
    if (const Frame frame = ParseFrameName(name, &triad, &reference, &span);
        frame != Frame::kNone) {
      const Triad* v = FindByPrefix(triads, triad);
      const Triad* g = FindByPrefix(triads, reference);
      if (v == nullptr || g == nullptr) {
        return absl::NotFoundError(absl::StrCat("channel ", name, " needs the triads ", triad,
                                                " and ", reference,
                                                " (x/y/z columns); triads found: ",
                                                TriadList(triads)));
      }
      ChannelPlan::Output out{name, -1, {AxesOf(*v)}};
      out.frame = frame;
      out.reference = AxesOf(*g);
      out.span = span;
      plan.outputs.push_back(std::move(out));
      continue;
    }
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

bool IsDerivedChannelName(const std::string& name) {
  std::string triad, reference;
  int span = 0;
  return (name.size() > 2 && name.front() == '|' && name.back() == '|') ||
         ParseFrameName(name, &triad, &reference, &span) != Frame::kNone;
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
  // The unit vertical of every row, per (reference, span) in the plan.
  std::map<std::pair<std::array<int, 3>, int>, std::vector<float>> verticals;
  std::vector<const std::vector<float>*> up(out_channels, nullptr);
  for (int64_t c = 0; c < out_channels; ++c) {
    const ChannelPlan::Output& o = plan.outputs[c];
    if (o.frame == ChannelPlan::Output::Frame::kNone) continue;
    auto [it, added] = verticals.try_emplace({o.reference, o.span});
    if (added) it->second = VerticalDirections(raw, raw_channels, o.reference, o.span);
    up[c] = &it->second;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = raw.data() + r * raw_channels;
    float* row = out.data() + r * out_channels;
    for (int64_t c = 0; c < out_channels; ++c) {
      const ChannelPlan::Output& o = plan.outputs[c];
      if (o.raw >= 0) {
        row[c] = in[o.raw];
        continue;
      }
      if (up[c] != nullptr) {
        const float* u = up[c]->data() + 3 * r;
        const auto& axes = o.summed[0];
        const double v[3] = {in[axes[0]], in[axes[1]], in[axes[2]]};
        const double along = v[0] * u[0] + v[1] * u[1] + v[2] * u[2];
        if (o.frame == ChannelPlan::Output::Frame::kVertical) {
          row[c] = static_cast<float>(along);
        } else {
          double across = 0;
          for (int a = 0; a < 3; ++a) across += (v[a] - along * u[a]) * (v[a] - along * u[a]);
          row[c] = static_cast<float>(std::sqrt(across));
        }
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
