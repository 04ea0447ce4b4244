// The forecasting benchmark (bench/run_forecast_bench.sh runs it).
//
//   forecast_bench m4 --data_dir=DIR [--statsmodels_dir=DIR]   accuracy and time on M4 Hourly
//   forecast_bench tune --data_dir=DIR                            the level-smoothing bound, on
//                                                                 training data only
//   forecast_bench fleet --series=N --threads=T                  a warm refresh of N synthetic
//   series
//   forecast_bench markov [--eia_dir=DIR]                         the best-location Markov chain
//                                                                 on the synthetic trace and EIA
//   forecast_bench events                                         known events' effect on accuracy
//                                                                 in the synthetic trace's
//                                                                 campaigns
//   forecast_bench trace --out=DIR                                writes the default synthetic
//                                                                 global trace (EIA CSV format)
//
// `m4` fits every model to each of the 207 series on one core, forecasts 48 hours, and scores with
// M4's sMAPE, MASE and OWA (relative to Naive2), exactly as the data set's README defines them;
// statsmodels' forecasts (written by bench/m4_statsmodels.py in the same run) are scored the same
// way.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "forecast/best_location_chain.h"
#include "forecast/default_model.h"
#include "forecast/double_seasonal.h"
#include "forecast/ensemble.h"
#include "forecast/event_effects.h"
#include "forecast/forecaster.h"
#include "forecast/holt_winters.h"
#include "forecast/intervals.h"
#include "forecast/level_only.h"
#include "forecast/seasonal_mean.h"
#include "forecast/seasonal_naive.h"
#include "forecast/synthetic_trace.h"
#include "forecast/tail_choice.h"

ABSL_FLAG(std::string, data_dir, "../shared/data/m4-hourly",
          "m4: the folder of Hourly-dev-train.csv and Hourly-dev-test.csv");
ABSL_FLAG(std::string, statsmodels_dir, "",
          "m4: statsmodels' forecasts and timings (bench/m4_statsmodels.py); empty: none");
ABSL_FLAG(int, series, 100000, "fleet: synthetic series");
ABSL_FLAG(std::string, eia_dir, "../shared/data/eia-regions",
          "markov: the folder of the EIA regional demand files (CAL.csv, ...)");
ABSL_FLAG(std::string, out, "", "trace: where to write the default synthetic trace");
ABSL_FLAG(int, threads, 2, "fleet: threads");
ABSL_FLAG(int, history_hours, 504, "fleet: hours of history per series");

namespace {

using shadowplane::forecast::DefaultCandidates;
using shadowplane::forecast::DoubleSeasonal;
using shadowplane::forecast::EnsembleForecast;
using shadowplane::forecast::EnsembleOptions;
using shadowplane::forecast::ForecastEnsemble;
using shadowplane::forecast::ForecastModel;
using shadowplane::forecast::ForecastQuantiles;
using shadowplane::forecast::HoltWinters;
using shadowplane::forecast::HoltWintersOptions;
using shadowplane::forecast::JointPaths;
using shadowplane::forecast::LevelOnly;
using shadowplane::forecast::MakeDefaultModel;
using shadowplane::forecast::MakeFallbackModel;
using shadowplane::forecast::SampleJointPaths;
using shadowplane::forecast::Seasonality;
using shadowplane::forecast::SeasonalMean;
using shadowplane::forecast::SeasonalNaive;

constexpr int kHorizon = 48;
constexpr int kPeriod = 24;

struct Series {
  std::string id;
  std::vector<double> train, test;
};

std::map<std::string, std::vector<double>> ReadCsv(const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.empty()) continue;
    std::string id = cells[0];
    id.erase(std::remove(id.begin(), id.end(), '"'), id.end());
    std::vector<double>& values = out[id];
    for (size_t i = 1; i < cells.size(); ++i) {
      std::string v = cells[i];
      v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
      if (v.empty()) continue;
      values.push_back(std::stod(v));
    }
  }
  return out;
}

// --- M4's scoring -------------------------------------------------------------------------------

double Smape(const std::vector<double>& y, const std::vector<double>& f) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i)
    s += 200 * std::abs(y[i] - f[i]) / (std::abs(y[i]) + std::abs(f[i]));
  return s / y.size();
}

double Mase(const std::vector<double>& x, const std::vector<double>& y,
            const std::vector<double>& f) {
  double scale = 0;
  for (size_t t = kPeriod; t < x.size(); ++t) scale += std::abs(x[t] - x[t - kPeriod]);
  scale /= (x.size() - kPeriod);
  double e = 0;
  for (size_t i = 0; i < y.size(); ++i) e += std::abs(y[i] - f[i]);
  return e / y.size() / scale;
}

// R's acf (mean removed, biased denominator) at lags 1..max_lag.
std::vector<double> Acf(const std::vector<double>& x, int max_lag) {
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / x.size();
  double c0 = 0;
  for (double v : x) c0 += (v - mean) * (v - mean);
  std::vector<double> acf(max_lag + 1);
  for (int k = 1; k <= max_lag; ++k) {
    double c = 0;
    for (size_t t = k; t < x.size(); ++t) c += (x[t] - mean) * (x[t - k] - mean);
    acf[k] = c / c0;
  }
  return acf;
}

// M4's Naive2: naive on the series deseasonalised by classical multiplicative decomposition,
// where the lag-24 autocorrelation passes a 90% test; plain naive otherwise.
std::vector<double> Naive2(const std::vector<double>& x) {
  const int n = static_cast<int>(x.size());
  bool seasonal = false;
  if (n >= 3 * kPeriod) {
    const std::vector<double> acf = Acf(x, kPeriod);
    double sum = 1;
    for (int k = 1; k < kPeriod; ++k) sum += 2 * acf[k] * acf[k];
    seasonal = std::abs(acf[kPeriod]) > 1.645 / std::sqrt(n) * std::sqrt(sum);
  }
  if (!seasonal) return std::vector<double>(kHorizon, x.back());
  // decompose(type = "multiplicative"): a centred 2x24 moving average, ratios, mean per position.
  std::vector<double> figure(kPeriod, 0);
  std::vector<int> counts(kPeriod, 0);
  for (int t = kPeriod / 2; t < n - kPeriod / 2; ++t) {
    double trend = 0.5 * x[t - kPeriod / 2] + 0.5 * x[t + kPeriod / 2];
    for (int k = -kPeriod / 2 + 1; k < kPeriod / 2; ++k) trend += x[t + k];
    trend /= kPeriod;
    figure[t % kPeriod] += x[t] / trend;
    ++counts[t % kPeriod];
  }
  double mean = 0;
  for (int i = 0; i < kPeriod; ++i) {
    figure[i] /= counts[i];
    mean += figure[i] / kPeriod;
  }
  for (double& f : figure) f /= mean;
  const double last = x.back() / figure[(n - 1) % kPeriod];
  std::vector<double> out(kHorizon);
  for (int h = 0; h < kHorizon; ++h) out[h] = last * figure[(n + h) % kPeriod];
  return out;
}

// --- Methods ------------------------------------------------------------------------------------

struct Method {
  std::string name;
  // Fit and forecast; empty on failure.
  std::function<std::vector<double>(const std::vector<double>&)> run;
};

std::vector<double> FitForecast(ForecastModel& model, const std::vector<double>& x) {
  if (!model.Fit(x).ok()) return {};
  return model.Forecast(kHorizon);
}

double BacktestMae(ForecastModel& model, const std::vector<double>& x) {
  const std::vector<double> head(x.begin(), x.end() - kHorizon);
  const std::vector<double> f = FitForecast(model, head);
  if (f.empty()) return INFINITY;
  double e = 0;
  for (int h = 0; h < kHorizon; ++h) e += std::abs(x[head.size() + h] - f[h]);
  return e;
}

std::vector<Method> Methods() {
  auto hw = [](Seasonality s, bool trend, bool damped) {
    return [=](const std::vector<double>& x) {
      HoltWintersOptions o;
      o.seasonality = s;
      o.trend = trend;
      o.damped = damped;
      HoltWinters m(o);
      std::vector<double> f = FitForecast(m, x);
      if (f.empty()) {  // fall back, as the service does
        SeasonalNaive naive(kPeriod);
        f = FitForecast(naive, x);
      }
      return f;
    };
  };
  std::vector<Method> methods = {
      {"seasonal naive, m=24",
       [](const std::vector<double>& x) {
         SeasonalNaive m(24);
         return FitForecast(m, x);
       }},
      {"seasonal naive, m=168",
       [](const std::vector<double>& x) {
         SeasonalNaive m(168);
         return FitForecast(m, x);
       }},
      {"naive 24 or 168 by backtest",
       [](const std::vector<double>& x) {
         SeasonalNaive day(24), week(168);
         const bool weekly = BacktestMae(week, x) < BacktestMae(day, x);
         SeasonalNaive& chosen = weekly ? week : day;
         return FitForecast(chosen, x);
       }},
      {"Naive2", [](const std::vector<double>& x) { return Naive2(x); }},
      {"hw additive, no trend", hw(Seasonality::kAdditive, false, false)},
      {"hw additive, damped trend", hw(Seasonality::kAdditive, true, true)},
      {"hw multiplicative, damped trend", hw(Seasonality::kMultiplicative, true, true)},
      {"double seasonal (24, 168)",
       [](const std::vector<double>& x) {
         DoubleSeasonal m;
         return FitForecast(m, x);
       }},
      {"level only (simple exponential smoothing)",
       [](const std::vector<double>& x) {
         LevelOnly m;
         return FitForecast(m, x);
       }},
      {"double seasonal (24, 168), level smoothing <= 0.1",
       [](const std::vector<double>& x) {
         DoubleSeasonal m(0.1);
         return FitForecast(m, x);
       }},
      {"default: double seasonal <= 0.1 or naive 24/168 by the last 24 h",
       [](const std::vector<double>& x) {
         std::unique_ptr<ForecastModel> m = MakeDefaultModel(x.size());
         std::vector<double> f = FitForecast(*m, x);
         if (f.empty()) {
           m = MakeFallbackModel(x.size());
           f = FitForecast(*m, x);
         }
         return f;
       }},
  };
  return methods;
}

struct Score {
  double smape = 0, mase = 0, seconds = 0;
  int failed = 0;
  // Share of test points inside the 80% and 95% intervals (negative: no intervals).
  double coverage80 = -1, coverage95 = -1;
};

// The whole part-2 pipeline on one series: selection or combination by rolling-origin backtest,
// quantiles (2.5, 10, 50, 90, 97.5) and 200 sample paths. Returns the point forecast; adds
// interval hits to `hits80` and `hits95`.
std::vector<double> RunEnsemble(const std::vector<double>& train, const std::vector<double>& test,
                                const EnsembleOptions& options, int* hits80, int* hits95) {
  absl::StatusOr<EnsembleForecast> f = ForecastEnsemble(DefaultCandidates(), train, options);
  if (!f.ok()) return {};
  absl::StatusOr<std::vector<std::vector<double>>> q =
      ForecastQuantiles(*f, {0.025, 0.1, 0.5, 0.9, 0.975});
  absl::StatusOr<JointPaths> paths =
      SampleJointPaths({&*f}, 200, 42, shadowplane::forecast::IntervalOptions{}.spread_80);
  if (!q.ok() || !paths.ok()) return {};
  for (int j = 0; j < kHorizon; ++j) {
    *hits80 += (*q)[1][j] <= test[j] && test[j] <= (*q)[3][j];
    *hits95 += (*q)[0][j] <= test[j] && test[j] <= (*q)[4][j];
  }
  return f->point;
}

// Chooses the default model's settings without looking at the test set: each candidate setting is
// scored on the training sets' own last 48 hours (fitted to the rest), OWA against Naive2 on the
// same hours: the double seasonal model's level-smoothing bound, then the hours the default holds
// out to choose between it and the seasonal naives.
int RunTune() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const auto train = ReadCsv(dir + "/Hourly-dev-train.csv");
  if (train.empty()) {
    std::cerr << "forecast_bench: no Hourly-dev-train.csv in " << dir << "\n";
    return 2;
  }
  auto score = [&](const std::function<std::vector<double>(const std::vector<double>&)>& run) {
    double smape = 0, mase = 0;
    for (const auto& [id, x] : train) {
      const std::vector<double> head(x.begin(), x.end() - kHorizon),
          tail(x.end() - kHorizon, x.end());
      std::vector<double> f = run(head);
      if (f.empty()) f = Naive2(head);
      smape += Smape(tail, f) / train.size();
      mase += Mase(head, tail, f) / train.size();
    }
    return std::make_pair(smape, mase);
  };
  const auto naive2 = score([](const std::vector<double>& x) { return Naive2(x); });
  std::cout << "double seasonal on the training sets' last 48 hours\n";
  for (double bound : {0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0}) {
    const auto s = score([&](const std::vector<double>& x) {
      DoubleSeasonal m(bound);
      return FitForecast(m, x);
    });
    std::cout << absl::StrFormat("level smoothing <= %.2f: sMAPE %.3f MASE %.3f OWA %.3f\n", bound,
                                 s.first, s.second,
                                 0.5 * (s.first / naive2.first + s.second / naive2.second));
  }
  std::cout
      << "the default's choice (double seasonal <= 0.1, naive 24 or 168), by holdout length\n";
  for (int holdout : {24, 48, 72, 96, 120, 144, 168}) {
    const auto s = score([&](const std::vector<double>& x) {
      std::vector<std::unique_ptr<ForecastModel>> c;
      c.push_back(std::make_unique<DoubleSeasonal>(0.1));
      c.push_back(std::make_unique<SeasonalNaive>(24));
      c.push_back(std::make_unique<SeasonalNaive>(168));
      shadowplane::forecast::TailChoice m(std::move(c), holdout);
      return FitForecast(m, x);
    });
    std::cout << absl::StrFormat("holdout %3d h: sMAPE %.3f MASE %.3f OWA %.3f\n", holdout, s.first,
                                 s.second,
                                 0.5 * (s.first / naive2.first + s.second / naive2.second));
  }
  // Part 2: selection or combination (a grid around the defaults), then the intervals' spread.
  std::cout << "selection or combination: origins compared (of 96), clear win, combine within\n";
  for (const int last : {12, 24, 0}) {
    for (const double clear : {0.6, 0.7, 0.8, 0.9}) {
      for (const double within : {1.5, 2.0, 3.0}) {
        EnsembleOptions options;
        options.select_on_last_origins = last;
        options.clear_win = clear;
        options.combine_within = within;
        const auto s = score([&](const std::vector<double>& x) -> std::vector<double> {
          auto f = ForecastEnsemble(DefaultCandidates(), x, options);
          return f.ok() ? f->point : std::vector<double>{};
        });
        std::cout << absl::StrFormat("last %2d, clear win %.1f, within %.1f: OWA %.3f\n", last,
                                     clear, within,
                                     0.5 * (s.first / naive2.first + s.second / naive2.second));
      }
    }
  }
  std::cout << "interval spread: coverage of the 80% and 95% intervals on the training data's last "
               "48 hours and the 48 before them (each forecast from the hours before)\n";
  std::vector<EnsembleForecast> fits;
  std::vector<std::vector<double>> tails;
  for (const int back : {kHorizon, 2 * kHorizon}) {
    for (const auto& [id, x] : train) {
      const std::vector<double> head(x.begin(), x.end() - back);
      auto f = ForecastEnsemble(DefaultCandidates(), head, EnsembleOptions{});
      if (!f.ok()) continue;
      fits.push_back(*std::move(f));
      tails.emplace_back(x.end() - back, x.end() - back + kHorizon);
    }
  }
  for (const double spread : {1.0, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 2.0}) {
    int in80 = 0, in95 = 0, points = 0;
    for (size_t i = 0; i < fits.size(); ++i) {
      auto q = ForecastQuantiles(fits[i], {0.025, 0.1, 0.9, 0.975}, {2, spread, spread});
      for (int j = 0; j < kHorizon; ++j) {
        const double y = tails[i][j];
        in80 += (*q)[1][j] <= y && y <= (*q)[2][j];
        in95 += (*q)[0][j] <= y && y <= (*q)[3][j];
        ++points;
      }
    }
    std::cout << absl::StrFormat("spread %.1f: 80%% interval %.1f%%, 95%% interval %.1f%%\n",
                                 spread, 100.0 * in80 / points, 100.0 * in95 / points);
  }
  return 0;
}

int RunM4() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const auto train = ReadCsv(dir + "/Hourly-dev-train.csv");
  const auto test = ReadCsv(dir + "/Hourly-dev-test.csv");
  if (train.empty() || test.empty()) {
    std::cerr << "forecast_bench: the M4 Hourly data set (Hourly-dev-train.csv, "
                 "Hourly-dev-test.csv) is not in "
              << dir << "; give its folder with --data_dir\n";
    return 2;
  }
  std::vector<Series> series;
  for (const auto& [id, x] : train) series.push_back({id, x, test.at(id)});
  std::vector<std::pair<std::string, Score>> scores;
  // Times `run` on every series and scores its forecasts (Naive2's when it fails).
  auto score = [&](const std::function<std::vector<double>(const Series&)>& run) {
    Score s;
    for (const Series& one : series) {
      const absl::Time start = absl::Now();
      std::vector<double> f = run(one);
      s.seconds += absl::ToDoubleSeconds(absl::Now() - start);
      if (f.empty()) {
        ++s.failed;
        f = Naive2(one.train);
      }
      s.smape += Smape(one.test, f) / series.size();
      s.mase += Mase(one.train, one.test, f) / series.size();
    }
    return s;
  };
  for (const Method& m : Methods()) {
    scores.emplace_back(m.name, score([&](const Series& one) { return m.run(one.train); }));
  }
  // Part 2: selection or combination with intervals and sample paths.
  for (const int origins : {96}) {
    EnsembleOptions options;
    options.backtest.horizon = kHorizon;
    options.backtest.origins = origins;
    int hits80 = 0, hits95 = 0;
    Score s = score([&](const Series& one) {
      return RunEnsemble(one.train, one.test, options, &hits80, &hits95);
    });
    s.coverage80 = 100.0 * hits80 / (series.size() * kHorizon);
    s.coverage95 = 100.0 * hits95 / (series.size() * kHorizon);
    scores.emplace_back(
        absl::StrFormat("part 2: selected/combined (%d origins), quantiles, 200 paths", origins),
        s);
  }
  // statsmodels, scored the same way.
  const std::string sm = absl::GetFlag(FLAGS_statsmodels_dir);
  for (const char* config : {"statsmodels_damped", "statsmodels_damped_capped"}) {
    if (sm.empty()) break;
    const auto forecasts = ReadCsv(absl::StrFormat("%s/%s.csv", sm, config));
    if (forecasts.empty()) continue;
    std::ifstream times(absl::StrFormat("%s/%s.seconds", sm, config));
    Score s;
    for (double t; times >> t;) s.seconds += t;
    std::map<std::string, std::vector<double>> all = forecasts;
    // The statsmodels CSV has no header row: ReadCsv skipped the first series. Read it again.
    std::ifstream in(absl::StrFormat("%s/%s.csv", sm, config));
    std::string first;
    std::getline(in, first);
    std::vector<std::string> cells = absl::StrSplit(first, ',');
    std::vector<double> values;
    for (size_t i = 1; i < cells.size(); ++i) values.push_back(std::stod(cells[i]));
    all[cells[0]] = values;
    for (const Series& one : series) {
      std::vector<double> f = all.count(one.id) ? all.at(one.id) : std::vector<double>{};
      bool finite = f.size() == kHorizon;
      for (double v : f) finite = finite && std::isfinite(v);
      if (!finite) {
        ++s.failed;
        f = Naive2(one.train);
      }
      s.smape += Smape(one.test, f) / series.size();
      s.mase += Mase(one.train, one.test, f) / series.size();
    }
    scores.emplace_back(std::string(config) == "statsmodels_damped"
                            ? "statsmodels ExponentialSmoothing, add. damped trend, add. season 24"
                            : "statsmodels, same, trend smoothing capped at 0.01",
                        s);
  }
  Score naive2;
  for (const auto& [name, s] : scores) {
    if (name == "Naive2") naive2 = s;
  }
  double statsmodels_ms = 0;
  for (const auto& [name, s] : scores) {
    if (name.rfind("statsmodels ExponentialSmoothing", 0) == 0) {
      statsmodels_ms = 1000 * s.seconds / series.size();
    }
  }
  std::cout << absl::StrFormat("M4 Hourly, %d series, horizon %d, one core\n", series.size(),
                               kHorizon);
  std::cout << absl::StrFormat("%-68s %7s %6s %6s %10s %9s %6s %5s %5s\n", "method", "sMAPE",
                               "MASE", "OWA", "ms/series", "speed-up", "failed", "cov80", "cov95");
  for (const auto& [name, s] : scores) {
    const double owa = 0.5 * (s.smape / naive2.smape + s.mase / naive2.mase);
    const double ms = 1000 * s.seconds / series.size();
    std::cout << absl::StrFormat(
        "%-68s %7.3f %6.3f %6.3f %10.3f %9s %6d %5s %5s\n", name, s.smape, s.mase, owa, ms,
        statsmodels_ms > 0 ? absl::StrFormat("%.0fx", statsmodels_ms / ms) : "", s.failed,
        s.coverage80 >= 0 ? absl::StrFormat("%.1f", s.coverage80) : "",
        s.coverage95 >= 0 ? absl::StrFormat("%.1f", s.coverage95) : "");
  }
  return 0;
}

// --- The fleet refresh --------------------------------------------------------------------------

// Series i: a daily and weekly shape around its own level, noise, seeded by i.
std::vector<double> Synthetic(int i, int hours) {
  std::mt19937_64 rng(i);
  std::uniform_real_distribution<double> u(0, 1);
  const double level = 50 + 1000 * u(rng), weekend = 0.4 + 0.5 * u(rng), phase = 24 * u(rng);
  std::normal_distribution<double> noise(0, 0.05 * level);
  std::vector<double> y(hours);
  for (int t = 0; t < hours; ++t) {
    const double day = 1 + 0.5 * std::sin(2 * M_PI * (t % 24 - phase) / 24);
    y[t] = std::max(0.0, level * day * (t / 24 % 7 >= 5 ? weekend : 1) + noise(rng));
  }
  return y;
}

int RunFleet() {
  const int n = absl::GetFlag(FLAGS_series), threads = absl::GetFlag(FLAGS_threads);
  const int hours = absl::GetFlag(FLAGS_history_hours);
  std::vector<std::vector<double>> params(n);
  std::vector<std::string> names(n);
  auto pass = [&](bool warm) {
    std::atomic<int> next{0}, failed{0};
    const absl::Time start = absl::Now();
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w) {
      workers.emplace_back([&] {
        for (int i; (i = next.fetch_add(1)) < n;) {
          // A refresh sees the history of the first fit plus a new day.
          const std::vector<double> y = Synthetic(i, warm ? hours + 24 : hours);
          // What the service does per series: selection or combination by backtest,
          // warm-started from the previous fit, and the error profile intervals come from.
          std::vector<std::unique_ptr<ForecastModel>> candidates = DefaultCandidates();
          if (warm) {
            for (auto& c : candidates) c->WarmStart(names[i], params[i]);
          }
          absl::StatusOr<EnsembleForecast> f =
              ForecastEnsemble(std::move(candidates), y, EnsembleOptions{});
          if (!f.ok() || f->method == "fallback") {
            ++failed;
            continue;
          }
          (void)shadowplane::forecast::ProfileErrors(*f, 2);
          for (size_t m = 0; m < f->models.size(); ++m) {
            if (!f->parameters[m].empty()) {
              names[i] = f->models[m];
              params[i] = f->parameters[m];
            }
          }
        }
      });
    }
    for (auto& t : workers) t.join();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    std::cout << absl::StrFormat(
        "%-34s %d series of %d hours on %d threads: %.1f s, %.0f series/s, %d failed\n",
        warm ? "refresh (warm start, +24 hours)" : "first fit (cold)", n, warm ? hours + 24 : hours,
        threads, seconds, n / seconds, failed.load());
  };
  pass(false);
  pass(true);
  return 0;
}

// --- The best-location Markov chain ------------------------------------------------------------

namespace fc = shadowplane::forecast;

// Trains on the first 70% of the hours and scores k-step predictions (k = 1..24) of which candidate
// is best on the rest: the chain, persistence (its epsilon fitted on the training hours for each k)
// and the hour-of-week frequencies.
void EvaluateChain(const std::string& name, const std::vector<fc::RegionDemand>& regions,
                   const std::vector<fc::Candidate>& candidates, absl::Time start) {
  absl::StatusOr<std::vector<int>> best =
      fc::BestLocations(regions, candidates, shadowplane::geo::RttModel());
  if (!best.ok()) {
    std::cerr << name << ": " << best.status() << "\n";
    return;
  }
  const std::vector<int>& states = *best;
  const int n = static_cast<int>(states.size()), split = n * 7 / 10;
  const int S = static_cast<int>(candidates.size());
  std::vector<int> share(S, 0);
  int changes = 0, known = 0;
  for (int t = 0; t < n; ++t) {
    if (states[t] < 0) continue;
    ++share[states[t]];
    ++known;
    if (t > 0 && states[t - 1] >= 0 && states[t] != states[t - 1]) ++changes;
  }
  std::cout << absl::StrFormat("%s: %d hours (train %d, test %d); best location:", name, n, split,
                               n - split);
  for (int i = 0; i < S; ++i) {
    std::cout << absl::StrFormat(" %s %.1f%%", candidates[i].name, 100.0 * share[i] / known);
  }
  std::cout << absl::StrFormat("; changes in %.2f%% of hours\n", 100.0 * changes / known);
  const std::vector<int> train(states.begin(), states.begin() + split);
  absl::StatusOr<fc::BestLocationChain> chain = fc::BestLocationChain::Fit(train, S, start);
  const std::vector<Eigen::VectorXd> freq = fc::HourOfWeekFrequencies(train, S, start);
  std::cout << absl::StrFormat("%4s %10s %10s %10s   %10s %10s %10s %7s\n", "k", "brier chain",
                               "persist", "hour-week", "logloss ch", "persist", "hour-week", "eps");
  double sums[6] = {0, 0, 0, 0, 0, 0};
  for (int k = 1; k <= 24; ++k) {
    // Persistence's epsilon: the best log-loss on the training hours.
    double eps = 0.001, best_loss = INFINITY;
    for (double e : {0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7}) {
      double loss = 0;
      int count = 0;
      for (int t = 0; t + k < split; ++t) {
        if (states[t] < 0 || states[t + k] < 0) continue;
        loss += fc::LogLoss(fc::Persistence(states[t], S, e), states[t + k]);
        ++count;
      }
      if (count > 0 && loss / count < best_loss) best_loss = loss / count, eps = e;
    }
    double b[3] = {0, 0, 0}, l[3] = {0, 0, 0};
    int count = 0;
    for (int t = split; t + k < n; ++t) {
      if (states[t] < 0 || states[t + k] < 0) continue;
      const absl::Time at = start + absl::Hours(t);
      const Eigen::VectorXd p[3] = {chain->Predict(states[t], at, k),
                                    fc::Persistence(states[t], S, eps),
                                    freq[fc::HourOfWeek(at + absl::Hours(k))]};
      for (int m = 0; m < 3; ++m) {
        b[m] += fc::BrierScore(p[m], states[t + k]);
        l[m] += fc::LogLoss(p[m], states[t + k]);
      }
      ++count;
    }
    for (int m = 0; m < 3; ++m) {
      b[m] /= count;
      l[m] /= count;
      sums[m] += b[m] / 24;
      sums[3 + m] += l[m] / 24;
    }
    if (k <= 3 || k == 6 || k == 12 || k == 24) {
      std::cout << absl::StrFormat("%4d %10.4f %10.4f %10.4f   %10.4f %10.4f %10.4f %7.3f\n", k,
                                   b[0], b[1], b[2], l[0], l[1], l[2], eps);
    }
  }
  std::cout << absl::StrFormat("mean %10.4f %10.4f %10.4f   %10.4f %10.4f %10.4f  (k = 1..24)\n",
                               sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]);
}

int RunMarkov() {
  // The synthetic global trace (default profile) with candidates on three continents.
  absl::StatusOr<fc::Trace> trace = fc::GenerateTrace(fc::DefaultTraceProfile());
  if (!trace.ok()) {
    std::cerr << trace.status() << "\n";
    return 1;
  }
  std::vector<fc::RegionDemand> regions;
  for (size_t i = 0; i < trace->regions.size(); ++i) {
    regions.push_back({trace->regions[i].name,
                       {trace->regions[i].latitude, trace->regions[i].longitude},
                       trace->demand[i]});
  }
  EvaluateChain(
      "synthetic global trace (virginia, frankfurt, singapore)", regions,
      {{"virginia", {39.0, -77.5}}, {"frankfurt", {50.1, 8.7}}, {"singapore", {1.35, 103.8}}},
      trace->start);
  // EIA-930 regions with a candidate on each coast.
  const std::string dir = absl::GetFlag(FLAGS_eia_dir);
  const std::vector<std::tuple<std::string, double, double>> centres = {
      {"CAL", 37.0, -120.0}, {"CAR", 35.5, -79.5},  {"CENT", 38.5, -98.0}, {"FLA", 28.0, -81.7},
      {"MIDA", 39.5, -77.5}, {"MIDW", 41.0, -89.5}, {"NE", 42.5, -71.8},   {"NW", 45.5, -118.0},
      {"NY", 42.8, -75.5},   {"SE", 32.8, -85.0},   {"SW", 33.8, -110.0},  {"TEN", 35.8, -86.5},
      {"TEX", 31.0, -97.5}};
  std::vector<fc::RegionDemand> eia;
  absl::Time start;
  for (const auto& [name, lat, lon] : centres) {
    absl::StatusOr<fc::DemandSeries> s = fc::ReadDemandCsv(absl::StrCat(dir, "/", name, ".csv"));
    if (!s.ok()) {
      std::cerr << "forecast_bench: the EIA regional demand data (" << name << ".csv) is not in "
                << dir << "; give its folder with --eia_dir (" << s.status() << ")\n";
      return 2;
    }
    if (eia.empty()) start = s->start;
    if (s->start != start) {
      std::cerr << "forecast_bench: " << name << ".csv starts at a different hour\n";
      return 2;
    }
    eia.push_back({name, {lat, lon}, s->values});
  }
  size_t hours = eia[0].demand.size();
  for (const auto& r : eia) hours = std::min(hours, r.demand.size());
  for (auto& r : eia) r.demand.resize(hours);
  EvaluateChain("EIA-930 regions (ashburn, san-jose)", eia,
                {{"ashburn", {39.0, -77.5}}, {"san-jose", {37.3, -121.9}}}, start);
  return 0;
}

// --- Known events on the synthetic trace's campaigns -------------------------------------------

// Forecast accuracy over the hours of one window.
struct WindowError {
  double abs_error = 0, actual = 0, smape = 0;
  int hours = 0;
  void Add(const std::vector<double>& forecast, const std::vector<double>& actual_values) {
    for (size_t h = 0; h < forecast.size(); ++h) {
      const double f = forecast[h], a = actual_values[h];
      abs_error += std::abs(f - a);
      actual += a;
      smape +=
          (std::abs(f) + std::abs(a)) > 0 ? 200 * std::abs(f - a) / (std::abs(f) + std::abs(a)) : 0;
      ++hours;
    }
  }
  std::string Format() const {
    return absl::StrFormat("WAPE %5.1f%%  sMAPE %5.1f", 100 * abs_error / actual, smape / hours);
  }
};

// Each campaign of the default trace, forecast from its first hour over its window, three ways:
// without events (the models on the raw history: what a forecaster that knows no events says),
// with events as the service applies them (announced campaigns are registered events whose
// uplift is learned from earlier announced campaigns of the kind, and the effects of earlier
// announced campaigns are taken out of the history), and with the true uplift given (the bound
// an exact registrant reaches). Then the same windows a week later, where a weekly model would
// repeat the campaign unless it was taken out of the history.
int RunEvents() {
  absl::StatusOr<fc::Trace> trace = fc::GenerateTrace(fc::DefaultTraceProfile());
  if (!trace.ok()) {
    std::cerr << trace.status() << "\n";
    return 1;
  }
  constexpr int kHistory = 8 * 168;  // the service's --forecast_history
  shadowplane::FakeClock clock(trace->start);
  fc::ForecasterOptions options;
  options.stored_horizon_hours = 48;
  fc::Forecaster forecaster(nullptr, &clock, options, nullptr);
  std::map<std::string, int> region_index;
  for (size_t i = 0; i < trace->regions.size(); ++i) region_index[trace->regions[i].name] = i;

  struct Measured {
    const fc::TraceCampaign* campaign;
    fc::EventOutcome outcome;
  };
  std::vector<Measured> measured;  // announced campaigns, measured once ended
  auto window_of = [&](const fc::TraceCampaign& c) {
    return std::make_pair(static_cast<int>((c.start - trace->start) / absl::Hours(1)), c.hours);
  };
  // The history of `region` before hour `origin` (kHistory hours), with the measured effects of
  // announced campaigns there taken out when `clean`.
  auto history = [&](int r, int origin, bool clean) {
    std::vector<double> h(trace->demand[r].begin() + (origin - kHistory),
                          trace->demand[r].begin() + origin);
    if (!clean) return h;
    std::vector<fc::DemandEvent> known;
    for (const Measured& m : measured) {
      if (m.campaign->region != trace->regions[r].name) continue;
      known.push_back({m.campaign->start,
                       m.campaign->start + absl::Hours(m.campaign->hours),
                       {},
                       m.outcome.ratio()});
    }
    fc::SeriesSet set;
    set.first_hour = trace->start + absl::Hours(origin - kHistory);
    set.names = {"total"};
    set.values = {h};
    return fc::RemoveEventEffects(known, set)[0];
  };
  auto forecast = [&](const std::vector<double>& h, int origin, int hours) {
    std::vector<double> v =
        forecaster.ForecastSeries("region", h, trace->start + absl::Hours(origin), nullptr).values;
    v.resize(hours);
    return v;
  };
  WindowError none[2], events[2], exact[2], echo_raw, echo_clean;
  int counted[2] = {0, 0}, learned_count = 0, echoes = 0;
  std::vector<std::pair<absl::Time, const fc::TraceCampaign*>> pending;  // announced, not ended
  for (const fc::TraceCampaign& c : trace->campaigns) {
    const auto [origin, hours] = window_of(c);
    // Campaigns that ended by now are measured (in order), as the service does after each ends.
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->first > c.start) {
        ++it;
        continue;
      }
      const auto [o, n] = window_of(*it->second);
      const int r = region_index[it->second->region];
      const std::vector<double> base = forecast(history(r, o, true), o, n);
      const std::vector<double> actual(trace->demand[r].begin() + o,
                                       trace->demand[r].begin() + o + n);
      measured.push_back({it->second, fc::MeasureOutcome(it->second->start, it->first,
                                                         it->second->start, actual, base)});
      it = pending.erase(it);
    }
    if (origin < kHistory || origin + hours + 168 > trace->hours) {
      if (c.announced && origin >= kHistory) pending.push_back({c.start + absl::Hours(hours), &c});
      continue;
    }
    const int r = region_index[c.region];
    const std::vector<double> actual(trace->demand[r].begin() + origin,
                                     trace->demand[r].begin() + origin + hours);
    const int a = c.announced ? 1 : 0;
    ++counted[a];
    none[a].Add(forecast(history(r, origin, false), origin, hours), actual);
    const std::vector<double> base = forecast(history(r, origin, true), origin, hours);
    std::vector<double> with = base, truth = base;
    if (c.announced) {
      std::vector<fc::EventOutcome> same_kind;
      for (const Measured& m : measured) {
        if (m.campaign->kind == c.kind) same_kind.push_back(m.outcome);
      }
      const double uplift = fc::LearnedUplift(same_kind);
      if (!same_kind.empty()) ++learned_count;
      for (double& v : with) v *= uplift;
      for (double& v : truth) v *= c.uplift;
      pending.push_back({c.start + absl::Hours(hours), &c});
    }
    events[a].Add(with, actual);
    exact[a].Add(truth, actual);
  }
  // A week after each announced campaign (all measured by then): raw history against cleaned.
  for (const Measured& m : measured) {
    const auto [o, n] = window_of(*m.campaign);
    const int origin = o + 168;
    if (origin < kHistory || origin + n > trace->hours) continue;
    const int r = region_index[m.campaign->region];
    const std::vector<double> actual(trace->demand[r].begin() + origin,
                                     trace->demand[r].begin() + origin + n);
    bool other = false;  // another campaign in this window would blur the comparison
    for (const fc::TraceCampaign& c : trace->campaigns) {
      const auto [co, cn] = window_of(c);
      other = other || (c.region == m.campaign->region && co < origin + n && co + cn > origin);
    }
    if (other) continue;
    ++echoes;
    echo_raw.Add(forecast(history(r, origin, false), origin, n), actual);
    echo_clean.Add(forecast(history(r, origin, true), origin, n), actual);
  }
  std::cout << absl::StrFormat(
      "synthetic trace: %d campaigns, %d after the first 8 weeks (history) and a week before the "
      "end: %d announced (registered as events), %d not\n",
      trace->campaigns.size(), counted[0] + counted[1], counted[1], counted[0]);
  auto row = [](const char* label, const WindowError& e) {
    std::cout << absl::StrFormat("  %-28s %s\n", label, e.Format());
  };
  std::cout << absl::StrFormat(
      "announced campaign windows (%d; %d with an uplift learned from earlier ones)\n", counted[1],
      learned_count);
  row("without events", none[1]);
  row("with events (uplift learned)", events[1]);
  row("with the true uplift given", exact[1]);
  std::cout << absl::StrFormat("unannounced campaign windows (%d; no event to apply)\n",
                               counted[0]);
  row("without events", none[0]);
  row("with events (history only)", events[0]);
  std::cout << absl::StrFormat("a week after announced campaigns (%d windows)\n", echoes);
  row("raw history", echo_raw);
  row("campaigns taken out", echo_clean);
  return 0;
}

int RunTrace() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::cerr << "forecast_bench trace: --out=DIR is required\n";
    return 2;
  }
  absl::StatusOr<fc::Trace> trace = fc::GenerateTrace(fc::DefaultTraceProfile());
  absl::Status written = trace.ok() ? fc::WriteTraceCsv(*trace, out) : trace.status();
  if (!written.ok()) {
    std::cerr << written << "\n";
    return 1;
  }
  std::cout << "wrote " << trace->regions.size() << " regions x " << trace->hours << " hours, "
            << trace->campaigns.size() << " campaigns to " << out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "m4") return RunM4();
  if (mode == "fleet") return RunFleet();
  if (mode == "tune") return RunTune();
  if (mode == "markov") return RunMarkov();
  if (mode == "trace") return RunTrace();
  if (mode == "events") return RunEvents();
  std::cerr << "usage: forecast_bench m4|tune|fleet|markov|events|trace [flags]\n";
  return 2;
}
