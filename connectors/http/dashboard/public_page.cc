#include "connectors/http/dashboard/public_page.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "connectors/http/dashboard/assets.h"
#include "connectors/http/problem.h"
#include "connectors/http/public_cache.h"
#include "connectors/http/route_params.h"
#include "events/check.h"
#include "events/identifier.h"
#include "projections/paging.h"
#include "projections/public_view.h"

namespace homeward::connectors::http::dashboard {
namespace {

using nlohmann::ordered_json;

std::string esc(std::string_view text) { return html_escape(text); }

// A member's text as the API gives it: strings as they are, numbers as JSON
// writes them, null as empty.
std::string text_of(const ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  auto number = [](std::string_view part, auto& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size();
  };
  if (!number(text.substr(0, 4), y) || !number(text.substr(5, 2), m) ||
      !number(text.substr(8, 2), d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(m),
                                        std::chrono::day(d)};
  if (!day.ok()) return std::nullopt;
  return std::chrono::sys_days(day);
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// An amount string of the API ("-12.50") as minor units, for the chart's
// geometry only (what the page prints is always the API's string).
double amount_value(std::string_view text) {
  double sign = 1;
  if (text.starts_with('-')) {
    sign = -1;
    text.remove_prefix(1);
  }
  double value = 0;
  for (const char c : text) {
    if (c >= '0' && c <= '9') value = value * 10 + (c - '0');
  }
  return sign * value;
}

// One figure of the impact report: <div><dt>label</dt><dd data-stat=key>value</dd></div>.
std::string stat_figure(std::string_view label, std::string_view key, std::string_view value,
                        std::string_view note = {}) {
  return fmt::format(
      "<div class=\"figure\"><dt>{}</dt><dd><span class=\"value\" data-stat=\"{}\">{}</span>{}"
      "</dd></div>\n",
      label, key, esc(value), note);
}

std::string render_impact(const ordered_json& stats) {
  const ordered_json& cases = stats.at("cases");
  std::string html;
  html += "<section id=\"impact\" class=\"impact\" aria-labelledby=\"impact-title\">\n";
  html += "<h2 id=\"impact-title\">Impact</h2>\n<dl class=\"figures\">\n";
  html += stat_figure("Donations", "donations", text_of(stats.at("donations")));
  html += stat_figure("Donors", "donors", text_of(stats.at("donors")));
  html += stat_figure(
      "Cases fully funded", "cases.ever_fully_funded", text_of(cases.at("ever_fully_funded")),
      fmt::format(" <span class=\"of\">of <span data-stat=\"cases.total\">{}</span></span>",
                  esc(text_of(cases.at("total")))));
  const ordered_json& median = stats.at("median_days_to_fully_funded");
  html += fmt::format(
      "<div class=\"figure\"><dt>Median days to fully funded</dt><dd><span class=\"value\" "
      "data-stat=\"median_days_to_fully_funded\"{}>{}</span></dd></div>\n",
      median.is_null() ? " data-null=\"\"" : "",
      median.is_null() ? "none yet" : esc(text_of(median)));
  html += "</dl>\n";
  html += fmt::format(
      "<p class=\"now\">Now: <span data-stat=\"cases.open\">{}</span> open, "
      "<span data-stat=\"cases.funded\">{}</span> funded, "
      "<span data-stat=\"cases.closed\">{}</span> closed.</p>\n",
      esc(text_of(cases.at("open"))), esc(text_of(cases.at("funded"))),
      esc(text_of(cases.at("closed"))));
  html +=
      "<table class=\"currencies\">\n<caption>Money raised per currency</caption>\n"
      "<thead><tr><th scope=\"col\">Currency</th><th scope=\"col\">Raised</th>"
      "<th scope=\"col\">Goals of the cases not closed</th></tr></thead>\n<tbody>\n";
  for (const auto& [code, figures] : stats.at("by_currency").items()) {
    html += fmt::format(
        "<tr data-currency=\"{0}\"><th scope=\"row\">{0}</th>"
        "<td><span class=\"amount\" data-stat=\"by_currency.{0}.raised\">{1}</span></td>"
        "<td><span class=\"amount\" data-stat=\"by_currency.{0}.goal\">{2}</span></td></tr>\n",
        esc(code), esc(text_of(figures.at("raised"))), esc(text_of(figures.at("goal"))));
  }
  html += "</tbody>\n</table>\n</section>\n";
  return html;
}

std::string render_chart(std::string_view code, const ordered_json& series) {
  // The plot area inside a 640 x 200 view box; the SVG scales to its box.
  constexpr double kLeft = 4;
  constexpr double kRight = 636;
  constexpr double kTop = 8;
  constexpr double kBottom = 196;
  const std::string id = fmt::format("raised-{}", esc(code));
  if (series.empty()) {
    return fmt::format("<p class=\"empty\">No money raised in {} yet.</p>\n", esc(code));
  }
  const auto first = parse_day(series.front().at("day").get<std::string>());
  const auto last = parse_day(series.back().at("day").get<std::string>());
  if (!first || !last) return "";
  const double span_days = std::max<double>(1, (*last - *first).count());
  double low = 0;
  double high = 0;
  size_t high_index = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    const double total = amount_value(series[i].at("total").get<std::string>());
    low = std::min(low, total);
    if (total > high) {
      high = total;
      high_index = i;
    }
  }
  const double range = high - low > 0 ? high - low : 1;
  auto x_of = [&](const ordered_json& entry) {
    const auto day = parse_day(entry.at("day").get<std::string>());
    const double offset = (*day - *first).count();
    return kLeft + (kRight - kLeft) * offset / span_days;
  };
  auto y_of = [&](double value) { return kBottom - (kBottom - kTop) * (value - low) / range; };
  // Money raised by the end of each day: a step at each day with gifts.
  std::string steps;
  double previous_y = y_of(0);
  for (const ordered_json& entry : series) {
    const double x = x_of(entry);
    const double y = y_of(amount_value(entry.at("total").get<std::string>()));
    steps +=
        fmt::format("{}{:.1f},{:.1f} {:.1f},{:.1f}", steps.empty() ? "" : " ", x, previous_y, x, y);
    previous_y = y;
  }
  steps += fmt::format(" {:.1f},{:.1f}", kRight, previous_y);
  const std::string area = fmt::format("{:.1f},{:.1f} {} {:.1f},{:.1f}", x_of(series.front()),
                                       y_of(0), steps, kRight, y_of(0));
  const std::string top_label = series[high_index].at("total").get<std::string>();
  const std::string first_day = format_day(*first);
  const std::string last_day = format_day(*last);
  const std::string final_total = series.back().at("total").get<std::string>();
  // The labels are HTML around the SVG, which stretches to its box: text
  // inside it would stretch too, and shrink to nothing on a phone.
  std::string svg = fmt::format(
      "<p class=\"chart-top\"><span class=\"amount\">{11}</span> {1}</p>\n"
      "<svg class=\"chart\" viewBox=\"0 0 640 200\" role=\"img\" "
      "aria-labelledby=\"{0}-title {0}-desc\" preserveAspectRatio=\"none\">\n"
      "<title id=\"{0}-title\">Money raised in {1}, by day</title>\n"
      "<desc id=\"{0}-desc\">From {2} to {3}: {4} {1} raised in all.</desc>\n"
      "<line class=\"axis\" x1=\"{5}\" y1=\"{7:.1f}\" x2=\"{6}\" y2=\"{7:.1f}\"/>\n"
      "<line class=\"grid\" x1=\"{5}\" y1=\"{8:.1f}\" x2=\"{6}\" y2=\"{8:.1f}\"/>\n"
      "<polygon class=\"area\" points=\"{9}\"/>\n"
      "<polyline class=\"line\" points=\"{10}\"/>\n"
      "</svg>\n"
      "<p class=\"chart-axis\"><span>{2}</span><span>{3}</span></p>\n",
      id, esc(code), first_day, last_day, esc(final_total), kLeft, kRight, y_of(0), y_of(high),
      area, steps, esc(top_label));
  return svg;
}

std::string render_case(const ordered_json& c, std::chrono::sys_days today) {
  const std::string id = c.at("case_id").get<std::string>();
  const std::string currency = esc(c.at("currency").get<std::string>());
  const std::string html_id = "case-" + esc(id);
  const ordered_json& funded_on = c.at("fully_funded_on");
  const ordered_json& closed_on = c.at("closed_on");
  const std::string opened_on = c.at("opened_on").get<std::string>();
  // Days open: to the day it closed, or to today; never below zero (a case
  // dated ahead of the server's clock).
  const std::string end = closed_on.is_null() ? format_day(today) : closed_on.get<std::string>();
  const int64_t days_open = std::max<int64_t>(0, days_between(opened_on, end).value_or(0));
  const int64_t percent = c.at("percent_funded").get<int64_t>();
  std::string budget;
  for (const auto& [category, amount] : c.at("budget").items()) {
    budget += fmt::format(
        "<li data-category=\"{0}\"><span class=\"category\">{0}</span> "
        "<span class=\"amount\">{1}</span> <span class=\"currency\">{2}</span></li>",
        esc(category), esc(text_of(amount)), currency);
  }
  return fmt::format(
      "<li class=\"case status-{2}\" id=\"{0}\" data-case-id=\"{1}\">\n"
      "<article aria-labelledby=\"{0}-title\">\n"
      "<header><h3 id=\"{0}-title\">{1}</h3>\n"
      "<p class=\"badges\"><span class=\"badge status\" data-field=\"status\">{2}</span>"
      "<span class=\"badge funded\" data-show=\"fully_funded_on\"{3}>Fully funded on "
      "<span data-field=\"fully_funded_on\">{4}</span></span>"
      "<span class=\"badge closed\" data-show=\"closed_on\"{5}>Closed on "
      "<span data-field=\"closed_on\">{6}</span></span></p></header>\n"
      "<progress max=\"100\" value=\"{7}\" aria-labelledby=\"{0}-title {0}-percent\"></progress>\n"
      "<p class=\"percent\" id=\"{0}-percent\"><span data-field=\"percent_funded\">{8}</span>% "
      "of the goal raised</p>\n"
      "<dl class=\"figures\">\n"
      "<div><dt>Goal</dt><dd><span class=\"amount\" data-field=\"goal\">{9}</span> "
      "<span class=\"currency\" data-field=\"currency\">{10}</span></dd></div>\n"
      "<div><dt>Raised</dt><dd><span class=\"amount\" data-field=\"raised\">{11}</span> "
      "<span class=\"currency\" data-field=\"currency\">{10}</span></dd></div>\n"
      "<div><dt>Remaining</dt><dd><span class=\"amount\" data-field=\"remaining\">{12}</span> "
      "<span class=\"currency\" data-field=\"currency\">{10}</span></dd></div>\n"
      "<div><dt>Supporters</dt><dd data-field=\"supporters\">{13}</dd></div>\n"
      "<div><dt>Days open</dt><dd><span data-field=\"days_open\">{14}</span> "
      "<span class=\"since\">(since <span data-field=\"opened_on\">{15}</span>)</span></dd>"
      "</div>\n"
      "</dl>\n"
      "<h4 id=\"{0}-budget\">What the money is for</h4>\n"
      "<ul class=\"budget\" data-field=\"budget\" aria-labelledby=\"{0}-budget\">{16}</ul>\n"
      "<p class=\"no-budget\" data-show=\"no_budget\"{17}>No budget given.</p>\n"
      "</article>\n</li>\n",
      html_id, esc(id), esc(c.at("status").get<std::string>()),
      funded_on.is_null() ? " hidden" : "", esc(text_of(funded_on)),
      closed_on.is_null() ? " hidden" : "", esc(text_of(closed_on)),
      std::clamp<int64_t>(percent, 0, 100), percent, esc(text_of(c.at("goal"))), currency,
      esc(text_of(c.at("raised"))), esc(text_of(c.at("remaining"))),
      esc(text_of(c.at("supporters"))), days_open, esc(opened_on), budget,
      c.at("budget").empty() ? "" : " hidden");
}

// The page at / with the cards of another place in the list.
std::string page_url(std::string_view status, std::string_view after) {
  std::string url = "/";
  if (!status.empty()) url += fmt::format("?status={}", status);
  if (!after.empty()) url += fmt::format("{}after={}", status.empty() ? '?' : '&', after);
  return url + "#cases";
}

// The cases section: its heading, links to the cases of each status, this
// page's cards, and links to the first and the next page.
std::string render_cards_section(std::string_view total, const ordered_json& cases,
                                 const CardsPage& cards, std::chrono::sys_days today) {
  std::string html = fmt::format(
      "<section id=\"cases\" aria-labelledby=\"cases-title\" tabindex=\"-1\">\n"
      "<h2 id=\"cases-title\">Cases <span class=\"count\">(<span data-stat=\"cases.total\">{}"
      "</span>)</span></h2>\n<nav class=\"filters\" aria-label=\"Cases by status\"><ul>\n",
      esc(total));
  constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kFilters = {
      {{"", "All"}, {"open", "Open"}, {"funded", "Fully funded"}, {"closed", "Closed"}}};
  for (const auto& [status, label] : kFilters) {
    html += fmt::format("<li><a href=\"{}\"{}>{}</a></li>\n", esc(page_url(status, "")),
                        status == cards.status ? " aria-current=\"page\"" : "", label);
  }
  html += "</ul></nav>\n";
  html += fmt::format(
      "<ol class=\"cards\" id=\"case-list\" data-source=\"{}\" data-status=\"{}\" "
      "data-after=\"{}\"{}>\n",
      esc(cards.source), esc(cards.status), esc(cards.after),
      cards.next_after ? fmt::format(" data-last=\"{}\"", esc(*cards.next_after)) : "");
  for (const ordered_json& c : cases) html += render_case(c, today);
  html += "</ol>\n";
  if (cases.empty()) {
    html += fmt::format("<p class=\"empty\">No {}case here.</p>\n",
                        cards.status.empty() ? "" : cards.status + " ");
  }
  if (!cards.after.empty() || cards.next_after) {
    html += "<nav class=\"pager\" aria-label=\"More cases\"><ul>\n";
    if (!cards.after.empty()) {
      html +=
          fmt::format("<li><a href=\"{}\">First cases</a></li>\n", esc(page_url(cards.status, "")));
    }
    if (cards.next_after) {
      html += fmt::format("<li><a rel=\"next\" href=\"{}\">Next cases</a></li>\n",
                          esc(page_url(cards.status, *cards.next_after)));
    }
    html += "</ul></nav>\n";
  }
  html += "</section>\n";
  return html;
}

std::string window_text(std::chrono::milliseconds window) {
  if (window.count() % 1000 == 0) {
    const int64_t seconds = window.count() / 1000;
    return fmt::format("{} second{}", seconds, seconds == 1 ? "" : "s");
  }
  return fmt::format("{} ms", window.count());
}

Response html_response(std::string body) {
  Response response;
  response.content_type = "text/html; charset=utf-8";
  response.body = std::move(body);
  set_page_headers(response);
  return response;
}

std::chrono::sys_days today_utc() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

// The pages' bodies per (position of their documents, day): a viewer's
// reload between two rounds costs a copy. Pages are kept by their cards'
// place (status, after), at most kPagesKept of them per position.
struct PageCache {
  static constexpr size_t kPagesKept = 64;
  std::mutex mutex;
  std::shared_ptr<const PublicDocument> stats;
  std::shared_ptr<const PublicDocument> raised;
  std::chrono::sys_days day{};
  std::map<std::pair<std::string, std::string>, std::string> bodies;
};

Reply public_page(LedgerApi& api, PageCache& cache, const PublicPageOptions& options,
                  Request& request) {
  if (auto bad = check_params(request, {"status", "after"})) return *bad;
  CardsPage cards;
  cards.status = request.query_value("status").value_or("");
  cards.after = request.query_value("after").value_or("");
  projections::CaseQuery query;
  if (!cards.status.empty()) {
    query.status = engine::parse_case_status(cards.status);
    if (!query.status) {
      return bad_parameter("status",
                           fmt::format("status={}: must be open, funded or closed", cards.status));
    }
  }
  if (!cards.after.empty() && !events::is_valid_identifier(cards.after)) {
    return bad_parameter("after", fmt::format("after={}: not a case_id", cards.after));
  }
  // The position of the documents first: every round that writes moves it,
  // so a body kept for these documents holds this round's cards too.
  auto stats = api.public_cache->stats();
  auto raised = api.public_cache->raised();
  for (const auto* document : {&stats, &raised}) {
    if (!*document) {
      return problem(500, "store-failure", "The projections could not be read",
                     document->error().message);
    }
  }
  const std::chrono::sys_days today = today_utc();
  const std::pair<std::string, std::string> place{cards.status, cards.after};
  {
    std::lock_guard lock(cache.mutex);
    if (cache.stats == *stats && cache.raised == *raised && cache.day == today) {
      if (const auto it = cache.bodies.find(place); it != cache.bodies.end()) {
        return html_response(it->second);
      }
    }
  }
  query.after = cards.after;
  query.limit = options.cases_per_page;
  auto page = projections::query_cases(*api.store, query);
  if (!page) {
    return problem(500, "store-failure", "The projections could not be read", page.error().message);
  }
  const ordered_json cases = projections::public_cases_json(page->cases);
  cards.next_after = page->next;
  cards.source = fmt::format("/v1/public/cases?limit={}", options.cases_per_page);
  if (!cards.status.empty()) cards.source += "&status=" + cards.status;
  if (!cards.after.empty()) {
    cards.source += "&cursor=" + public_cases_cursor(cards.status, cards.after);
  }
  PublicPageData data;
  data.stats = &(*stats)->json;
  data.cases = &cases;
  data.raised = &(*raised)->json;
  data.cards = std::move(cards);
  data.today = today;
  data.public_window = options.public_window;
  std::string body = render_public_page(data);
  std::lock_guard lock(cache.mutex);
  if (cache.stats != *stats || cache.raised != *raised || cache.day != today) {
    cache.bodies.clear();
    cache.stats = *stats;
    cache.raised = *raised;
    cache.day = today;
  }
  if (cache.bodies.size() < PageCache::kPagesKept) cache.bodies.emplace(place, body);
  return html_response(std::move(body));
}

}  // namespace

std::optional<int64_t> days_between(std::string_view from, std::string_view to) {
  const auto a = parse_day(from);
  const auto b = parse_day(to);
  if (!a || !b) return std::nullopt;
  return (*b - *a).count();
}

std::string render_raised_section(const ordered_json& raised) {
  std::string html = "<h2 id=\"raised-title\">Money raised over time</h2>\n";
  const ordered_json& by_currency = raised.at("by_currency");
  if (by_currency.empty()) html += "<p class=\"empty\">No case has been opened yet.</p>\n";
  for (const auto& [code, series] : by_currency.items()) {
    html += fmt::format("<figure class=\"raised\" data-currency=\"{}\">\n", esc(code));
    html += render_chart(code, series);
    if (!series.empty()) {
      html += fmt::format(
          "<figcaption>Money raised in {0} by the end of each day with gifts or refunds "
          "(UTC days).</figcaption>\n<details><summary>The figures by day ({0})</summary>\n"
          "<table class=\"days\"><thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Raised "
          "that day</th><th scope=\"col\">Raised by then</th></tr></thead><tbody>\n",
          esc(code));
      for (const ordered_json& entry : series) {
        html += fmt::format(
            "<tr><th scope=\"row\">{}</th><td class=\"amount\">{}</td><td "
            "class=\"amount\">{}</td></tr>\n",
            esc(text_of(entry.at("day"))), esc(text_of(entry.at("raised"))),
            esc(text_of(entry.at("total"))));
      }
      html += "</tbody></table></details>\n";
    }
    html += "</figure>\n";
  }
  return html;
}

std::string render_public_page(const PublicPageData& data) {
  std::string html;
  html.reserve(16'384 + 2'048 * data.cases->size());
  html += fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Homeward: impact and cases</title>\n"
      "<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">\n"
      "<link rel=\"stylesheet\" href=\"{}\">\n"
      "<link rel=\"stylesheet\" href=\"{}\">\n"
      "<script src=\"{}\" defer></script>\n</head>\n<body>\n"
      "<a class=\"skip\" href=\"#cases\">Skip to the cases</a>\n"
      "<header class=\"site\"><div class=\"wrap\">\n<h1>Homeward</h1>\n"
      "<p class=\"lede\">Where the gifts go, straight from the ledger. Survivors and donors stay "
      "anonymous: this page shows no donor, no gift on its own and no time finer than a day.</p>\n"
      "<p class=\"live\" id=\"live-status\" role=\"status\" data-window-ms=\"{}\">Figures as of "
      "{}. Changes appear at most once every {} per case.</p>\n"
      "</div></header>\n<main class=\"wrap\">\n",
      asset_url("favicon.svg"), asset_url("base.css"), asset_url("public.css"),
      asset_url("public.js"), data.public_window.count(), format_day(data.today),
      window_text(data.public_window));
  html += render_impact(*data.stats);
  html += "<section id=\"raised\" class=\"raised-section\" aria-labelledby=\"raised-title\">\n";
  html += render_raised_section(*data.raised);
  html += "</section>\n";
  html += render_cards_section(text_of(data.stats->at("cases").at("total")), *data.cases,
                               data.cards, data.today);
  html += "</main>\n";
  // The markup of a card, for a case that opens while the page is shown
  // (public.js fills a copy): the same renderer, so both cards look alike.
  const ordered_json blank = {{"case_id", "new"},
                              {"currency", "XXX"},
                              {"status", "open"},
                              {"goal", "0"},
                              {"raised", "0"},
                              {"remaining", "0"},
                              {"percent_funded", 0},
                              {"supporters", 0},
                              {"opened_on", "1970-01-01"},
                              {"fully_funded_on", nullptr},
                              {"closed_on", nullptr},
                              {"budget", ordered_json::object()}};
  html += "<template id=\"case-template\">\n" + render_case(blank, data.today) + "</template>\n";
  html +=
      "<footer class=\"wrap\"><p>Every figure comes from the ledger's public view "
      "(<a href=\"/v1/public/stats\">/v1/public/stats</a>, "
      "<a href=\"/v1/public/cases\">/v1/public/cases</a>, "
      "<a href=\"/openapi.json\">the API</a>).</p></footer>\n";
  html += "</body>\n</html>\n";
  return html;
}

void add_public_page_routes(Router& router, LedgerApi& api, const PublicPageOptions& options) {
  HOMEWARD_CHECK(api.public_cache != nullptr, "add_public_routes runs before the public page");
  HOMEWARD_CHECK(options.cases_per_page >= 1, "a page shows at least one case");
  auto cache = std::make_shared<PageCache>();
  router.add({"GET", "/", Access::kPublic, Execution::kWorker,
              [&api, cache, options](Request& r) -> Reply {
                return public_page(api, *cache, options, r);
              }});
  router.add({"GET", "/fragments/raised", Access::kPublic, Execution::kWorker,
              [&api](Request& r) -> Reply {
                if (auto bad = check_params(r, {})) return *bad;
                auto raised = api.public_cache->raised();
                if (!raised) {
                  return problem(500, "store-failure", "The projections could not be read",
                                 raised.error().message);
                }
                return html_response(render_raised_section((*raised)->json));
              }});
}

}  // namespace homeward::connectors::http::dashboard
