#include "sync/rsync_job.h"

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace shadowplane::sync {

namespace {

// librsync reports through its own trace hook (stderr by default): route it into our JSON log.
void TraceToLog(rs_loglevel level, char const* message) {
  std::string text(message);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  LOG_EVENT(kDebug, "librsync").Field("level", static_cast<int>(level)).Field("detail", text);
}

}  // namespace

absl::Status StatusFromRsResult(rs_result result, const char* what) {
  std::string message = absl::StrCat(what, ": ", rs_strerror(result));
  switch (result) {
    case RS_DONE:
      return absl::OkStatus();
    case RS_CORRUPT:
    case RS_BAD_MAGIC:
    case RS_INPUT_ENDED:
      return absl::DataLossError(message);
    case RS_MEM_ERROR:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

RsJob::RsJob(rs_job_t* job, const char* what, size_t output_buffer)
    : job_(job), what_(what), out_(output_buffer) {
  static std::once_flag once;
  std::call_once(once, [] { rs_trace_to(&TraceToLog); });
}

absl::Status RsJob::Feed(const char* data, size_t size, bool eof, const ByteSink& sink) {
  if (done_) {
    if (size > 0) return absl::DataLossError(absl::StrCat(what_, ": data after the end"));
    return absl::OkStatus();
  }
  rs_buffers_t buffers{};
  buffers.next_in = const_cast<char*>(data);
  buffers.avail_in = size;
  buffers.eof_in = eof ? 1 : 0;
  for (;;) {
    buffers.next_out = out_.data();
    buffers.avail_out = out_.size();
    rs_result result = rs_job_iter(job_.get(), &buffers);
    size_t produced = out_.size() - buffers.avail_out;
    if (produced > 0 && sink) {
      if (absl::Status s = sink(out_.data(), produced); !s.ok()) return s;
    }
    if (result == RS_DONE) {
      done_ = true;
      if (buffers.avail_in > 0) {
        return absl::DataLossError(absl::StrCat(what_, ": data after the end"));
      }
      return absl::OkStatus();
    }
    if (result != RS_BLOCKED) return StatusFromRsResult(result, what_);
    if (buffers.avail_in == 0 && produced == 0) {
      // The job wants more input. After eof there is none: the stream was cut short.
      if (eof) return absl::DataLossError(absl::StrCat(what_, ": truncated input"));
      return absl::OkStatus();
    }
  }
}

}  // namespace shadowplane::sync
