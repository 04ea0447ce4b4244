// How well the planner's confidence predicts that a move pays: planner-started migrations that
// have been judged (OBSERVING done), grouped by the confidence they were decided at. A threshold
// is well set when the buckets at and above it pay off about as often as their confidence says;
// README "Setting the migration threshold" tells an operator how to read it.
#ifndef SHADOWPLANE_PLANNER_CALIBRATION_H_
#define SHADOWPLANE_PLANNER_CALIBRATION_H_

#include <string>
#include <vector>

namespace shadowplane::planner {

struct JudgedMove {
  double confidence = 0;
  double predicted_saving = 0;  // dollars over the planning horizon
  double realized_saving = 0;   // dollars over the observed window
  bool paid_off = false;
};

struct CalibrationBucket {
  double low = 0;  // confidence in [low, high); the last bucket includes 1
  double high = 0;
  int moves = 0;
  int paid_off = 0;
  double mean_confidence = 0;
  double mean_predicted_saving = 0;
  double mean_realized_saving = 0;
  // paid_off / moves; 0 without moves.
  double paid_off_share() const { return moves == 0 ? 0 : static_cast<double>(paid_off) / moves; }
};

// Buckets of `width` over [0, 1] (10 for 0.1), every bucket listed, empty ones included.
// Confidences outside [0, 1] (or NaN) are clamped into the nearest bucket.
std::vector<CalibrationBucket> Calibrate(const std::vector<JudgedMove>& moves, double width = 0.1);

// "0.8": a bucket's label for metrics (its lower bound).
std::string BucketLabel(double confidence, double width = 0.1);

}  // namespace shadowplane::planner

#endif  // SHADOWPLANE_PLANNER_CALIBRATION_H_
