#include "src/tune/Svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>

namespace mlcrt::tune::svg {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8Length(std::string_view s, size_t i) {
  auto c = uint8_t(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return 0;
  auto next = uint8_t(s[i + 1 < s.size() ? i + 1 : i]);
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF: not
  // characters, and an XML reader rejects them.
  if ((n == 2 && c < 0xC2) || (n == 3 && c == 0xE0 && next < 0xA0) || (n == 3 && c == 0xED && next >= 0xA0) ||
      (n == 4 && ((c == 0xF0 && next < 0x90) || (c == 0xF4 && next >= 0x90) || c > 0xF4)))
    return 0;
  return n;
}

// `1e-05` -> `1e-5`, `1e+06` -> `1e6`.
std::string cleanExponent(std::string s) {
  size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  bool negative = !exponent.empty() && exponent[0] == '-';
  size_t digits = exponent.find_first_not_of("+-0");
  return mantissa + "e" + (negative ? "-" : "") + (digits == std::string::npos ? "0" : exponent.substr(digits));
}

double niceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  double base = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * base >= raw * (1 - 1e-9)) return m * base;
  return 10 * base;
}

std::string linearLabel(double v, double step) {
  if (std::fabs(v) < step * 1e-9) return "0";
  double magnitude = std::max(std::fabs(v), step);
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    int digits = std::clamp(int(std::floor(std::log10(magnitude)) - std::floor(std::log10(step))), 0, 6);
    return cleanExponent(fmt::format("{:.{}e}", v, digits));
  }
  int decimals = step >= 1 ? 0 : std::clamp(int(std::ceil(-std::log10(step) - 1e-9)), 0, 12);
  return fmt::format("{:.{}f}", v, decimals);
}

std::vector<Tick> linearTicks(double lo, double hi, int target, double minStep) {
  double step = std::max(niceStep((hi - lo) / std::max(target, 1)), minStep);
  std::vector<Tick> ticks;
  double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  if (!std::isfinite(first) || !std::isfinite(last) || last - first > 1000) return ticks;
  for (double k = first; k <= last; ++k) {
    double v = k * step;
    if (std::fabs(v) < step * 1e-9) v = 0;
    ticks.push_back({v, linearLabel(v, step)});
  }
  return ticks;
}

std::vector<Tick> logTicks(double lo, double hi, int target) {
  double lo10 = std::log10(lo), hi10 = std::log10(hi), decades = hi10 - lo10;
  std::vector<double> multiples = decades <= 2.5 ? std::vector<double>{1, 2, 5} : std::vector<double>{1};
  int stride = std::max(1, int(std::ceil(decades / std::max(target, 1))));
  std::vector<Tick> ticks;
  for (int k = int(std::floor(lo10)); k <= int(std::ceil(hi10)); ++k) {
    if (k % stride != 0) continue;
    for (double m : multiples) {
      double v = m * std::pow(10, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back({v, cleanExponent(fmt::format("{:g}", v))});
    }
  }
  // Less than a decade with no 1-2-5 value inside: linear ticks still land
  // where they say on a log axis.
  return ticks.size() >= 2 ? ticks : linearTicks(lo, hi, target, 0);
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8Length(s, i);
    char c = s[i];
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD: invalid UTF-8 would make the page unreadable as XML
      ++i;
      continue;
    }
    if (n == 1) {
      switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters (a log's colour codes) are not allowed in XML.
        if (uint8_t(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += "\xEF\xBF\xBD";
        else out += c;
      }
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.2f}", v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string value(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return cleanExponent(fmt::format("{:.{}g}", v, digits));
}

std::string shorten(std::string_view s, size_t max) {
  size_t chars = 0, cut = 0;
  for (size_t i = 0; i < s.size(); i += std::max<size_t>(1, utf8Length(s, i))) {
    if (chars + 1 == max) cut = i;
    ++chars;
  }
  if (chars <= max) return std::string(s);
  return std::string(s.substr(0, cut)) + "\xE2\x80\xA6";
}

double textWidth(std::string_view s, double fontSize) {
  double chars = 0;
  for (size_t i = 0; i < s.size(); i += std::max<size_t>(1, utf8Length(s, i))) ++chars;
  return chars * fontSize * 0.58;
}

bool wantsLog(const std::vector<double> &values) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (v <= 0) return false;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  return lo <= hi && hi / lo > 100;
}

double Scale::operator()(double v) const {
  double t = 0.5;
  if (log) {
    double a = std::log10(lo), b = std::log10(hi);
    if (b > a) t = (std::log10(std::max(v, lo * 1e-300)) - a) / (b - a);
  } else if (hi > lo) {
    t = (v - lo) / (hi - lo);
  }
  return from + t * (to - from);
}

std::vector<Tick> Scale::ticks(int target, double minStep) const {
  return log ? logTicks(lo, hi, target) : linearTicks(lo, hi, target, minStep);
}

Scale fit(const std::vector<double> &values, bool log, double from, double to, bool nice) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v) && (!log || v > 0)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = log ? 1 : 0, hi = log ? 10 : 1;
  if (lo == hi) {
    if (log) lo /= 2, hi *= 2;
    else {
      double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
      lo -= d, hi += d;
    }
  }
  if (nice && log && hi / lo > 10) {
    lo = std::pow(10, std::floor(std::log10(lo) + 1e-9));
    hi = std::pow(10, std::ceil(std::log10(hi) - 1e-9));
  } else if (nice && !log) {
    double step = niceStep((hi - lo) / 10);  // finer than the ticks: little empty margin
    lo = std::floor(lo / step + 1e-9) * step;
    hi = std::ceil(hi / step - 1e-9) * step;
  }
  return Scale{lo, hi, from, to, log};
}

std::string ramp(double t) {
  static const std::array<uint32_t, 11> viridis = {0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
                                                   0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725};
  double x = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 0.82 * double(viridis.size() - 1);
  size_t i = std::min(size_t(x), viridis.size() - 2);
  double f = x - double(i);
  auto channel = [&](int shift) {
    double a = double((viridis[i] >> shift) & 0xFF), b = double((viridis[i + 1] >> shift) & 0xFF);
    return int(std::lround(a + (b - a) * f));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", channel(16), channel(8), channel(0));
}

Canvas::Canvas(double width, double height, std::string_view label) {
  std::string l = escape(label);
  out_ = fmt::format("<svg class=\"plot\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
                     "aria-label=\"{2}\"><title>{2}</title>\n",
                     num(width), num(height), l);
}

namespace {

std::string classAttr(std::string_view cls) {
  return cls.empty() ? std::string() : fmt::format(" class=\"{}\"", escape(cls));
}

// Closes an element, with a <title> child (a hover tooltip) when given.
std::string close(std::string_view tag, std::string_view tip) {
  return tip.empty() ? "/>\n" : fmt::format("><title>{}</title></{}>\n", escape(tip), tag);
}

}  // namespace

void Canvas::line(double x1, double y1, double x2, double y2, std::string_view cls) {
  fmt::format_to(std::back_inserter(out_), "<line{} x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", classAttr(cls),
                 num(x1), num(y1), num(x2), num(y2));
}

void Canvas::rect(double x, double y, double w, double h, std::string_view cls, std::string_view fill,
                  std::string_view tip) {
  std::string f = fill.empty() ? std::string() : fmt::format(" fill=\"{}\"", escape(fill));
  fmt::format_to(std::back_inserter(out_), "<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}{}",
                 classAttr(cls), num(x), num(y), num(std::max(w, 0.0)), num(std::max(h, 0.0)), f, close("rect", tip));
}

void Canvas::circle(double cx, double cy, double r, std::string_view cls, std::string_view tip) {
  fmt::format_to(std::back_inserter(out_), "<circle{} cx=\"{}\" cy=\"{}\" r=\"{}\"{}", classAttr(cls), num(cx),
                 num(cy), num(r), close("circle", tip));
}

void Canvas::cross(double x, double y, double r, std::string_view cls, std::string_view tip) {
  fmt::format_to(std::back_inserter(out_), "<path{} d=\"M{} {}L{} {}M{} {}L{} {}\"{}", classAttr(cls), num(x - r),
                 num(y - r), num(x + r), num(y + r), num(x - r), num(y + r), num(x + r), num(y - r),
                 close("path", tip));
}

void Canvas::polyline(const std::vector<std::pair<double, double>> &points, std::string_view cls,
                      std::string_view stroke, std::string_view tip) {
  std::string p;
  for (const auto &[x, y] : points) p += (p.empty() ? "" : " ") + num(x) + "," + num(y);
  std::string s = stroke.empty() ? std::string() : fmt::format(" stroke=\"{}\"", escape(stroke));
  fmt::format_to(std::back_inserter(out_), "<polyline{} points=\"{}\"{}{}", classAttr(cls), p, s,
                 close("polyline", tip));
}

void Canvas::text(double x, double y, std::string_view s, std::string_view cls, std::string_view anchor,
                  double rotate) {
  std::string a = anchor == "start" ? std::string() : fmt::format(" text-anchor=\"{}\"", escape(anchor));
  std::string r = rotate == 0 ? std::string()
                              : fmt::format(" transform=\"rotate({} {} {})\"", num(rotate), num(x), num(y));
  fmt::format_to(std::back_inserter(out_), "<text{} x=\"{}\" y=\"{}\"{}{}>{}</text>\n", classAttr(cls), num(x), num(y),
                 a, r, escape(s));
}

void Canvas::raw(std::string_view markup) { out_ += markup; }

void Canvas::yAxis(const Scale &y, double left, double right, std::string_view title) {
  double labelWidth = 0;
  for (const Tick &t : y.ticks(5)) {
    double py = y(t.value);
    line(left, py, right, py, "grid");
    text(left - 6, py + 4, t.label, "tick", "end");
    labelWidth = std::max(labelWidth, textWidth(t.label, 11));
  }
  text(left - labelWidth - 16, (y.from + y.to) / 2, title, "label", "middle", -90);
}

void Canvas::xAxis(const Scale &x, double bottom, std::string_view title, double minStep) {
  for (const Tick &t : x.ticks(8, minStep)) {
    double px = x(t.value);
    line(px, bottom, px, bottom + 5, "axis");
    text(px, bottom + 18, t.label, "tick", "middle");
  }
  text((x.from + x.to) / 2, bottom + 38, title, "label", "middle");
}

double Canvas::legend(double x, double y, Swatch swatch, std::string_view cls, std::string_view label) {
  switch (swatch) {
  case Swatch::Dot:
  case Swatch::Ring: circle(x + 9, y, 4, cls); break;
  case Swatch::Cross: cross(x + 9, y, 4, cls); break;
  case Swatch::Line: line(x, y, x + 18, y, cls); break;
  case Swatch::Step: polyline({{x, y + 4}, {x + 9, y + 4}, {x + 9, y - 4}, {x + 18, y - 4}}, cls); break;
  }
  text(x + 24, y + 4, label, "legend");
  return x + 24 + textWidth(label) + 16;
}

std::string Canvas::finish() { return out_ + "</svg>\n"; }

}  // namespace mlcrt::tune::svg
