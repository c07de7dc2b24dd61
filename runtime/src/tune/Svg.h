// The little SVG the study report needs: scales with "nice" ticks, a
// sequential colour ramp, axes, legends and an element writer. Every number
// it writes goes through num(), so a nan or inf datum can shift a mark but
// never break the markup. The output is well-formed XML (inline in HTML5,
// without an xmlns: the page names no URL at all).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlcrt::tune::svg {

/// `s` with & < > " ' as entities: safe in HTML and XML text and attributes.
std::string escape(std::string_view s);

/// A coordinate: at most two decimals; a non-finite value writes 0.
std::string num(double v);

/// A value for people: `digits` significant digits, or nan / inf / -inf.
std::string value(double v, int digits = 6);

/// `s` cut to `max` characters (UTF-8 aware), with an ellipsis when cut.
std::string shorten(std::string_view s, size_t max);

/// Roughly how wide `s` is at `fontSize` in a sans-serif face.
double textWidth(std::string_view s, double fontSize = 12);

/// Whether values read better on a log axis: all positive, spanning more
/// than two decades.
bool wantsLog(const std::vector<double> &values);

struct Tick {
  double value;
  std::string label;
};

/// Data to pixels along one axis.
struct Scale {
  double lo = 0, hi = 1;    // the domain (both > 0 when log)
  double from = 0, to = 1;  // the pixels lo and hi land on
  bool log = false;

  double operator()(double v) const;
  /// Ticks inside the domain at 1, 2 or 5 × 10^k (linear; no closer than
  /// minStep) or at decades, with 2× and 5× when few decades show (log).
  std::vector<Tick> ticks(int target, double minStep = 0) const;
};

/// A scale over the finite values (the positive ones when log), widened
/// when they are all equal and, with `nice`, rounded out to tick values.
Scale fit(const std::vector<double> &values, bool log, double from, double to, bool nice);

/// The sequential ramp at t in [0, 1]: dark violet (0) to green-yellow (1),
/// a perceptually even scale (viridis) cut before its yellow end, which
/// would vanish on white paper.
std::string ramp(double t);

/// What a legend entry's sample looks like; its class gives it colour.
enum class Swatch { Dot, Ring, Cross, Line, Step };

class Canvas {
public:
  /// `label` becomes the SVG's <title> and aria-label.
  Canvas(double width, double height, std::string_view label);

  void line(double x1, double y1, double x2, double y2, std::string_view cls);
  void rect(double x, double y, double w, double h, std::string_view cls, std::string_view fill = {},
            std::string_view tip = {});
  void circle(double cx, double cy, double r, std::string_view cls, std::string_view tip = {});
  void cross(double x, double y, double r, std::string_view cls, std::string_view tip = {});
  void polyline(const std::vector<std::pair<double, double>> &points, std::string_view cls,
                std::string_view stroke = {}, std::string_view tip = {});
  /// anchor: start | middle | end; rotate: degrees about (x, y).
  void text(double x, double y, std::string_view s, std::string_view cls = {}, std::string_view anchor = "start",
            double rotate = 0);
  /// Markup written as is (the caller escapes): <defs>, <g> and </g>.
  void raw(std::string_view markup);

  /// A y axis at `left` with grid lines across to `right`, and its title.
  void yAxis(const Scale &y, double left, double right, std::string_view title);
  /// An x axis along `bottom`, and its title below.
  void xAxis(const Scale &x, double bottom, std::string_view title, double minStep = 0);
  /// One legend entry at (x, y); returns the x after it.
  double legend(double x, double y, Swatch swatch, std::string_view cls, std::string_view label);

  std::string finish();

private:
  std::string out_;
};

}  // namespace mlcrt::tune::svg
